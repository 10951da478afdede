"""What the bridge announces about itself (RFC 7644 §4): schemas, resource types and capabilities.

The library's defaults are RFC 7643's User (with the enterprise extension) and
Group; the bridge narrows the capabilities to what it honours and takes the Bulk
limits from the configuration, since they are the ones the IdP must respect.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    External,
    Filter,
    Patch,
    Reference,
    Schema,
    SchemaExtension,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_server.utils import load_default_resource_types, load_default_schemas

from scimbridge.config import BridgeConfig, Inbound
from scimbridge.delivery.state import DELIVERY_STATE

MAX_RESULTS = 1000
"""The most resources one page holds (RFC 7644 §3.4.2.4): the IdPs page by 100 at most."""

RFC_6750 = "https://datatracker.ietf.org/doc/html/rfc6750"
RFC_7617 = "https://datatracker.ietf.org/doc/html/rfc7617"


def authentication_schemes(inbound: Inbound) -> list[AuthenticationScheme]:
    """The schemes one target accepts (RFC 7643 §5, ``authenticationSchemes``), from its
    ``inbound`` settings: what a client reads there is what the target's 401 challenges
    name (:meth:`scimbridge.scim.auth.Authenticator._challenge`). The first is primary.
    """
    bearer = []
    if inbound.bearer_tokens or inbound.read_only_bearer_tokens:
        bearer.append("a static secret token, as Entra ID and Okta send it")
    if inbound.jwt is not None:
        bearer.append("a JWT access token (RFC 9068) signed by the configured issuer")
    schemes = []
    if bearer:
        schemes.append(
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description=f"A bearer token (RFC 6750): {'; or '.join(bearer)}",
                spec_uri=Reference[External](RFC_6750),
            )
        )
    if inbound.basic is not None:
        schemes.append(
            AuthenticationScheme(
                type=AuthenticationScheme.Type.httpbasic,
                name="HTTP Basic",
                description="A user name and password (RFC 7617), as Okta may send them",
                spec_uri=Reference[External](RFC_7617),
            )
        )
    if schemes:
        schemes[0].primary = True
    return schemes


def _attribute(
    name: str, kind: str, description: str, *, mutability: str, returned: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "multiValued": False,
        "required": False,
        "caseExact": True,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": "none",
        "description": description,
        **extra,
    }


def _state(name: str, kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return _attribute(name, kind, description, mutability="readOnly", returned="request", **extra)


def delivery_state_schema() -> Schema:
    return Schema.model_validate(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": DELIVERY_STATE,
            "name": "DeliveryState",
            "description": "Where the bridge stands in delivering this user to the vendor",
            "attributes": [
                _state(
                    "status",
                    "string",
                    "pending, delivered, failed, or held while the user is paused",
                    canonicalValues=["pending", "delivered", "failed", "held"],
                ),
                _state("vendorId", "string", "The vendor's own identifier of the user"),
                _state("lastAttempt", "dateTime", "When delivery was last attempted"),
                _state("lastError", "string", "Why the last attempt failed, if it did"),
                _attribute(
                    "paused",
                    "boolean",
                    "While true, the user's writes are kept but not delivered; "
                    "deactivation and deletion are delivered all the same",
                    mutability="readWrite",
                    returned="default",
                ),
            ],
        }
    )


def service_provider_config(config: BridgeConfig) -> ServiceProviderConfig:
    """The capabilities of every target: all of RFC 7644 but cursors and password change.

    Password change is not announced because no vendor import API takes a
    password the bridge could forward reliably.
    """
    return ServiceProviderConfig(
        # pydantic validates the str into the Reference that the field's type (and so the
        # signature mypy derives from it) asks for
        documentation_uri="https://github.com/scimbridge/scimbridge#readme",  # type: ignore[arg-type]
        patch=Patch(supported=True),
        bulk=Bulk(
            supported=True,
            max_operations=config.max_bulk_operations,
            max_payload_size=config.max_payload_bytes,
        ),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        # Each target answers with its own (ScimEndpoint, authentication_schemes above);
        # the shared configuration names the schemes some target accepts.
        authentication_schemes=_schemes_of_some_target(config),
    )


def _schemes_of_some_target(config: BridgeConfig) -> list[AuthenticationScheme]:
    """One scheme of each type some target accepts, for the description the targets share."""
    schemes: dict[str, AuthenticationScheme] = {}
    for target in config.targets:
        for scheme in authentication_schemes(target.inbound):
            schemes.setdefault(str(scheme.type), scheme)
    return list(schemes.values())


def build_provider(config: BridgeConfig) -> ScimProvider:
    """The description every target serves; targets differ in data, not in schema."""
    described = _described()
    return ScimProvider(
        models=described.models,
        resource_types=described.resource_types,
        config=service_provider_config(config),
    )


@cache
def _described() -> ScimProvider:
    """The schemas and resource types, with a model built from each schema: once a process,
    as they never change and pydantic takes a third of a second to build the models (every
    application the tests create paid it)."""
    resource_types = load_default_resource_types()
    user = resource_types["User"]
    user.schema_extensions = [
        *(user.schema_extensions or []),
        # a str, validated into the Reference[URI] of the field (as documentation_uri above)
        SchemaExtension(schema=DELIVERY_STATE, required=False),  # type: ignore[arg-type]
    ]
    return ScimProvider.from_discovery(
        [*load_default_schemas().values(), delivery_state_schema()], resource_types.values()
    )
