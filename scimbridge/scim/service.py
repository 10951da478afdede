"""The bridge's tweaks to the library's SCIM service, each one answering an IdP's expectation."""

from __future__ import annotations

import re
from typing import Any

from scim2_models import Context, Error, Resource, ResponseParameters
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService

_PYDANTIC_NOISE = (
    re.compile(r"^\d+ validation errors? for .+\n", re.MULTILINE),
    re.compile(r"^\s*For further information visit \S+\n?", re.MULTILINE),
    re.compile(r" \[type=[^\]]*\]"),
)


def readable_detail(detail: str | None) -> str | None:
    """Turn a pydantic validation report into the sentence an admin reads in the IdP's log.

    ``"1 validation error for EnterpriseUser\\nmanager\\n  Input should be ... [type=...]"``
    becomes ``"manager: Input should be ..."`` (RFC 7644 §3.12: ``detail`` is human-readable).
    """
    if not detail:
        return detail
    for noise in _PYDANTIC_NOISE:
        detail = noise.sub("", detail)
    lines = [line.strip() for line in detail.strip().splitlines() if line.strip()]
    if len(lines) >= 2 and len(lines) % 2 == 0:
        pairs = [f"{lines[i]}: {lines[i + 1]}" for i in range(0, len(lines) - 1, 2)]
        return "; ".join(pairs)
    return " ".join(lines)


class BridgeService(ScimService):
    """A :class:`~scim2_server.service.ScimService` that answers PATCH with the resource.

    RFC 7644 §3.5.2 allows 204 when no attributes were requested, but Okta and
    Entra ID read the updated resource from the PATCH response, and
    scim-sanity's strict profile requires it: so a PATCH always answers 200 with
    the whole resource.
    """

    @staticmethod
    def error_of(exception: Exception) -> Error:
        error = ScimService.error_of(exception)
        error.detail = readable_detail(error.detail)
        return error

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        published = self.publish(base_url, resource)
        return self.resource_response(
            published, Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters
        )
