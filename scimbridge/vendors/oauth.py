"""Vendors whose API takes an OAuth 2 client-credentials token (RFC 6749 §4.4): Confide and ACC.

The token comes from authlib's :class:`OAuth2Session`, which is also the HTTP
session that sends it (``Authorization: Bearer``, RFC 6750 §2.1). Neither
vendor issues refresh tokens, so a token about to expire is fetched anew
before the next call, and a 401 fetches one once more (:meth:`HttpVendorClient.call`).
A token request is never redirected (:class:`OAuthSession`): a 3xx is refused before
the client secret (Basic or in the body, RFC 6749 §2.3.1) could be sent to the host it
points to.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from scimbridge.config import Target
from scimbridge.vendors.base import CredentialsRefused, VendorUnavailable
from scimbridge.vendors.http import (
    CREDENTIAL_REFUSALS,
    HttpVendorClient,
    error_text,
    redirect_refused,
)
from scimbridge.vendors.settings import Setting, Settings

TOKEN_LEEWAY_SECONDS = 60
"""Renew a token this long before it expires, so a call never leaves with a dying one."""


class OAuthSession(OAuth2Session):
    """authlib's session, which follows no redirect, whoever sends on it.

    :meth:`HttpVendorClient.call` and :meth:`OAuthClientCredentialsClient.authenticate`
    say ``allow_redirects=False``; authlib also fetches a token by itself, inside a request
    whose token is about to expire (``ensure_active_token``), where no such argument
    reaches. Here every 3xx is handed back as the answer, which the compliance hook
    refuses (:meth:`OAuthClientCredentialsClient._check_token_response`).
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


class OAuthClientCredentialsClient(HttpVendorClient):
    """A client whose ``credentials`` hold ``client_id``, ``client_secret``, ``token_url`` and ``scope``."""

    token_endpoint_auth_method: ClassVar[str]
    """``client_secret_basic`` or ``client_secret_post`` (RFC 6749 §2.3.1), as the vendor documents."""
    default_scope: ClassVar[str]
    settings = HttpVendorClient.settings + Settings(
        credentials=(
            Setting("client_id", "The OAuth 2 client id (RFC 6749 §2.2).", required=True),
            Setting(
                "client_secret",
                "The OAuth 2 client secret (RFC 6749 §2.3.1).",
                required=True,
                secret=True,
            ),
            Setting("scope", "The scope asked for; default: the one the vendor documents."),
            Setting(
                "token_url",
                "The token endpoint; default: the vendor's documented one. A path alone is "
                "resolved against the base URL's host.",
            ),
        )
    )

    def __init__(self, target: Target, http: requests.Session | None = None):
        if http is not None and not isinstance(http, OAuthSession):
            raise TypeError(
                f"the {self.vendor} client needs an OAuthSession, which follows no redirect"
            )
        super().__init__(target, http or self._oauth_session(target))
        self.oauth: OAuthSession = self.http  # type: ignore[assignment]
        self.oauth.register_compliance_hook("access_token_response", self._check_token_response)
        # authlib renews a token inside a request once it is within the leeway of expiring;
        # without the endpoint it fails there on every call (a token shorter-lived than
        # the leeway never works), so it must know where to fetch one.
        self.oauth.metadata["token_endpoint"] = self.token_url

    def _oauth_session(self, target: Target) -> OAuthSession:
        return OAuthSession(
            client_id=target.secret("client_id"),
            client_secret=target.secret("client_secret"),
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            scope=target.secret("scope") or self.default_scope,
            grant_type="client_credentials",
            leeway=TOKEN_LEEWAY_SECONDS,
            default_timeout=target.delivery.timeout_seconds,
        )

    @abstractmethod
    def default_token_url(self) -> str:
        """The vendor's documented token endpoint, when ``credentials.token_url`` is not set."""

    @property
    def token_url(self) -> str:
        return self.resolve(self.target.secret("token_url") or self.default_token_url())

    def authenticate(self) -> None:
        """Fetch a token, under the worker's lease like every vendor request (:meth:`_send`).

        :raises Interrupted: when the worker is stopping or lost its lease.
        """
        self.oauth.token = None
        self.keep_alive()
        try:
            with self.renewing():
                self.oauth.fetch_token(
                    self.token_url, grant_type="client_credentials", allow_redirects=False
                )
        except requests.RequestException as error:
            raise VendorUnavailable(
                f"{self.vendor}: the token endpoint failed: {type(error).__name__}"
            ) from None
        except (AuthlibBaseError, ValueError, KeyError) as error:
            raise VendorUnavailable(
                f"{self.vendor}: the token endpoint's answer is not a token ({type(error).__name__})"
            ) from None

    def _check_token_response(self, response: requests.Response) -> requests.Response:
        """Turn a refused token request into an error of ours before authlib parses it: a
        401 or 403, or RFC 6749 §5.2's ``invalid_client`` (a 400 where the client did not
        use Basic), refuses the client's credentials (:class:`CredentialsRefused`); any
        other refusal is retried later (:class:`VendorUnavailable`)."""
        if response.status_code == 200:
            return response
        if 300 <= response.status_code < 400:
            refusal = redirect_refused(
                response, f"{self.vendor}: the token endpoint", "credentials.token_url"
            )
            raise VendorUnavailable(self.redact(refusal))
        message = self.redact(
            f"{self.vendor}: the token endpoint answered HTTP {response.status_code}: "
            f"{error_text(response, self.error_text_keys)}"
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise VendorUnavailable(message, retry_after=self.vendor_wait(response))
        refused = _oauth_error(response) == "invalid_client"
        if response.status_code in CREDENTIAL_REFUSALS or refused:
            raise CredentialsRefused(f"{message} (check the target's client credentials)")
        raise VendorUnavailable(f"{message} (check the target's client credentials)")

    def is_authenticated(self) -> bool:
        token = self.oauth.token
        return bool(token) and not token.is_expired(leeway=TOKEN_LEEWAY_SECONDS)

    def secrets(self) -> list[str]:
        token = self.oauth.token or {}
        return [*super().secrets(), token.get("access_token") or ""]


def _oauth_error(response: requests.Response) -> str | None:
    """The ``error`` code of a token endpoint's error answer (RFC 6749 §5.2), if it has one."""
    try:
        document = response.json()
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, str) else None
