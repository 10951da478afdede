"""JWT access tokens (RFC 9068) as OAuth 2.0 bearer tokens (RFC 6750): signature, claims, scopes.

The checks, in order, each refusing with a sentence that says which one failed (the
``error_description`` of RFC 6750 §3), never with the token itself:

1. the token is a JWS in compact form whose ``alg`` is one of the target's algorithms.
   The algorithm is read from the token but only ever chosen among the configured ones,
   and a JWKS key is only ever used with the algorithm family of its key type: a token
   with ``alg: none``, or an HS256 token "signed" with the issuer's public key as the
   HMAC secret (the classic key-confusion forgery), is refused;
2. the key its ``kid`` names is one the issuer publishes (the JWKS, fetched and cached
   by :class:`JwksUrl`, or a file, or the shared HMAC secret), and the signature
   verifies with it;
3. ``iss`` is one of the issuers, ``aud`` names one of the audiences, ``exp`` is present
   and not past, ``nbf`` and ``iat`` are not ahead, each give or take the leeway; with the
   Entra ID preset, ``tid`` is the tenant;
4. the token carries the required scopes (``scp`` or ``scope``) and roles (``roles``),
   and, for a write, the write scopes and roles: else 403 ``insufficient_scope``.

RFC 9068 §4 also asks for the ``typ`` header ``at+jwt``; Entra ID and Okta send ``JWT``,
so ``typ`` is not checked, and the audience check is what keeps an ID token or a token
meant for another API out.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests
from joserfc import jws
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet, OctKey
from joserfc.jwt import JWTClaimsRegistry

from scimbridge.config import ConfigError, JwtInbound

log = logging.getLogger("scimbridge.scim")

MAX_JWKS_BYTES = 1_048_576
"""The largest JWKS accepted: Entra ID's is about 10 KB."""

JWKS_TIMEOUT = (5.0, 10.0)
"""Connect and read timeouts of a JWKS fetch. Requests needing a key wait for the fetch,
so it is short."""

CLAIM_REFUSALS = {
    "iss": "the token's issuer (iss) is not one this target accepts",
    "aud": "the token's audience (aud) is not this target",
    "nbf": "the token is not valid yet (nbf)",
    "iat": "the token was issued in the future (iat)",
    "exp": "the token's expiry (exp) is not a date",
}


class TokenRefused(Exception):
    """The token is not accepted: a 401 ``invalid_token``.

    :param description: why, for the client and the log; it never quotes the token.
    """

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


class ScopeMissing(Exception):
    """The token is valid but lacks scopes or roles: a 403 ``insufficient_scope``."""

    def __init__(self, scopes: list[str], roles: list[str]):
        super().__init__(" ".join(scopes + roles))
        self.scopes = scopes
        self.roles = roles


class KeysUnreachable(Exception):
    """The issuer's keys cannot be had now, so no token can be checked: a 503, not a 401,
    because nothing says the token is wrong, and an identity provider retries a 503.

    :param retry_after: seconds until the keys are fetched again.
    """

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


KeyFilter = Callable[[Key], bool]
"""Whether a key may verify the token's algorithm (key type, curve, ``use``, ``alg``)."""


class KeySource(Protocol):
    def lookup(self, kid: str | None, usable: KeyFilter) -> Key:
        """The key that verifies a token naming ``kid`` (or none).

        :raises TokenRefused: no such key.
        :raises KeysUnreachable: the keys cannot be had now.
        """
        ...


def _pick(keys: KeySet | None, kid: str | None, usable: KeyFilter) -> Key | None:
    """The usable key of that ``kid``; without a ``kid``, the only usable key, if one."""
    candidates = [key for key in (keys or ()) if usable(key)]
    if kid is not None:
        candidates = [key for key in candidates if key.kid == kid]
    elif len(candidates) != 1:
        return None
    return candidates[0] if candidates else None


def parse_jwks(data: bytes | str) -> KeySet:
    """The signing keys of a JWKS document; encryption and symmetric keys are left out.

    :raises ValueError: not a JWKS, or one without a usable signing key.
    """
    try:
        document = json.loads(data)
    except ValueError:
        raise ValueError("the JWKS is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("the JWKS has no 'keys' list")
    keys = [
        entry
        for entry in document["keys"]
        if isinstance(entry, dict)
        and entry.get("use", "sig") == "sig"
        and entry.get("kty") != "oct"
    ]
    try:
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError) as error:
        raise ValueError(f"the JWKS holds no usable signing key ({type(error).__name__})") from None


def fetch_jwks(url: str) -> KeySet:
    """GET the JWKS at ``url``: no redirect followed, at most :data:`MAX_JWKS_BYTES`.

    :raises requests.RequestException: the URL cannot be reached.
    :raises ValueError: the answer is not a JWKS.
    """
    with requests.get(
        url,
        timeout=JWKS_TIMEOUT,
        stream=True,
        allow_redirects=False,
        headers={"Accept": "application/json"},
    ) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
    return parse_jwks(body)


class JwksUrl:
    """The keys an issuer publishes at a URL, fetched on demand and cached.

    - The first token fetches the keys; they are kept ``cache_seconds``, then fetched again.
    - A token naming a key not held fetches them again at once (Entra ID rolls its keys
      over without notice), but never sooner than ``refresh_seconds`` after the previous
      fetch: tokens with made-up ``kid`` values cannot turn the bridge into a crawler.
    - A fetch that fails keeps the keys held (they keep working) and is retried after
      ``refresh_seconds``. Without any key held, tokens get :class:`KeysUnreachable`.

    One lock guards the cache, the fetch included: requests arriving while the keys are
    fetched wait for that one fetch rather than each starting their own.
    """

    def __init__(
        self,
        url: str,
        cache_seconds: float,
        refresh_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = url
        self.cache_seconds = cache_seconds
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._expires = 0.0
        self._attempted: float | None = None
        self._failing = False

    def lookup(self, kid: str | None, usable: KeyFilter) -> Key:
        with self._lock:
            now = self._clock()
            if self._keys is None or now >= self._expires:
                self._fetch(now)
            key = _pick(self._keys, kid, usable)
            if key is None:
                self._fetch(now)
                key = _pick(self._keys, kid, usable)
            if key is not None:
                return key
            if self._keys is None or self._failing:
                raise KeysUnreachable(self._retry_after(now))
        raise TokenRefused("the token is signed with a key the issuer does not publish (kid)")

    def _retry_after(self, now: float) -> int:
        waited = now - (self._attempted if self._attempted is not None else now)
        return max(1, round(self.refresh_seconds - waited))

    def _fetch(self, now: float) -> None:
        if self._attempted is not None and now - self._attempted < self.refresh_seconds:
            return
        self._attempted = now
        try:
            keys = fetch_jwks(self.url)
        except (requests.RequestException, ValueError) as error:
            self._failing = True
            log.warning(
                "the signing keys at %s cannot be fetched (%s: %s); %s",
                self.url,
                type(error).__name__,
                error,
                "the keys fetched before stay in use" if self._keys else "no token can be checked",
            )
            return
        self._keys, self._expires, self._failing = keys, now + self.cache_seconds, False
        log.info("fetched %d signing keys from %s", len(keys.keys), self.url)


class JwksFile:
    """Keys from a JWKS file, read again whenever the file changes (its mtime)."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        try:
            self._stamp = os.stat(path).st_mtime_ns
            with open(path, encoding="utf-8") as file:
                self._keys = parse_jwks(file.read())
        except (OSError, ValueError) as error:
            raise ConfigError(f"jwt.jwks_file {path}: {error}") from None

    def lookup(self, kid: str | None, usable: KeyFilter) -> Key:
        with self._lock:
            self._reload_if_changed()
            key = _pick(self._keys, kid, usable)
        if key is None:
            raise TokenRefused("the token is signed with a key the JWKS file does not hold (kid)")
        return key

    def _reload_if_changed(self) -> None:
        try:
            stamp = os.stat(self.path).st_mtime_ns
            if stamp == self._stamp:
                return
            with open(self.path, encoding="utf-8") as file:
                keys = parse_jwks(file.read())
        except (OSError, ValueError) as error:
            log.warning(
                "the JWKS file %s cannot be read again (%s); the keys read before stay in use",
                self.path,
                error,
            )
            return
        self._keys, self._stamp = keys, stamp
        log.info("read %d signing keys from %s", len(keys.keys), self.path)


class SharedSecret:
    """The one HMAC key shared with the issuer."""

    def __init__(self, secret: str):
        self._key = OctKey.import_key(secret.encode())

    def lookup(self, kid: str | None, usable: KeyFilter) -> Key:
        if not usable(self._key):
            raise TokenRefused("the token is not signed with the shared secret")
        return self._key


def key_source(config: JwtInbound) -> KeySource:
    """Where a target's token keys come from: its JWKS URL, JWKS file or HMAC secret.

    :raises ConfigError: the JWKS file cannot be read; a URL is not fetched before a
        token needs it, so an unreachable issuer never stops start-up.
    """
    if config.hmac_secret is not None:
        return SharedSecret(config.hmac_secret.get_secret_value())
    if config.jwks_file is not None:
        return JwksFile(config.jwks_file)
    url = config.keys_url
    assert url is not None, "JwtInbound's validator requires a key source"
    return JwksUrl(url, config.jwks_cache_seconds, config.jwks_refresh_seconds)


def _strings(value: Any) -> list[str]:
    """A claim that is a space-separated string (RFC 9068 ``scope``) or a list (Okta's ``scp``)."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class TokenValidator:
    """One target's JWT checks (the module's docstring lists them)."""

    def __init__(self, config: JwtInbound, keys: KeySource):
        self.config = config
        self.keys = keys
        self.algorithms = config.accepted_algorithms
        self.registry = jws.JWSRegistry(algorithms=self.algorithms)
        self.tenant = config.entra_tenant.lower() if config.entra_tenant else None

    @classmethod
    def of(cls, config: JwtInbound) -> TokenValidator:
        return cls(config, key_source(config))

    def validate(self, token: str, *, writing: bool) -> dict[str, Any]:
        """The claims of an accepted token.

        :param writing: the request may write, so the write scopes and roles count too.
        :raises TokenRefused: 401 ``invalid_token``.
        :raises ScopeMissing: 403 ``insufficient_scope``.
        :raises KeysUnreachable: 503.
        """
        claims = self._verified_claims(token)
        self._check_claims(claims)
        self._check_permissions(claims, writing)
        return claims

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            signed = jws.extract_compact(token.encode("ascii"), registry=self.registry)
            header = signed.headers()
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise TokenRefused("the token is not a well-formed signed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise TokenRefused("the token's signing algorithm (alg) is not accepted")
        if "crit" in header:
            raise TokenRefused("the token names critical header parameters (crit)")
        model = self.registry.get_alg(algorithm)

        def usable(key: Key) -> bool:
            try:
                model.check_key(key)
            except JoseError:
                return False
            return True

        kid = header.get("kid")
        key = self.keys.lookup(kid if isinstance(kid, str) else None, usable)
        try:
            verified = jws.validate_compact(signed, key, registry=self.registry)
        except JoseError:
            verified = False
        if not verified:
            raise TokenRefused("the token's signature does not verify")
        try:
            claims = json.loads(signed.payload)
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            raise TokenRefused("the token's payload is not a JSON object of claims")
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        registry = JWTClaimsRegistry(
            leeway=int(self.config.leeway_seconds),
            iss={"essential": True, "values": self.config.issuers},
            aud={"essential": True, "values": self.config.audiences},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise TokenRefused("the token has expired (exp)") from None
        except MissingClaimError as error:
            raise TokenRefused(f"the token has no {error.claim} claim") from None
        except ClaimError as error:
            refusal = CLAIM_REFUSALS.get(error.claim, f"the token's {error.claim} claim is invalid")
            raise TokenRefused(refusal) from None
        if self.tenant is not None and str(claims.get("tid", "")).lower() != self.tenant:
            raise TokenRefused("the token was issued for another Entra ID tenant (tid)")

    def _check_permissions(self, claims: dict[str, Any], writing: bool) -> None:
        scopes = set(_strings(claims.get("scp"))) | set(_strings(claims.get("scope")))
        roles = set(_strings(claims.get("roles")))
        wanted_scopes = list(self.config.required_scopes)
        wanted_roles = list(self.config.required_roles)
        if writing:
            wanted_scopes += self.config.write_scopes
            wanted_roles += self.config.write_roles
        missing_scopes = [scope for scope in wanted_scopes if scope not in scopes]
        missing_roles = [role for role in wanted_roles if role not in roles]
        if missing_scopes or missing_roles:
            raise ScopeMissing(missing_scopes, missing_roles)


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: worth checking as a JWT rather than as a static token."""
    return token.count(".") == 2
