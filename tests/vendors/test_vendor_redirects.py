"""Vendor calls never follow redirects (issue 22, item 5).

A vendor API documents no redirect. Following one would carry the credential headers
requests keeps across hosts (Rocket.Chat's ``X-Auth-Token``/``X-User-Id``, ACC's
``User-Id``; the client secret of a token request) to another host, and read that
host's answer as the vendor's. Each test delivers for real through a bridge whose
target's ``base_url`` (or token URL) answers every request with a 302 to a second
loopback server that records whatever reaches it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml
from authlib.oauth2.rfc6749 import OAuth2Token
from flask import Flask
from scimbridge_emulators import RunningEmulator
from sqlalchemy import select

from scimbridge.app import Bridge
from scimbridge.config import parse_config
from scimbridge.delivery.worker import Worker
from scimbridge.store.delivery_tables import outbox
from scimbridge.testing.live import TOKEN, live_config, scim_user
from scimbridge.vendors import client_for
from scimbridge.vendors.base import VendorUnavailable

REDIRECTED_VENDORS = {"rocketchat": "failed", "acc": "failed", "aria": "unavailable"}
"""Each vendor's credentials (Aria's in the body of its login), and what a redirect makes of
the user: a refusal, or, for a login, a configuration problem retried like refused credentials."""


class Recorder:
    """A loopback server that records every request (method, path, headers) and answers
    what a vendor's success could look like, so that a client that read it would be fooled."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                recorder.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length).decode(errors="replace"),
                    }
                )
                body = json.dumps(
                    {"success": True, "access_token": "forged", "expires_in": 3600}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

            def log_message(self, *args: Any) -> None:
                return None

        self.server = serve(Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"


class Redirector:
    """A loopback server answering every request with a ``status`` redirect to ``location``."""

    def __init__(self, status: int, location: str) -> None:
        self.status = status

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

            def log_message(self, *args: Any) -> None:
                return None

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.server.shutdown()


@pytest.fixture(params=[302, 307])
def redirector(request: pytest.FixtureRequest, recorder: Recorder) -> Iterator[Redirector]:
    """Redirects to the recorder, with a path and query a Location may carry (a token); a 307
    would have the request sent again as it is, body included (RFC 9110 §15.4.8)."""
    redirector = Redirector(request.param, f"http://{recorder.host}/collect?session=s3cr3t-query")
    yield redirector
    redirector.server.shutdown()


Deliver = Callable[..., dict[str, Any]]


@pytest.fixture
def deliver_once(tmp_path: Any, emulators: dict[str, RunningEmulator]) -> Iterator[Deliver]:
    """Write one user to a bridge whose target is changed as asked, run one delivery round,
    and return the user's outbox entry."""
    bridges: list[Bridge] = []

    def deliver(vendor: str, **target: Any) -> dict[str, Any]:
        emulators[vendor].reset()
        # a client that followed the redirect would poll the forged answer: briefly
        document = live_config(tmp_path, emulators[vendor], vendor, options={"max_polls": 3})
        for key, value in target.items():
            current = document["targets"][0][key]
            document["targets"][0][key] = {**current, **value} if isinstance(value, dict) else value
        bridge = Bridge(parse_config(yaml.safe_dump(document)))
        bridges.append(bridge)
        app = Flask("redirected")
        bridge.init_app(app)
        written = app.test_client().post(
            f"/scim/v2/{vendor}/Users",
            json=scim_user("ada"),
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert written.status_code == 201, written.json
        Worker(bridge.config, bridge.database, bridge.mappings).run_once()
        with bridge.database.transaction() as session:
            return dict(session.execute(select(outbox)).one()._mapping)

    yield deliver
    for bridge in bridges:
        bridge.database.dispose()


@pytest.mark.parametrize("vendor", sorted(REDIRECTED_VENDORS))
def test_a_redirected_vendor_call_sends_nothing_to_the_host_it_points_to(
    vendor, deliver_once, redirector, recorder
):
    deliver_once(vendor, base_url=redirector.url)
    assert recorder.seen == []


@pytest.mark.parametrize("vendor", sorted(REDIRECTED_VENDORS))
def test_a_redirected_vendor_call_fails_the_user_naming_the_host_it_points_to(
    vendor, deliver_once, redirector, recorder
):
    entry = deliver_once(vendor, base_url=redirector.url)
    assert (entry["state"], entry["error_kind"]) == ("pending", REDIRECTED_VENDORS[vendor])
    assert entry["last_error"].endswith(
        f"answered HTTP {redirector.status}, a redirect to {recorder.host}; "
        "vendor calls never follow redirects (check the target's base_url)"
    )


def test_a_redirected_token_request_sends_the_client_secret_nowhere(
    deliver_once, redirector, recorder
):
    entry = deliver_once("acc", credentials={"token_url": f"{redirector.url}/token"})
    assert recorder.seen == []
    assert (entry["state"], entry["error_kind"]) == ("pending", "unavailable")
    assert entry["last_error"] == (
        f"acc: the token endpoint answered HTTP {redirector.status}, a redirect to {recorder.host}; vendor "
        "calls never follow redirects (check the target's credentials.token_url)"
    )


def test_a_token_authlib_renews_in_passing_is_never_redirected(
    emulators, redirector, recorder, tmp_path
):
    """authlib renews an expiring token inside a request, where no ``allow_redirects`` reaches:
    the client's session follows no redirect whoever sends on it."""
    emulator = emulators["acc"]
    document = live_config(tmp_path, emulator, "acc")
    document["targets"][0]["credentials"]["token_url"] = f"{redirector.url}/token"
    client = client_for(parse_config(yaml.safe_dump(document)).target("acc"))
    expired = datetime.now(UTC) - timedelta(hours=1)
    client.oauth.token = OAuth2Token(
        {"access_token": "old", "token_type": "Bearer", "expires_at": int(expired.timestamp())}
    )
    client.oauth.metadata["grant_type"] = "client_credentials"
    with pytest.raises(VendorUnavailable, match=f"a redirect to {recorder.host}; "):
        client.http.get(f"{emulator.url}/construction/admin/v1/projects/p/users", timeout=5)
    client.close()
    assert recorder.seen == []
