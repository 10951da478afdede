"""An emulator of a vendor that issues no tokens (a static API key on every call) states
no ``token_ttl_seconds``."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify, request
from scimbridge_emulators import Rejection, VendorEmulator, build_app

KEY = "static-api-key-0123456789"


class ApiKeyEmulator(VendorEmulator):
    vendor = "apikey"
    demo_credentials = {"api_key": KEY}

    def reset_state(self) -> None:
        self.accounts: list[dict[str, Any]] = []

    def end_state(self) -> list[dict[str, Any]]:
        return list(self.accounts)

    def register_routes(self, app: Flask) -> None:
        self.route(app, "/users", self.list_users, ["GET"])

    def list_users(self) -> Any:
        return jsonify(self.end_state())

    def authenticate(self) -> None:
        if request.headers.get("X-Api-Key") != self.credentials["api_key"]:
            raise Rejection(401, "bad key")

    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        return {"msg": message}


def test_an_emulator_without_tokens_serves_its_key_holders() -> None:
    client = build_app(ApiKeyEmulator()).test_client()

    assert client.get("/users", headers={"X-Api-Key": KEY}).status_code == 200
    assert client.get("/users", headers={"X-Api-Key": "wrong"}).status_code == 401


def test_an_emulator_without_tokens_refuses_to_issue_one() -> None:
    emulator = ApiKeyEmulator()

    with pytest.raises(ValueError, match="issues no tokens"):
        emulator.tokens.issue()
