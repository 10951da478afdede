"""Inbound authentication: which identity provider may write to which target.

Entra ID sends a static bearer "secret token"; Okta sends a bearer token or
HTTP Basic credentials. Every candidate secret is compared in constant time,
and all of them are always compared, so the time a check takes tells nothing
about which token came close. A token of one target is unknown to every other.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from scim2_models import UnauthorizedException

from scimbridge.config import Inbound


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _any_equal(given: str, candidates: list[str]) -> bool:
    matches = [_equal(given, candidate) for candidate in candidates]
    return any(matches)


def _basic_credentials(value: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else None


def authenticate(authorization: str | None, inbound: Inbound) -> str:
    """Return the name of the authenticated client, or refuse the request.

    :raises UnauthorizedException: a 401 that never says why, so as not to
        help a guesser (RFC 7644 §3.12 lets the detail be vague).
    """
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        tokens = [token.get_secret_value() for token in inbound.bearer_tokens]
        if _any_equal(credentials, tokens):
            return "bearer"
    elif scheme.lower() == "basic" and inbound.basic is not None:
        pair = _basic_credentials(credentials)
        if pair is not None:
            expected = inbound.basic
            username_ok = _equal(pair[0], expected.username)
            password_ok = _equal(pair[1], expected.password.get_secret_value())
            if username_ok and password_ok:
                return expected.username
    raise UnauthorizedException(detail="Missing or invalid credentials for this target")
