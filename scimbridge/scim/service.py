"""The bridge's tweaks to the library's SCIM service, each one answering an IdP's expectation."""

from __future__ import annotations

import re
from typing import Any

from scim2_models import Context, Error, Resource, ResourceType, ResponseParameters, SearchRequest
from scim2_server.conditions import Conditions
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.storage import SearchPage

from scimbridge.scim.provider import DELIVERY_STATE

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
    """A :class:`~scim2_server.service.ScimService` with the bridge's three departures.

    - PATCH answers 200 with the resource. RFC 7644 §3.5.2 allows 204 when no
      attributes were requested, but Okta and Entra ID read the updated
      resource from the PATCH response, and scim-sanity's strict profile
      requires it.
    - A PUT that leaves out the delivery extension keeps its ``paused``.
    - A listing keeps the ``returned: request`` attributes its ``attributes``
      asked for.
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

    def apply_replacement(
        self, current: Resource[Any], replacement: Resource[Any], conditions: Conditions
    ) -> Resource[Any] | None:
        """Keep the delivery extension a full-replace PUT leaves out.

        Okta replaces a user with what it knows of it, and no IdP knows the
        bridge's own extension: a PUT would otherwise resume a paused user's
        delivery behind the admin's back. RFC 7644 §3.5.1 lets the service
        provider "assign a default value" to an omitted readWrite attribute;
        the default is the current one.
        """
        extension = type(current).get_extension_model(DELIVERY_STATE)
        if extension is not None and replacement[extension] is None:
            replacement[extension] = current[extension]
        return super().apply_replacement(current, replacement, conditions)

    def search_response(
        self,
        base_url: str,
        resource_types: list[ResourceType],
        page: SearchPage,
        search_request: SearchRequest[Any],
    ) -> ScimResponse:
        """The library's listing, whose resources are dumped once with the request's parameters.

        scim2-server 0.8.3 dumps each resource with ``attributes`` applied, then
        validates and dumps the whole ListResponse again without them, which
        drops every ``returned: request`` attribute (RFC 7643 §7) that the
        request asked for: ``GET /Users?attributes=urn:…:delivery:2.0:User:status``
        answered no status.
        """
        response = super().search_response(base_url, resource_types, page, search_request)
        if search_request.attributes and response.body is not None and page.resources:
            response.body["Resources"] = [
                self.publish(base_url, resource).model_dump(
                    scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=search_request
                )
                for resource in page.resources
            ]
        return response
