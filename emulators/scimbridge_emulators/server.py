"""Serving an emulator on loopback in a daemon thread, with its test controls at hand."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, cast
from urllib.parse import urljoin

from werkzeug.serving import BaseWSGIServer, make_server

from scimbridge_emulators.base import EXTENSION_KEY, VendorEmulator


def absolute_credentials(credentials: dict[str, str], origin: str) -> dict[str, str]:
    """Credentials with relative URLs (``token_url: /connect/token``) made absolute against ``origin``.

    The demo credentials hold token URLs as absolute paths because the port is
    only known once the emulator runs; a client resolves them the same way,
    ``urljoin(base_url, token_url)``.
    """
    return {
        key: urljoin(origin, value) if key.endswith("_url") and value.startswith("/") else value
        for key, value in credentials.items()
    }


class RunningEmulator:
    """An emulator served by werkzeug (threaded) in a daemon thread; :meth:`stop` ends it."""

    def __init__(self, emulator: VendorEmulator, server: BaseWSGIServer):
        self.emulator = emulator
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"emulator-{emulator.vendor}", daemon=True
        )
        self._thread.start()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``: where the control endpoints and token URLs live."""
        host, port = self._server.server_address[:2]
        # an AF_INET(6) socket's name has a str host; typeshed's type for it allows bytes
        return f"http://{cast(str, host)}:{port}"

    @property
    def url(self) -> str:
        """The base URL a target configures, the vendor's path prefix included
        (``/confide`` for Confide, ``/suite-api`` for Aria, none for the others)."""
        return self.origin + self.emulator.url_prefix

    @property
    def credentials(self) -> dict[str, str]:
        return absolute_credentials(self.emulator.credentials, self.origin)

    def users(self) -> list[dict[str, Any]]:
        return self.emulator.users()

    def requests(self, path_contains: str | None = None) -> list[dict[str, Any]]:
        return self.emulator.requests(path_contains)

    def request_counts(self) -> dict[str, int]:
        """Requests per endpoint, keyed ``"POST /construction/admin/v2/projects/<project_id>/users:import"``."""
        return self.emulator.request_counts()

    @property
    def fault(self) -> Callable[..., None]:
        """Queue a fault (:meth:`VendorEmulator.fault <scimbridge_emulators.base.VendorEmulator.fault>`)."""
        return self.emulator.fault

    def expire_tokens(self) -> None:
        self.emulator.expire_tokens()

    def reject_users(self, identities: Iterable[str]) -> None:
        self.emulator.reject_users(identities)

    def admin_change(self, name: str, /, **changes: Any) -> dict[str, Any]:
        """Change an account as the vendor's admin would (:meth:`VendorEmulator.admin_change
        <scimbridge_emulators.base.VendorEmulator.admin_change>`)."""
        return self.emulator.admin_change(name, changes)

    def admin_create(self, **fields: Any) -> dict[str, Any]:
        """Create an account unrelated to the bridge, as the vendor's admin would."""
        return self.emulator.admin_create(fields)

    def reset(self) -> None:
        self.emulator.reset()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningEmulator:
    server = make_server(host, port, app, threaded=True)
    return RunningEmulator(app.extensions[EXTENSION_KEY], server)
