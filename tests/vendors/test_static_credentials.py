"""The static-credential flavour (:class:`~scimbridge.vendors.http.StaticCredentialsClient`):
an API key sent on every call, as HTTP Basic or in a header of the vendor's naming, with no
login; the key, declared secret, never shows in a message or a log line."""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
from collections.abc import Iterator
from importlib import metadata
from typing import Any, ClassVar

import pytest
import yaml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from scimbridge.config import BridgeConfig, ConfigError, parse_config
from scimbridge.observability.logs import configure_logging, configured_secrets
from scimbridge.vendors import client_for, plugin
from scimbridge.vendors.base import AccountPage, DeliveryItem, Outcome, VendorAccount, VendorError
from scimbridge.vendors.http import StaticCredentialsClient, json_object, succeeded
from scimbridge.vendors.plugin import VendorPlugin, forget_plugins

KEY = "zk-4f9a0c1d2e3b4a5f6e7d8c9b"
USER = "bot@example.com"


class KeyedClient(StaticCredentialsClient):
    """A vendor taking its API key over HTTP Basic, its bot's address as the user name."""

    vendor = "keyed"
    max_batch = 1
    read_back = "list"

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        return [succeeded(item, None) for item in items]

    def accounts(self, cursor: str | None = None) -> AccountPage:
        listed = json_object(self.call("GET", "/users"))["users"]
        return AccountPage([VendorAccount(str(user), {}, True) for user in listed], None)


class HeaderClient(KeyedClient):
    """The same vendor, the key in ``X-Api-Key``."""

    vendor = "keyed-header"
    credential_header: ClassVar[str | None] = "X-Api-Key"


def plugin_of(client: type[KeyedClient]) -> VendorPlugin:
    shipped = plugin.vendor_plugin("rocketchat")
    return VendorPlugin(
        client.vendor, "Keyed", client, shipped.record_schema, shipped.default_mapping
    )


KEYED = plugin_of(KeyedClient)
HEADER = plugin_of(HeaderClient)


@pytest.fixture
def keyed_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The two test vendors beside the installed ones (discovery forgotten before and after)."""
    forget_plugins()
    found = dict(plugin._entry_points())
    for name, attribute in (("keyed", "KEYED"), ("keyed-header", "HEADER")):
        entry = metadata.EntryPoint(name, f"{__name__}:{attribute}", plugin.ENTRY_POINT_GROUP)
        found[name] = [entry]
    monkeypatch.setattr(plugin, "_entry_points", lambda: found)
    yield
    monkeypatch.undo()
    forget_plugins()


class Vendor:
    """A vendor that lists its users to the right key and answers ``/echo`` with a 400 whose
    error text repeats the request's credentials, as some vendors' errors do."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.seen.append(dict(request.headers))
        basic = f"Basic {base64.b64encode(f'{USER}:{KEY}'.encode()).decode()}"
        authorised = request.headers.get("Authorization") == basic or (
            request.headers.get("X-Api-Key") == KEY
        )
        if request.path == "/echo":
            shown = request.headers.get("Authorization") or request.headers.get("X-Api-Key")
            body = {"error": f"malformed request with credentials {shown} (key {KEY})"}
            response = Response(json.dumps(body), 400, content_type="application/json")
        elif not authorised:
            response = Response('{"error": "bad key"}', 401, content_type="application/json")
        else:
            response = Response('{"users": ["u1"]}', 200, content_type="application/json")
        return response(environ, start_response)


@pytest.fixture
def vendor() -> Iterator[tuple[Vendor, str]]:
    app = Vendor()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def config(base_url: str, vendor: str = "keyed", **credentials: str) -> BridgeConfig:
    document = {
        "targets": [
            {
                "name": "team",
                "vendor": vendor,
                "base_url": base_url,
                "credentials": credentials or {"username": USER, "api_key": KEY},
                "inbound": {"bearer_tokens": ["a-scim-token-0123456789"]},
            }
        ]
    }
    return parse_config(yaml.safe_dump(document))


def test_the_api_key_travels_as_http_basic_with_the_user_name(keyed_plugins, vendor):
    app, url = vendor
    client = client_for(config(url).targets[0])
    assert [account.vendor_id for account in client.accounts().accounts] == ["u1"]
    sent = app.seen[-1]["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(sent).decode() == f"{USER}:{KEY}"


def test_the_api_key_travels_in_the_header_the_vendor_names(keyed_plugins, vendor):
    app, url = vendor
    client = client_for(config(url, "keyed-header", api_key=KEY).targets[0])
    assert [account.vendor_id for account in client.accounts().accounts] == ["u1"]
    assert app.seen[-1]["X-Api-Key"] == KEY
    assert "Authorization" not in app.seen[-1]


def test_a_refused_key_is_a_vendor_error(keyed_plugins, vendor):
    _, url = vendor
    client = client_for(config(url, username=USER, api_key="zk-not-the-key-0123456").targets[0])
    with pytest.raises(VendorError, match="401"):
        client.accounts()


def test_a_target_without_its_api_key_is_refused(keyed_plugins):
    with pytest.raises(ConfigError, match=r"credentials\.api_key: required, not set"):
        config("http://127.0.0.1:9", username=USER)


@pytest.mark.parametrize("vendor_name", ["keyed", "keyed-header"])
def test_the_api_key_never_appears_in_an_error_message(keyed_plugins, vendor, vendor_name):
    _, url = vendor
    client = client_for(config(url, vendor_name, username=USER, api_key=KEY).targets[0])
    with pytest.raises(VendorError) as refused:
        client.call("GET", "/echo")
    message = str(refused.value)
    assert "[redacted]" in message
    assert KEY not in message
    assert base64.b64encode(f"{USER}:{KEY}".encode()).decode() not in message


def test_the_api_key_never_appears_in_a_log_line(keyed_plugins):
    configured = config("http://127.0.0.1:9")
    stream = io.StringIO()
    handler = configure_logging("INFO", "text", configured_secrets(configured), stream)
    try:
        logging.getLogger("scimbridge.test").warning("the vendor said: bad key %s", KEY)
    finally:
        logging.getLogger().removeHandler(handler)
    assert "the vendor said: bad key [redacted]" in stream.getvalue()
    assert KEY not in stream.getvalue()
