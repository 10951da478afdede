"""The bridge configuration: one YAML (or JSON) file, validated before anything starts.

A configuration error must stop start-up with a message naming the bad key,
whereas an unreachable vendor must not: so this module checks the shape and
the values of the file, and never talks to a vendor.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from scimbridge.config_document import DocumentError, key_name, read_document

if TYPE_CHECKING:
    from scimbridge.vendors.settings import Section, Settings

DATABASE_VARIABLE = "SCIMBRIDGE_DATABASE"
"""The environment variable that gives the database of a configuration without a
``database`` key: a container image sets it to its data volume."""
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
PUBLIC_BASE_URL = re.compile(r"^https?://[^/?#@\s]+(/[^?#\s]*)?$")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    # Each field's docstring is its description in the published JSON Schema
    # (``scimbridge config schema``) and the configuration reference built from it.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def relative_to_config(path: str, info: ValidationInfo) -> str:
    """A path of the configuration as the process can open it: a relative one is read from
    the configuration file's directory, wherever the process was started."""
    base = (info.context or {}).get("directory")
    if base is None or Path(path).is_absolute():
        return path
    return str(Path(base) / path)


def default_mapping(vendor: str) -> Path:
    """The mapping file a vendor's targets use without a ``mapping:`` key: its plugin ships
    it (``scimbridge mapping show <vendor>`` prints it, to copy and edit).

    :raises UnknownVendor: when no installed plugin registers ``vendor``.
    """
    from scimbridge.vendors.plugin import vendor_plugin

    return Path(str(vendor_plugin(vendor).default_mapping))


def installed_vendor(vendor: str) -> str:
    """``vendor`` if an installed plugin registers it (``scimbridge vendors`` lists them)."""
    from scimbridge.vendors.plugin import vendor_names

    if vendor not in vendor_names():
        installed = ", ".join(vendor_names()) or "none"
        raise ValueError(f"no installed vendor plugin is called {vendor!r}; installed: {installed}")
    return vendor


def vendor_settings(vendor: str) -> Settings:
    """The credentials and options the client of an installed ``vendor`` declares it reads
    (:mod:`scimbridge.vendors.settings`)."""
    from scimbridge.vendors.plugin import vendor_plugin

    return vendor_plugin(vendor).client.settings


def declared_settings(section: Section, values: dict[str, Any], info: ValidationInfo) -> None:
    """Refuse what the target's vendor does not declare in ``section``: each problem an error
    of its own key (so a message names its line), with the nearest declared name for an
    unknown key. The error's input is the key, never the value.

    :raises ValidationError: every problem of the section.
    """
    from scimbridge.vendors.plugin import PluginError

    vendor = info.data.get("vendor")
    if vendor is None:  # the vendor itself was refused: its settings are unknown
        return
    try:
        settings = vendor_settings(vendor)
    except PluginError:  # start-up stops on the broken plugin, naming the target (load_mappings)
        return
    plain = {
        key: value.get_secret_value() if isinstance(value, SecretStr) else value
        for key, value in values.items()
    }
    problems = settings.problems(section, plain)
    if problems:
        raise ValidationError.from_exception_data(
            "Target",
            [
                InitErrorDetails(
                    type=PydanticCustomError(
                        "vendor_setting", "{message}", {"message": problem.message}
                    ),
                    loc=(problem.key,),
                    input=problem.key,
                )
                for problem in problems
            ],
        )


MIN_SECRET_LENGTH = 16
"""The shortest static bearer token or Basic password: both guard the same writes."""

ENTRA_TENANT_ID = r"^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$"
JWKS_URL = r"^(https://[^\s]+|http://(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?/[^\s]*)$"
"""HTTPS, or plain HTTP to this machine only: keys fetched in clear text could be swapped."""

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
ASYMMETRIC_ALGORITHMS = (*RSA_ALGORITHMS, "ES256", "ES384", "ES512")
"""The default of ``jwt.algorithms``: the public-key signatures issuers use (Entra ID and
Okta sign with RS256)."""
EDDSA_ALGORITHMS = ("EdDSA", "Ed25519")
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")


def _long_enough(secret: SecretStr, what: str) -> SecretStr:
    if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
        raise ValueError(f"{what} must be at least {MIN_SECRET_LENGTH} characters long")
    return secret


def _one_or_more(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class BasicCredentials(_Strict):
    """HTTP Basic credentials (RFC 7617), as Okta's "Basic Auth" mode sends them."""

    username: str = Field(min_length=1, pattern=r"^[^:]+$")
    """The user name the identity provider sends (no ``:``, RFC 7617 §2). Required."""
    password: SecretStr
    """The password, at least 16 characters, as a bearer token: it guards the same writes.
    Required; give it from the environment (``"${OKTA_SCIM_PASSWORD}"``)."""

    @field_validator("password")
    @classmethod
    def _strong_password(cls, password: SecretStr) -> SecretStr:
        return _long_enough(password, "a Basic password")


class FailureThrottle(_Strict):
    """How failed authentications from one client address are answered
    (docs/inbound-auth.md, "The failure throttle").

    Each target counts the failed authentications of each client address (an IPv6 address
    by its /64 network) over a sliding window. Once an address reached ``max_failures``
    within ``window_seconds``, its further refused credentials are answered 429 with
    ``Retry-After`` instead of 401, until its oldest counted failure leaves the window.
    Credentials are checked first: good ones are never throttled, since Okta and Entra ID
    send every tenant's requests from shared addresses. A success clears nothing, and one
    address's failures never affect another. The client address is the peer's, or the
    right-most ``X-Forwarded-For`` value when the peer is one of ``trusted_proxies``.
    """

    max_failures: int = Field(default=10, ge=0)
    """Failed authentications an address may make within ``window_seconds`` before its
    further failures are answered 429 (10); 0 turns the throttle off."""
    window_seconds: float = Field(default=60.0, gt=0, le=86_400)
    """The sliding window, in seconds, over which failures are counted (60)."""


class JwtInbound(_Strict):
    """JWT access tokens (RFC 9068) a target accepts as OAuth 2.0 bearer tokens (RFC 6750),
    besides its static ones (docs/inbound-auth.md).

    A token is accepted when it is signed, with one of ``algorithms``, by a key of the
    issuer's JWKS (or with ``hmac_secret``); its ``iss`` is one of ``issuer``; its ``aud``
    names one of ``audience``; its ``exp`` has not passed and its ``nbf`` and ``iat`` are
    not ahead, give or take ``leeway_seconds``; and it carries the required scopes and
    roles. ``entra_tenant`` presets issuer and keys for a Microsoft Entra ID tenant.
    """

    entra_tenant: str | None = Field(default=None, pattern=ENTRA_TENANT_ID)
    """The tenant ID (a GUID) of a Microsoft Entra ID tenant, whose tokens are then accepted:
    ``issuer`` defaults to the tenant's v1 and v2 issuers (``https://sts.windows.net/<tenant>/``,
    ``https://login.microsoftonline.com/<tenant>/v2.0``), ``jwks_url`` to
    ``https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys``, and the ``tid``
    claim must be the tenant. Global Azure only. Not set by default."""
    issuer: str | list[str] | None = None
    """The issuer (``iss``) accepted, or a list of them, compared exactly. Required unless
    ``entra_tenant`` is set."""
    audience: str | list[str]
    """The audience accepted, or a list: a token's ``aud`` must name one of them (for Entra
    ID, the application ID URI or client ID of the app the tokens are issued for; the
    provisioning service's own token, sent when the Secret Token is left blank, names
    ``8adf8e6e-67b2-4cf2-a259-e3dc5476c621``). Required."""
    jwks_url: str | None = Field(default=None, pattern=JWKS_URL)
    """Where the issuer publishes its signing keys (a JWKS, RFC 7517): HTTPS, or HTTP to a
    loopback address. Fetched at the first token, kept ``jwks_cache_seconds``, and fetched
    again, at most every ``jwks_refresh_seconds``, when a token names a key not held: a key
    rotation is picked up without a restart. Exactly one of ``jwks_url``, ``jwks_file`` and
    ``hmac_secret`` is required, unless ``entra_tenant`` sets this one."""
    jwks_file: str | None = None
    """A file holding the issuer's JWKS, for keys handed over by hand: read at start-up and
    again whenever it changes. Not set by default."""
    hmac_secret: SecretStr | None = None
    """A secret shared with the issuer, for tokens signed with HMAC (HS256, HS384, HS512),
    at least 32 characters. Only for issuers that cannot sign with a key pair: whoever
    knows it can mint tokens. Never combined with a JWKS. Not set by default."""
    algorithms: list[str] | None = None
    """The signing algorithms (``alg``) accepted. Default: RS256, RS384, RS512, PS256,
    PS384, PS512, ES256, ES384, ES512 (EdDSA and Ed25519 may be added); with
    ``hmac_secret``, HS256 (HS384 and HS512 may be given). ``none`` is never accepted, and
    an HMAC algorithm only with ``hmac_secret``: a public key never serves as an HMAC
    secret."""
    leeway_seconds: float = Field(default=60.0, ge=0, le=600)
    """The clock skew tolerated, in seconds, when ``exp``, ``nbf`` and ``iat`` are checked (60)."""
    required_scopes: list[str] = Field(default_factory=list)
    """Scopes every token must carry, in ``scp`` or ``scope`` (a space-separated string or
    a list); one missing: 403 ``insufficient_scope``. Default: none."""
    required_roles: list[str] = Field(default_factory=list)
    """Roles every token must carry in its ``roles`` claim, where Entra ID puts the
    application permissions (app roles) granted to the client; one missing: 403
    ``insufficient_scope``. Default: none."""
    write_scopes: list[str] = Field(default_factory=list)
    """Scopes a token must carry, besides the required ones, to write (POST, PUT, PATCH,
    DELETE, Bulk); without them it may only read (GET and searches) and a write is answered
    403 ``insufficient_scope``. Default: none, every accepted token may write."""
    write_roles: list[str] = Field(default_factory=list)
    """Roles a token must carry, besides the required ones, to write; as ``write_scopes``.
    Default: none."""
    jwks_cache_seconds: float = Field(default=3600.0, ge=60, le=86_400)
    """How long fetched keys are used before ``jwks_url`` is fetched again (1 hour). Keys
    stay in use while the URL cannot be reached."""
    jwks_refresh_seconds: float = Field(default=60.0, ge=1, le=3600)
    """The shortest time, in seconds, between two fetches of ``jwks_url`` (60): tokens
    naming unknown keys, or an unreachable URL, never make the bridge fetch more often."""

    @field_validator("hmac_secret")
    @classmethod
    def _strong_hmac_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < 32:
            raise ValueError("an HMAC secret must be at least 32 characters long")
        return secret

    @model_validator(mode="after")
    def _consistent(self) -> JwtInbound:
        keys = [name for name in ("jwks_url", "jwks_file", "hmac_secret") if getattr(self, name)]
        if self.entra_tenant is not None and (self.jwks_file or self.hmac_secret):
            raise ValueError(
                "entra_tenant uses the tenant's published keys: leave out jwks_file and hmac_secret"
            )
        if self.entra_tenant is None and len(keys) != 1:
            raise ValueError("give exactly one of jwks_url, jwks_file or hmac_secret")
        if not self.issuers or not all(self.issuers):
            raise ValueError("issuer is required (or entra_tenant)")
        if not self.audiences or not all(self.audiences):
            raise ValueError("audience must name at least one non-empty audience")
        algorithms = self.accepted_algorithms
        if not algorithms:
            raise ValueError("algorithms must name at least one algorithm")
        if "none" in (name.lower() for name in algorithms):
            raise ValueError("the algorithm 'none' (an unsigned token) is never accepted")
        allowed = HMAC_ALGORITHMS if self.hmac_secret else ASYMMETRIC_ALGORITHMS + EDDSA_ALGORITHMS
        refused = [name for name in algorithms if name not in allowed]
        if refused:
            kind = "with hmac_secret, only" if self.hmac_secret else "with a JWKS, only"
            raise ValueError(f"{', '.join(refused)}: {kind} {', '.join(allowed)} may be given")
        return self

    @property
    def issuers(self) -> list[str]:
        if self.issuer is None and self.entra_tenant is not None:
            tenant = self.entra_tenant.lower()
            return [
                f"https://sts.windows.net/{tenant}/",
                f"https://login.microsoftonline.com/{tenant}/v2.0",
            ]
        return _one_or_more(self.issuer)

    @property
    def audiences(self) -> list[str]:
        return _one_or_more(self.audience)

    @property
    def keys_url(self) -> str | None:
        """The JWKS URL, given or preset."""
        if self.jwks_url is None and self.entra_tenant is not None:
            tenant = self.entra_tenant.lower()
            return f"https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"
        return self.jwks_url

    @property
    def accepted_algorithms(self) -> list[str]:
        if self.algorithms is not None:
            return list(self.algorithms)
        return ["HS256"] if self.hmac_secret else list(ASYMMETRIC_ALGORITHMS)


class Inbound(_Strict):
    """How identity providers authenticate to one target: static bearer tokens (Entra ID's
    "Secret Token", Okta's "HTTP Header"), HTTP Basic (Okta's "Basic Auth") and JWT access
    tokens, any of them together (docs/inbound-auth.md). At least one must be configured."""

    bearer_tokens: list[SecretStr] = Field(default_factory=list)
    """Static bearer tokens that may read and write, each at least 16 characters; list two
    while rotating one. Default: none."""
    read_only_bearer_tokens: list[SecretStr] = Field(default_factory=list)
    """Static bearer tokens that may only read (GET and searches): a write with one is
    answered 403 ``insufficient_scope``. At least 16 characters each. Default: none."""
    basic: BasicCredentials | None = None
    """HTTP Basic credentials. Not set (the default): Basic is neither accepted nor offered
    in ``WWW-Authenticate``."""
    jwt: JwtInbound | None = None
    """JWT access tokens the target accepts. Not set (the default): none."""
    throttle: FailureThrottle = Field(default_factory=FailureThrottle)
    """How failed authentications from one client address are answered (10 in 60 s, then
    429 for further failures; good credentials always pass)."""

    @field_validator("bearer_tokens", "read_only_bearer_tokens")
    @classmethod
    def _strong_tokens(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        for token in tokens:
            _long_enough(token, "a bearer token")
        return tokens

    @model_validator(mode="after")
    def _some_way_in(self) -> Inbound:
        if not (self.bearer_tokens or self.read_only_bearer_tokens or self.basic or self.jwt):
            raise ValueError(
                "configure at least one of bearer_tokens, read_only_bearer_tokens, basic or jwt"
            )
        writers = {token.get_secret_value() for token in self.bearer_tokens}
        if any(token.get_secret_value() in writers for token in self.read_only_bearer_tokens):
            raise ValueError("a token is in both bearer_tokens and read_only_bearer_tokens")
        return self

    def secrets(self) -> list[str]:
        """The secret values of this section, for :meth:`BridgeConfig.secrets`."""
        found = [
            token.get_secret_value()
            for token in (*self.bearer_tokens, *self.read_only_bearer_tokens)
        ]
        if self.basic is not None:
            found.append(self.basic.password.get_secret_value())
        if self.jwt is not None and self.jwt.hmac_secret is not None:
            found.append(self.jwt.hmac_secret.get_secret_value())
        return found


class Delivery(_Strict):
    """How one target's outbox is delivered (README, "Operations").

    Two kinds of failure are told apart. A vendor that is unavailable (connection
    refused, timeout, 5xx, 429, a token it will not issue now) fails nobody: the entry
    backs off, up to ``max_backoff_seconds`` between tries, for up to
    ``give_up_after_seconds``. A failure of the user itself (the vendor refuses the
    record, or an unexpected error) is counted, and the entry is parked as failed at
    ``max_attempts``.
    """

    batch_size: int | None = Field(default=None, ge=1)
    """The most users one batch carries, up to what the bridge sends the vendor at most in
    one call (ACC 200, Confide, Aria and Rocket.Chat 10,000, CloudShell 1) and hands one
    delivery (ACC 2,000 in imports of 200, CloudShell 500 calls of one user).
    Default: that most."""
    gather_seconds: float = Field(default=1.0, ge=0)
    """How long a serving worker lets a batch gather while the IdP is still writing users of
    the target: a batch smaller than the most it may carry is claimed once no write came
    for this long (or ``gather_limit_seconds`` after its oldest entry was due). A tenant
    loaded through SCIM Bulk then goes out in a few full imports rather than one small
    import per round; a single write waits this long at most. 0: claim at once."""
    gather_limit_seconds: float = Field(default=60.0, ge=0)
    """The longest an entry waits for its batch to gather (``gather_seconds``) while the
    IdP keeps writing."""
    max_attempts: int = Field(default=5, ge=1)
    """Refusals and errors of one entry before it is parked as failed (``outbox retry``
    queues it again); an unavailable vendor never counts."""
    backoff_seconds: float = Field(default=2.0, gt=0)
    """The wait after a first failed try; it doubles with each further try (with jitter)."""
    max_backoff_seconds: float = Field(default=900.0, gt=0)
    """The longest wait between two tries, unless the vendor asked for longer
    (``Retry-After``, a rate limit's reset)."""
    give_up_after_seconds: float = Field(default=259_200.0, gt=0)
    """How long an entry keeps being tried while its vendor stays unavailable (3 days, from
    its first failed try) before it is parked as failed: long enough for a weekend
    outage, short enough to be noticed. A newer write of the user starts afresh."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    """How long one vendor call may take before it counts as the vendor being unavailable;
    a stopping worker waits for a call in flight this long at most."""
    lease_seconds: float = Field(default=300.0, gt=0)
    """How long a worker may hold a claimed batch without renewing it before another
    worker takes it over; a worker waiting on the vendor renews it."""
    retention_seconds: float = Field(default=604_800.0, gt=0)
    """How long a delivered or superseded entry keeps its snapshot of the user (7 days):
    after that only its bookkeeping stays, so the outbox keeps no personal data of users
    long gone (``scimbridge outbox purge``)."""
    unconfirmed_import_seconds: float = Field(default=900.0, ge=0)
    """How long a deprovision keeps looking for a user whose import the vendor never
    confirmed (a timeout, an asynchronous import still running) before it believes the
    vendor's "no such user": a deprovision never overtakes an import still on its way."""
    concurrency: int = Field(default=1, ge=1, le=16)
    """How many batches of this target each ``serve`` or ``worker`` process delivers side by
    side, each in a loop of its own (every target has its own loops, so a slow vendor
    never holds back another target). The loops share the vendor's documented rate limits
    equally. A vendor that runs one import at a time (Rocket.Chat) gets one batch at a time
    whatever this says."""
    allow_takeover: bool = False
    """Let a new user (another externalId) take over the vendor account of a deleted user
    with the same userName or email. Off: that delivery fails with a conflict naming both."""
    redeliver_on_mapping_change: bool = False
    """After the mapping file changed, queue again each delivered user whose record the new
    mapping changes (``outbox list`` shows them as change ``mapping``), a batch at a time and
    only while no other entry of the target is due, so the IdP's own writes never wait
    behind them. Off: ``scimbridge status`` and a start-up log line only count them
    (docs/mapping.md, "When the mapping changes")."""


IdentityMatch = Literal["externalId", "externalId_and_userName"]
"""What makes a deleted user the same person as a new one (:class:`Identity`)."""


class Identity(_Strict):
    """Which deleted user a new SCIM user is the same person as, and so gets the link and
    the vendor account of (docs/architecture.md, "The same person").

    An ``externalId`` is only as stable as the directory attribute the identity provider
    fills it from. Entra ID's default mapping fills it from ``mailNickname``, which a
    directory hands to a new hire once its former holder has left: matching on it alone
    can give the new hire the former employee's vendor account. Map ``externalId`` from an
    attribute that is never reused (Entra ID's ``objectId``; docs/guides/entra-id.md), or
    require the userName to match as well.
    """

    match: IdentityMatch = "externalId"
    """What makes a deleted user the same person as a new one. ``externalId`` (the
    default): the same externalId where both have one, the same userName where either has
    none. ``externalId_and_userName``: the same externalId and the same userName (compared
    as SCIM filters compare it, RFC 7643 §2.2) where both have an externalId, the same
    userName where neither has one, and never the same person where only one has one.
    Anybody else gets a new link: a new vendor account, never the former user's. Start-up
    warns about an Entra ID target (``inbound.jwt`` names an Entra ID issuer) that does not
    set this key."""


class Reconcile(_Strict):
    """The scheduled drift check (docs/operations-reconcile.md): the worker reads what the
    vendor holds, compares it with what the IdP says, and keeps the findings for ``status``,
    the Status endpoint and the ``scimbridge_drift_accounts`` metric. It only reports;
    ``scimbridge reconcile --apply`` corrects."""

    interval_seconds: float | None = Field(default=None, gt=0)
    """Seconds from the start of one complete check to the start of the next; unset (the
    default): no scheduled check."""
    pages_per_round: int = Field(default=5, ge=1)
    """Listing pages a worker reads in one round of the target's loop, between deliveries,
    so that a long read never holds up the IdP's writes; a check interrupted (an outage, a
    restart) resumes at the page it stopped at."""


class Target(_Strict):
    """One vendor tenant: its SCIM base URL is ``/scim/v2/<name>``."""

    name: str
    """The target's SCIM base URL is ``/scim/v2/<name>``: 1-63 letters, digits, ``-`` or
    ``_``, starting with a letter or digit."""
    vendor: str
    """Which vendor's import API the target delivers to: the name of an installed vendor
    plugin (``scimbridge vendors`` lists them)."""
    mapping: str | None = None
    """The mapping file, relative to this configuration file. Default: the vendor's own,
    shipped with the bridge (``scimbridge mapping show <vendor>`` prints it)."""
    base_url: str = Field(pattern=r"^https?://")
    """The vendor tenant's API root, e.g. ``https://chat.example.com``."""
    credentials: dict[str, SecretStr] = Field(default_factory=dict, validate_default=True)
    """What the vendor client signs in with: the keys its plugin declares (docs,
    "Vendors"; ``scimbridge config schema``), any other refused; write each as
    ``${ENV_VAR}``. Those the plugin declares secret are never logged nor shown."""
    options: dict[str, Any] = Field(default_factory=dict, validate_default=True)
    """Vendor settings, e.g. ACC's ``project_id``: the keys the vendor's plugin declares
    (docs, "Vendors"; ``scimbridge config schema``), any other refused."""
    inbound: Inbound
    """How the identity provider authenticates to this target."""
    delivery: Delivery = Field(default_factory=Delivery)
    """How this target's outbox is delivered: retries, timeouts, leases, retention."""
    identity: Identity = Field(default_factory=Identity)
    """How a new SCIM user is recognised as a deleted one again (``match``)."""
    reconcile: Reconcile = Field(default_factory=Reconcile)
    """The scheduled drift check: off unless ``interval_seconds`` is set."""

    @field_validator("name")
    @classmethod
    def _url_safe_name(cls, name: str) -> str:
        if not TARGET_NAME.match(name):
            raise ValueError(
                "a target name is 1-63 letters, digits, '-' or '_', starting with a letter or digit"
            )
        return name

    @field_validator("vendor")
    @classmethod
    def _installed_vendor(cls, vendor: str) -> str:
        return installed_vendor(vendor)

    @field_validator("credentials")
    @classmethod
    def _declared_credentials(
        cls, credentials: dict[str, SecretStr], info: ValidationInfo
    ) -> dict[str, SecretStr]:
        declared_settings("credentials", credentials, info)
        return credentials

    @field_validator("options")
    @classmethod
    def _declared_options(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        declared_settings("options", options, info)
        return options

    @field_validator("mapping")
    @classmethod
    def _mapping_beside_config(cls, mapping: str | None, info: ValidationInfo) -> str | None:
        return None if mapping is None else relative_to_config(mapping, info)

    @property
    def mapping_file(self) -> str:
        return self.mapping or str(default_mapping(self.vendor))

    @property
    def mapping_label(self) -> str:
        """How messages name the mapping file: by its file name alone, since refusals reach
        identity providers in SCIM error details and must never show a server path."""
        return Path(self.mapping_file).name

    def secret(self, key: str, default: str | None = None) -> str | None:
        """The credential ``key`` as the vendor is sent it, or ``default`` when it is not set."""
        value = self.credentials.get(key)
        return value.get_secret_value() if value is not None else default

    def secrets(self) -> list[str]:
        """The values of the credentials and options the vendor's client declares secret:
        what no message, log line or error shows (the one rule, :mod:`scimbridge.vendors.settings`)."""
        from scimbridge.vendors.plugin import PluginError

        credentials = {key: value.get_secret_value() for key, value in self.credentials.items()}
        try:
            settings = vendor_settings(self.vendor)
        except PluginError:  # a plugin that cannot be loaded declares nothing: withhold all
            return [value for value in credentials.values() if value]
        return settings.secret_values(credentials, self.options)


class BridgeConfig(_Strict):
    database: str = "sqlite:///scimbridge.db"
    """An SQLAlchemy URL: ``sqlite:///bridge.db`` (a path relative to this configuration
    file; ``sqlite:////var/lib/scimbridge/scimbridge.db`` is absolute) or
    ``postgresql+psycopg://user:${PGPASSWORD}@host/db`` for several processes. Without
    the key: ``$SCIMBRIDGE_DATABASE`` when it is set (the container image sets
    ``sqlite:////var/lib/scimbridge/scimbridge.db``), else ``scimbridge.db`` in the
    directory the bridge is started from."""
    targets: list[Target] = Field(min_length=1)
    """The vendor tenants, each with its own SCIM base URL, credentials and outbox."""
    worker: bool = True
    """Run the delivery worker as a thread of ``scimbridge serve``."""
    max_payload_bytes: int = Field(default=1_048_576, ge=1024)
    """The largest request body, and a Bulk request's ``maxPayloadSize`` (RFC 7644 §3.7):
    a larger one is refused with 413."""
    max_bulk_operations: int = Field(default=1000, ge=1)
    """A Bulk request's ``maxOperations`` (RFC 7644 §3.7): more are refused with 413."""
    max_filter_terms: int = Field(default=100, ge=1)
    """The most comparisons and presence tests (``userName eq "x"``, ``title pr``) one
    filter may hold, in ``?filter=`` or a ``.search`` body; a longer one is refused with
    400 ``invalidFilter`` (RFC 7644 §3.4.2.2, §3.12). Entra ID and Okta send one-term
    filters (``userName eq "…"``, ``externalId eq "…"``); a filter of thousands of terms
    costs the database seconds, and SQLite refuses a thousand."""
    public_base_url: str | None = None
    """Where identity providers reach the bridge, e.g. ``https://idm.example.com``: the
    SCIM base URL of a target is then ``<public_base_url>/scim/v2/<target>``, in every
    ``Location`` header and ``meta.location`` (RFC 7644 §3.1, RFC 7643 §3.1), whatever
    ``Host`` a request names. Set it behind a reverse proxy. Without it (and without a
    forwarding proxy in ``trusted_proxies``) locations follow each request's ``Host``
    header, which a client chooses; start-up warns about that."""
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    """The reverse proxies (addresses or CIDR networks) whose ``Forwarded`` header (RFC 7239:
    ``proto``, ``host``, ``for``) or, without one, ``X-Forwarded-Proto``,
    ``X-Forwarded-Host`` and ``X-Forwarded-For`` set the locations and the client address
    of a request they forward (``X-Forwarded-Prefix`` adds a path prefix), before
    ``public_base_url``. Only the direct peer is checked, and only the right-most element
    or value of each header is read: the one that peer appended. The same headers from any
    other peer are ignored."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The least severe log lines written; ``DEBUG`` adds a traceback to each error."""
    log_format: Literal["json", "text"] = "json"
    """How ``serve`` and ``worker`` write their log lines to standard error: ``json``, one
    object a line (time, level, logger, message, request_id, target, and the user, vendor
    and outbox entry a line is about) for a log collector to index; ``text`` for a person
    reading a terminal. ``scimbridge demo`` always writes text. docs/observability.md
    lists the fields."""
    """The least severe log lines written; ``DEBUG`` adds a traceback to each error."""

    @field_validator("public_base_url")
    @classmethod
    def _absolute_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not PUBLIC_BASE_URL.match(url):
            raise ValueError(
                "the public base URL is http(s)://host[:port][/path], without query or fragment"
            )
        return url.rstrip("/")

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, targets: list[Target]) -> list[Target]:
        names = [target.name for target in targets]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"target names must be unique; repeated: {', '.join(duplicates)}")
        return targets

    def target(self, name: str) -> Target | None:
        return next((target for target in self.targets if target.name == name), None)

    def secrets(self) -> list[str]:
        """Every secret value of the configuration, so that tests and log filters can look for them."""
        found: list[str] = []
        for target in self.targets:
            found += target.secrets()
            found += target.inbound.secrets()
        return [value for value in found if value]

    @field_validator("database")
    @classmethod
    def _sqlite_beside_config(cls, url: str, info: ValidationInfo) -> str:
        """A relative SQLite path is read from the configuration file's directory: started
        from another directory, the bridge must find the same database, not a new empty one."""
        prefix = "sqlite:///"
        path = url.removeprefix(prefix)
        if path == url or path.split("?", 1)[0] in ("", ":memory:"):
            return url
        return prefix + relative_to_config(path, info)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the configuration file, from the model itself, so
    that it can never disagree with what start-up accepts: ``scimbridge config schema``
    prints it and the documentation publishes it with the reference built from it. Each
    installed vendor's ``credentials`` and ``options`` are a condition on ``vendor``
    (``if``/``then``), so that an editor completes and checks them."""
    from scimbridge.vendors.plugin import vendor_names

    schema = BridgeConfig.model_json_schema()
    schema["$defs"]["Target"]["allOf"] = [
        {
            "if": {"properties": {"vendor": {"const": vendor}}, "required": ["vendor"]},
            "then": {"properties": vendor_settings(vendor).json_schema()},
        }
        for vendor in vendor_names()
    ]
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "scimbridge configuration (bridge.yaml)",
    }


def parse_config(
    text: str,
    source: str = "<config>",
    environ: Mapping[str, str] | None = None,
    *,
    directory: str | os.PathLike[str] | None = None,
    require_env: bool = True,
) -> BridgeConfig:
    """Parse and validate a configuration document (config_document: YAML first, then
    ``${NAME}`` inside string values).

    :param directory: where relative paths in the document are read from (the file's
        directory); None: the working directory.
    :param require_env: see :func:`~scimbridge.config_document.read_document`.
    :raises ConfigError: naming the source, and the line and key of each problem; never
        a value.
    """
    environ = os.environ if environ is None else environ
    try:
        document = read_document(text, environ, require_env=require_env)
    except DocumentError as error:
        raise ConfigError(f"{source}, {error}") from None
    if not isinstance(document.content, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping with a 'targets' key")
    if "database" not in document.content and DATABASE_VARIABLE in environ:
        document.content["database"] = environ[DATABASE_VARIABLE]
    context = {"directory": None if directory is None else str(directory)}
    try:
        return BridgeConfig.model_validate(document.content, context=context)
    except ValidationError as error:
        messages = []
        for problem in error.errors():
            key = key_name(problem["loc"], document.content)
            line = document.line_of(problem["loc"])
            where = f"{source}, line {line}, key {key}" if line else f"{source}, key {key}"
            detail = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
            messages.append(f"{where}: {detail}")
        raise ConfigError("\n".join(messages)) from None


def load_config(
    path: str | os.PathLike[str] | None = None, *, require_env: bool = True
) -> BridgeConfig:
    """Load the file at ``path``, or at ``$SCIMBRIDGE_CONFIG``; relative paths in it are
    read from its directory."""
    path = path or os.environ.get("SCIMBRIDGE_CONFIG")
    if not path:
        raise ConfigError("no configuration: pass --config FILE or set SCIMBRIDGE_CONFIG")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{file}: cannot read the configuration: {error.strerror}") from None
    return parse_config(text, str(file), directory=file.resolve().parent, require_env=require_env)
