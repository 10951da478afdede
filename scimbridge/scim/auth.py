"""Inbound authentication: which identity provider may read or write which target.

A target accepts any of: static bearer tokens (Entra ID's "Secret Token", Okta's
"HTTP Header"), read-only static tokens, HTTP Basic (Okta's "Basic Auth"), and JWT
access tokens (:mod:`scimbridge.scim.tokens`). Every static secret is compared in
constant time, and all of them are always compared, so the time a check takes tells
nothing about which token came close. A token of one target is unknown to every other.

Refusals (RFC 6750 §3, RFC 7235):

- 401 with a ``WWW-Authenticate`` challenge for each scheme the target accepts, and
  only those. A refused JWT says why in ``error_description`` (expired, wrong audience…);
  a static token or Basic password that does not match says nothing more than
  ``invalid_token``, so as not to help a guesser. The SCIM body (RFC 7644 §3.12) says
  the same in ``detail``; neither ever quotes the credentials.
- 403 ``insufficient_scope`` for valid credentials that lack a scope or role, or that
  may only read and were sent with a write.
- 429 with ``Retry-After``, instead of the 401, for refused credentials from a client
  address that failed too often (:mod:`scimbridge.scim.throttle`). Credentials are
  checked first: good ones are never throttled, whoever shares their address.
- 503 with ``Retry-After`` when a JWT's signing keys cannot be fetched: the token may
  well be good, and an identity provider retries a 503 where it reports a 401 as wrong
  credentials.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging

from scim2_models import ForbiddenException, SCIMException, UnauthorizedException

from scimbridge.config import Inbound
from scimbridge.scim.throttle import FailureThrottle
from scimbridge.scim.tokens import (
    KeysUnreachable,
    ScopeMissing,
    TokenRefused,
    TokenValidator,
    looks_like_jwt,
)

log = logging.getLogger("scimbridge.scim")

VAGUE = "Missing or invalid credentials for this target"


class Refusal(SCIMException):
    """A refused request: its SCIM error, and the headers that tell the client what to do."""

    def __init__(self, *, detail: str, headers: dict[str, str]):
        super().__init__(detail=detail)
        self.headers = headers


class Unauthenticated(Refusal, UnauthorizedException):
    """401. ``presented``: credentials were sent, so the refusal counts as a failure."""

    def __init__(self, *, detail: str, headers: dict[str, str], presented: bool, reason: str):
        super().__init__(detail=detail, headers=headers)
        self.presented = presented
        self.reason = reason


class InsufficientScope(Refusal, ForbiddenException):
    """403: the credentials are good but may not do this."""


class TooManyFailures(Refusal):
    """429 (RFC 6585 §4): the client address failed too often; try after ``Retry-After``."""

    status = 429


class SigningKeysUnavailable(Refusal):
    """503: the signing keys of the token's issuer cannot be fetched now."""

    status = 503


def refusal_headers(exception: Exception) -> dict[str, str]:
    """The headers an error response carries for an authentication refusal, else none."""
    return dict(exception.headers) if isinstance(exception, Refusal) else {}


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


class Authenticator:
    """One target's inbound authentication, with its JWT key cache and failure throttle.

    :raises ConfigError: when built, for a JWKS file that cannot be read.
    """

    def __init__(self, target: str, inbound: Inbound):
        self.target = target
        self.inbound = inbound
        self.realm = target
        self._writers = [token.get_secret_value() for token in inbound.bearer_tokens]
        self._readers = [token.get_secret_value() for token in inbound.read_only_bearer_tokens]
        self.tokens = TokenValidator.of(inbound.jwt) if inbound.jwt is not None else None
        self.bearer = bool(self._writers or self._readers or self.tokens)
        self.throttle = FailureThrottle(
            inbound.throttle.max_failures, inbound.throttle.window_seconds
        )

    def authenticate(
        self, authorization: str | None, *, client: str | None = None, writing: bool = False
    ) -> str:
        """Return the name of the authenticated client, or refuse the request.

        :param client: the client's address (:func:`scimbridge.scim.throttle.client_address`).
        :param writing: the request may write; read-only credentials are refused for it.
        :raises Refusal: 401, 403, 429 or 503, with its headers; 429 only for credentials
            that were refused (see :mod:`scimbridge.scim.throttle`).
        """
        try:
            return self._check(authorization, writing)
        except Unauthenticated as refusal:
            if not refusal.presented:
                raise
            wait = self.throttle.retry_after(client)
            if wait is not None:
                log.info(
                    "%s: credentials from %s refused, throttled for %d s after failed "
                    "authentications: %s",
                    self.target,
                    client,
                    wait,
                    refusal.reason,
                )
                raise TooManyFailures(
                    detail=f"Too many failed authentications from this address; retry in {wait} s",
                    headers={"Retry-After": str(wait)},
                ) from None
            self.throttle.failed(client)
            log.warning("%s: credentials from %s refused: %s", self.target, client, refusal.reason)
            raise

    def _check(self, authorization: str | None, writing: bool) -> str:
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if scheme == "bearer" and credentials and self.bearer:
            return self._bearer(credentials, writing)
        if scheme == "basic" and credentials and self.inbound.basic is not None:
            return self._basic(credentials)
        presented = bool(scheme and credentials)
        reason = f"the scheme {scheme[:20]!r} is not accepted" if presented else "no credentials"
        raise Unauthenticated(
            detail=VAGUE, headers=self._challenge(), presented=presented, reason=reason
        )

    def _bearer(self, token: str, writing: bool) -> str:
        writer = _any_equal(token, self._writers)
        reader = _any_equal(token, self._readers)
        if writer:
            return "bearer"
        if reader:
            if writing:
                raise InsufficientScope(
                    detail="This token may only read: GET and searches",
                    headers=self._challenge(
                        "insufficient_scope", "the token may only read (GET and searches)"
                    ),
                )
            return "bearer (read-only)"
        if self.tokens is not None and looks_like_jwt(token):
            return self._jwt(token, writing)
        raise Unauthenticated(
            detail=VAGUE,
            headers=self._challenge("invalid_token"),
            presented=True,
            reason="no static token matches",
        )

    def _jwt(self, token: str, writing: bool) -> str:
        assert self.tokens is not None
        try:
            claims = self.tokens.validate(token, writing=writing)
        except TokenRefused as refused:
            raise Unauthenticated(
                detail=f"The access token was refused: {refused.description}",
                headers=self._challenge("invalid_token", refused.description),
                presented=True,
                reason=refused.description,
            ) from None
        except ScopeMissing as missing:
            needed = " ".join(missing.scopes + [f"role {role}" for role in missing.roles])
            raise InsufficientScope(
                detail=f"The access token lacks what this request needs: {needed}",
                headers=self._challenge(
                    "insufficient_scope",
                    "the token lacks a required scope or role",
                    scope=" ".join(missing.scopes) or None,
                ),
            ) from None
        except KeysUnreachable as unreachable:
            raise SigningKeysUnavailable(
                detail="The signing keys of the token's issuer cannot be fetched now; retry later",
                headers={"Retry-After": str(unreachable.retry_after)},
            ) from None
        subject = claims.get("sub")
        return f"jwt {subject}" if isinstance(subject, str) else "jwt"

    def _basic(self, credentials: str) -> str:
        expected = self.inbound.basic
        assert expected is not None
        pair = _basic_credentials(credentials)
        if pair is not None:
            username_ok = _equal(pair[0], expected.username)
            password_ok = _equal(pair[1], expected.password.get_secret_value())
            if username_ok and password_ok:
                return expected.username
        raise Unauthenticated(
            detail=VAGUE,
            headers=self._challenge(),
            presented=True,
            reason="the Basic credentials do not match",
        )

    def _challenge(
        self, error: str | None = None, description: str | None = None, scope: str | None = None
    ) -> dict[str, str]:
        """``WWW-Authenticate`` with a challenge for each scheme the target accepts.

        ``error``, ``error_description`` and ``scope`` are RFC 6750 §3's; the descriptions
        are this module's and :mod:`~scimbridge.scim.tokens`' own sentences, which hold no
        double quote or backslash, so they need no escaping (RFC 9110 §5.6.4).
        """
        challenges = []
        if self.bearer:
            parameters = [f'realm="{self.realm}"']
            parameters += [f'error="{error}"'] if error else []
            parameters += [f'error_description="{description}"'] if description else []
            parameters += [f'scope="{scope}"'] if scope else []
            challenges.append("Bearer " + ", ".join(parameters))
        if self.inbound.basic is not None:
            challenges.append(f'Basic realm="{self.realm}", charset="UTF-8"')
        return {"WWW-Authenticate": ", ".join(challenges)}
