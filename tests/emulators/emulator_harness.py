"""Emulators under test, each driven through Flask's test client, with a valid token at hand."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from scimbridge_emulators import create_emulator, demo_credentials, demo_options
from scimbridge_emulators.base import EXTENSION_KEY, VendorEmulator
from werkzeug.test import TestResponse


@dataclass
class Emulated:
    """An emulator and a client of its app; ``headers`` authenticate as the demo client."""

    emulator: VendorEmulator
    client: FlaskClient
    headers: dict[str, str]

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)


def emulated(vendor: str, **options: Any) -> tuple[VendorEmulator, FlaskClient]:
    app = create_emulator(vendor, **options)
    return app.extensions[EXTENSION_KEY], app.test_client()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


CONFIDE = demo_credentials("confide")
ACC = demo_credentials("acc")
ARIA = demo_credentials("aria")
ROCKETCHAT = demo_credentials("rocketchat")
CLOUDSHELL = demo_credentials("cloudshell")
ACC_PROJECT = demo_options("acc")["project_id"]
ARIA_SOURCE = demo_options("aria")["auth_source_id"]


def request_confide_token(client: FlaskClient) -> TestResponse:
    """The client-credentials request with the secret in the form (client_secret_post)."""
    return client.post(
        "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CONFIDE["client_id"],
            "client_secret": CONFIDE["client_secret"],
            "scope": CONFIDE["scope"],
        },
    )


def confide_token(client: FlaskClient) -> str:
    return request_confide_token(client).get_json()["access_token"]


def acc_token(client: FlaskClient, scope: str = "account:read account:write") -> str:
    response = client.post(
        "/authentication/v2/token",
        data={"grant_type": "client_credentials", "scope": scope},
        headers={"Authorization": basic(ACC["client_id"], ACC["client_secret"])},
    )
    return response.get_json()["access_token"]


def aria_token(client: FlaskClient) -> str:
    response = client.post(
        "/suite-api/api/auth/token/acquire",
        json={"username": ARIA["username"], "password": ARIA["password"], "authSource": "LOCAL"},
        headers={"Accept": "application/json"},
    )
    return response.get_json()["token"]


def cloudshell_token(client: FlaskClient) -> str:
    response = client.put(
        "/Api/Auth/Login",
        json={
            "Username": CLOUDSHELL["username"],
            "Password": CLOUDSHELL["password"],
            "Domain": "Global",
        },
    )
    return response.get_json()


SIGN_IN: dict[str, Callable[[FlaskClient], dict[str, str]]] = {
    "confide": lambda client: {"Authorization": f"Bearer {confide_token(client)}"},
    "acc": lambda client: {
        "Authorization": f"Bearer {acc_token(client)}",
        "User-Id": ACC["user_id"],
    },
    "aria": lambda client: {
        "Authorization": f"OpsToken {aria_token(client)}",
        "Accept": "application/json",
    },
    "rocketchat": lambda _client: {
        "X-User-Id": ROCKETCHAT["user_id"],
        "X-Auth-Token": ROCKETCHAT["auth_token"],
    },
    "cloudshell": lambda client: {"Authorization": f"Basic {cloudshell_token(client)}"},
}
"""How the demo client authenticates to each vendor: the headers of its calls."""


def signed_in(vendor: str, **options: Any) -> Emulated:
    """A fresh emulator of ``vendor`` (built with ``options``) and a signed-in client."""
    emulator, client = emulated(vendor, **options)
    return Emulated(emulator, client, SIGN_IN[vendor](client))
