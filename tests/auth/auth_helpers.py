"""What the inbound authentication tests share: an issuer with real keys, a JWKS served over
real HTTP on 127.0.0.1, and the bridge built from a configuration around one target.

Imported by name from the test modules (conftest.py cannot be).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flask import Flask
from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

from scimbridge.app import create_app
from scimbridge.config import parse_config

TARGET = "idp"
ISSUER = "https://issuer.example.com/oauth2/default"
AUDIENCE = "api://scimbridge"
STATIC_TOKEN = "static-scim-token-4b7e9d1c2a"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"})


def jwks(*keys: Key) -> dict[str, Any]:
    """The public JWKS of ``keys``, as an issuer publishes it."""
    return {"keys": [key.as_dict(private=False) for key in keys]}


def claims(**overrides: Any) -> dict[str, Any]:
    """The claims of a good access token for the test target; ``None`` removes a claim."""
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "provisioning-client",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "scp": "scim.read scim.write",
    }
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


def sign(key: Key, alg: str = "RS256", **overrides: Any) -> str:
    """A JWT signed with ``key``, its ``kid`` in the header."""
    header = {"alg": alg, "kid": key.kid}
    return jwt.encode(header, claims(**overrides), key, algorithms=[alg])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(**overrides: Any) -> str:
    """A token with ``alg: none`` and no signature (RFC 7519 §6's unsecured JWT)."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims(**overrides)).encode())}."


def hmac_signed(secret: bytes, kid: str | None = None, **overrides: Any) -> str:
    """An HS256 token signed with ``secret``, computed by hand so that any bytes can be the
    secret, such as an RSA public key in PEM: the key-confusion forgery."""
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = (
        f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims(**overrides)).encode())}"
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@dataclass
class JwksServer:
    """A JWKS endpoint: what it serves can change, it can fail, and it counts its fetches."""

    document: dict[str, Any]
    status: int = 200
    fetches: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, *keys: Key) -> None:
        with self.lock:
            self.document = jwks(*keys)


@contextmanager
def jwks_server(*keys: Key) -> Iterator[JwksServer]:
    state = JwksServer(jwks(*keys))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.fetches += 1
                status, body = state.status, json.dumps(state.document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests count fetches instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/keys"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def jwt_settings(url: str, **overrides: Any) -> dict[str, Any]:
    """The target's ``inbound.jwt`` section for the test issuer."""
    return {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_url": url,
        "jwks_refresh_seconds": 1,
        **overrides,
    }


def build_app(tmp_path: Path, inbound: dict[str, Any], **settings: Any) -> Flask:
    """The bridge with one target, ``idp``, authenticating as ``inbound`` says."""
    document = {
        "database": f"sqlite:///{tmp_path / 'bridge.db'}",
        "worker": False,
        "log_level": "INFO",
        "targets": [
            {
                "name": TARGET,
                "vendor": "cloudshell",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"username": "admin", "password": "cloudshell-password"},
                "inbound": inbound,
            }
        ],
        **settings,
    }
    return create_app(parse_config(json.dumps(document)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def new_user(name: str = "ada@example.com") -> dict[str, Any]:
    return {"schemas": [USER_SCHEMA], "userName": name}
