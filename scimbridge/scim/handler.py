"""The library's request handler, with writes of one resource serialised and plain reads lean.

scim2-server reads the resource, applies the PATCH or PUT, and stores the result
on condition that the version is still the one it read. Two IdP requests that
change one resource at once (Okta and Entra ID push group memberships in
parallel, without ``If-Match``) would then end with one 200 and a 412 for the
other, although the client never asked for a precondition: RFC 7644 §3.14 makes
412 the answer to a failed ``If-Match``, not to a concurrent writer. Here the
row is locked before it is read, so concurrent writes take turns, each applied
to the result of the one before; an ``If-Match`` is checked against the version
read under the lock and keeps its 412.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from scim2_models import Resource, ResourceType
from scim2_server.conditions import Conditions
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation

from scimbridge.scim.members import add_member_display
from scimbridge.store import SqlStorage

CHOOSING = ("attributes", "excludedattributes")
"""The parameters with which a request chooses the attributes of its response (RFC 7644
§3.4.2.5), in query strings and ``.search`` bodies alike, compared case-insensitively."""


def _chooses_attributes(request: ScimRequest) -> bool:
    if any(name.casefold() in CHOOSING for name in request.query):
        return True
    if not request.body or not request.path.rstrip("/").endswith(".search"):
        return False
    try:
        body = json.loads(request.body)
    except ValueError:
        return False
    return isinstance(body, dict) and any(
        isinstance(name, str) and name.casefold() in CHOOSING for name in body
    )


if TYPE_CHECKING:
    from scim2_models import PatchOp

    from scimbridge.scim.service import BridgeService


class BridgeHandler(ScimHandler):
    """A :class:`~scim2_server.handler.ScimHandler` over a :class:`~scimbridge.store.SqlStorage`."""

    service: BridgeService
    storage: SqlStorage

    def handle(self, request: ScimRequest) -> ScimResponse:
        """The library's response, its Group members each with a ``display``
        (:mod:`scimbridge.scim.members`)."""
        response = super().handle(request)
        if response.body is not None and not _chooses_attributes(request):
            add_member_display(response.body, self.storage.display_names)
        return response

    def query(self, request: ScimRequest) -> ScimResponse:
        """The read of a resource: the plain ``GET /Users/{id}`` an IdP sends before each
        change is answered from the stored representation (see
        :meth:`~scimbridge.store.SqlStorage.representation`); the library answers the rest.
        """
        plain = self._stored_representation(request)
        return plain if plain is not None else super().query(request)

    def search(self, request: ScimRequest) -> ScimResponse:
        """A search with GET: the lookups an IdP repeats every cycle (``filter=userName eq
        "…"``) are answered from the stored representations when the request asks for no
        ``attributes`` or ``excludedAttributes``; the library answers the rest."""
        plain = self._stored_listing(request)
        return plain if plain is not None else super().search(request)

    def _stored_listing(self, request: ScimRequest) -> ScimResponse | None:
        """The library's listing of a plain search, without the models; None for any other."""
        if "attributes" in request.query or "excludedAttributes" in request.query:
            return None
        with self.service.provider:
            target = self.service.route(request, Operation.search)
            resource_types = self.service.searched_types(target.endpoint)
            authorized = self.service.authorized_types(request, target, resource_types)
            search_request, _ = self.service.read_search_query(resource_types, request.query)
            if search_request.cursor is not None:
                return None
            found = self.storage.search_representations(authorized, search_request)
        if found is None:
            return None
        total, page = found
        for resource in page:
            resource["meta"]["location"] = self.service.resource_location(
                request.base_url,
                self.service.get_resource_type(resource["meta"]["resourceType"]),
                resource["id"],
            )
        return ScimResponse(HTTPStatus.OK, self.service.listing(total, search_request, page))

    def _stored_representation(self, request: ScimRequest) -> ScimResponse | None:
        """The library's response to a read that has no parameters, no conditions and is
        not on ``/Me``, without its models; None for any other read."""
        conditional = request.header("If-None-Match") or request.header("If-Match")
        if request.query or conditional or not self.service.etag_supported:
            return None
        with self.service.provider:
            target = self.service.route(request, Operation.query)
            if target.me or target.resource_id is None:
                return None
            resource_type = self.service.resource_type_at(cast(str, target.endpoint))
            self.service.authorize(request, target, resource_type)
            body = self.storage.representation(resource_type, target.resource_id)
        if body is None:
            return None
        location = self.service.resource_location(
            request.base_url, resource_type, target.resource_id
        )
        body["meta"]["location"] = location
        headers = {"Content-Location": location, "ETag": body["meta"]["version"]}
        return ScimResponse(HTTPStatus.OK, body, headers)

    def patch_resource(
        self,
        resource_type: ResourceType,
        resource_id: str,
        patch_op: PatchOp[Any],
        conditions: Conditions,
    ) -> Resource[Any]:
        self.storage.lock(resource_type, resource_id)
        return super().patch_resource(resource_type, resource_id, patch_op, conditions)

    def replace_resource(
        self,
        resource_type: ResourceType,
        current: Resource[Any],
        replacement: Resource[Any],
        conditions: Conditions,
    ) -> Resource[Any]:
        """The library read ``current`` before any lock: it is read again under the lock."""
        assert current.id is not None
        self.storage.lock(resource_type, current.id)
        current = self.storage.get(resource_type, current.id)
        return super().replace_resource(resource_type, current, replacement, conditions)

    def delete_resource(
        self, resource_type: ResourceType, resource_id: str, conditions: Conditions
    ) -> None:
        self.storage.lock(resource_type, resource_id)
        super().delete_resource(resource_type, resource_id, conditions)
