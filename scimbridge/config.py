"""The bridge configuration: one YAML (or JSON) file, validated before anything starts.

A configuration error must stop start-up with a message naming the bad key,
whereas an unreachable vendor must not: so this module checks the shape and
the values of the file, and never talks to a vendor.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
)

VENDORS = ("confide", "acc", "aria", "rocketchat", "cloudshell")
"""The vendor keys a target may name; each has a module in :mod:`scimbridge.vendors`."""

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
PUBLIC_BASE_URL = re.compile(r"^https?://[^/?#@\s]+(/[^?#\s]*)?$")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BasicCredentials(_Strict):
    username: str = Field(min_length=1)
    password: SecretStr


class Inbound(_Strict):
    """How an identity provider authenticates to one target (Okta: bearer or Basic; Entra: bearer)."""

    bearer_tokens: list[SecretStr] = Field(default_factory=list)
    basic: BasicCredentials | None = None

    @field_validator("bearer_tokens")
    @classmethod
    def _tokens_not_empty(cls, tokens: list[SecretStr]) -> list[SecretStr]:
        for token in tokens:
            if len(token.get_secret_value()) < 16:
                raise ValueError("a bearer token must be at least 16 characters long")
        return tokens


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
    max_attempts: int = Field(default=5, ge=1)
    """Refusals and errors of one entry before it is parked as failed (``outbox retry``
    queues it again); an unavailable vendor never counts."""
    backoff_seconds: float = Field(default=2.0, gt=0)
    max_backoff_seconds: float = Field(default=900.0, gt=0)
    give_up_after_seconds: float = Field(default=259_200.0, gt=0)
    """How long an entry keeps being tried while its vendor stays unavailable (3 days, from
    its first failed try) before it is parked as failed: long enough for a weekend
    outage, short enough to be noticed. A newer write of the user starts afresh."""
    timeout_seconds: float = Field(default=30.0, gt=0)
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
    allow_takeover: bool = False
    """Let a new user (another externalId) take over the vendor account of a deleted user
    with the same userName or email. Off: that delivery fails with a conflict naming both."""


class Target(_Strict):
    """One vendor tenant: its SCIM base URL is ``/scim/v2/<name>``."""

    name: str
    vendor: Literal["confide", "acc", "aria", "rocketchat", "cloudshell"]
    mapping: str | None = None
    base_url: str = Field(pattern=r"^https?://")
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    inbound: Inbound
    delivery: Delivery = Field(default_factory=Delivery)

    @field_validator("name")
    @classmethod
    def _url_safe_name(cls, name: str) -> str:
        if not TARGET_NAME.match(name):
            raise ValueError(
                "a target name is 1-63 letters, digits, '-' or '_', starting with a letter or digit"
            )
        return name

    @property
    def mapping_file(self) -> str:
        return self.mapping or f"mappings/{self.vendor}.yaml"

    def secret(self, key: str, default: str | None = None) -> str | None:
        value = self.credentials.get(key)
        return value.get_secret_value() if value is not None else default


class BridgeConfig(_Strict):
    database: str = "sqlite:///scimbridge.db"
    targets: list[Target] = Field(min_length=1)
    worker: bool = True
    """Run the delivery worker as a thread of ``scimbridge serve``."""
    max_payload_bytes: int = Field(default=1_048_576, ge=1024)
    max_bulk_operations: int = Field(default=1000, ge=1)
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
    """The reverse proxies (addresses or CIDR networks) whose ``X-Forwarded-Proto``,
    ``X-Forwarded-Host`` and ``X-Forwarded-Prefix`` headers set the locations of a request
    they forward, before ``public_base_url``. Only the direct peer is checked, and only the
    right-most value of each header is read: the one that peer appended. The same headers
    from any other peer are ignored."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

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
            found += [value.get_secret_value() for value in target.credentials.values()]
            found += [token.get_secret_value() for token in target.inbound.bearer_tokens]
            if target.inbound.basic:
                found.append(target.inbound.basic.password.get_secret_value())
        return [value for value in found if value]


def substitute_env(text: str, source: str, environ: dict[str, str] | None = None) -> str:
    """Replace ``${NAME}`` by the value of the environment variable, so secrets stay out of files."""
    environ = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            line = text.count("\n", 0, match.start()) + 1
            raise ConfigError(f"{source}, line {line}: environment variable {name} is not set")
        return environ[name]

    return ENV_REFERENCE.sub(replace, text)


def _key_path(location: tuple[Any, ...], document: Any) -> str:
    """Name a key the way an admin reads the file: ``targets[0] (chat).inbound.bearer_tokens``."""
    parts: list[str] = []
    node = document
    for step in location:
        if isinstance(step, int):
            name = (
                node[step].get("name")
                if isinstance(node, list) and isinstance(node[step], dict)
                else None
            )
            parts[-1] += f"[{step}]" + (f" ({name})" if name else "")
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts) or "(top level)"


def parse_config(
    text: str, source: str = "<config>", environ: dict[str, str] | None = None
) -> BridgeConfig:
    """Parse and validate a configuration document.

    :raises ConfigError: naming the source, and the key for a validation error.
    """
    try:
        document = yaml.safe_load(substitute_env(text, source, environ))
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML or JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping with a 'targets' key")
    try:
        return BridgeConfig.model_validate(document)
    except ValidationError as error:
        messages = []
        for problem in error.errors():
            key = _key_path(problem["loc"], document)
            detail = problem["msg"]
            if problem["type"] == "extra_forbidden":
                detail = "unknown key"
            messages.append(f"{source}: {key}: {detail}")
        raise ConfigError("\n".join(messages)) from None


def load_config(path: str | os.PathLike[str] | None = None) -> BridgeConfig:
    """Load the file at ``path``, or at ``$SCIMBRIDGE_CONFIG``."""
    path = path or os.environ.get("SCIMBRIDGE_CONFIG")
    if not path:
        raise ConfigError("no configuration: pass --config FILE or set SCIMBRIDGE_CONFIG")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{file}: cannot read the configuration: {error.strerror}") from None
    return parse_config(text, str(file))
