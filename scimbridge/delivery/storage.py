"""The users as the bridge keeps them: no password, and the read-only delivery state joined in.

design.md, "Delivery state": every User shows
``urn:scimbridge:params:scim:schemas:extension:delivery:2.0:User``. The state
lives in the links table, written by the worker, so it is joined in when a
user is read rather than stored in the SCIM document, where it would go stale.
Only the extension's one writable attribute, ``paused``, is stored with the user.

A ``password`` an IdP sends (Okta's password sync; RFC 7643 §4.1.1 makes it
writeOnly) is dropped before storage: no vendor import takes it from the
bridge, so keeping it would only be a liability.
"""

from __future__ import annotations

from typing import Any

from scim2_models import Resource, ResourceType, ResponseParameters, SearchRequest
from scim2_server.storage import SearchPage
from sqlalchemy import select

from scimbridge.scim.provider import DELIVERY_STATE
from scimbridge.store import SqlStorage
from scimbridge.store.delivery_tables import links


class DeliveryStateStorage(SqlStorage):
    """A :class:`~scimbridge.store.SqlStorage` whose users carry their delivery state and no password."""

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        with self.database.transaction():
            resource = super().get(
                resource_type, resource_id, response_parameters=response_parameters
            )
            self._show_state([resource])
        return resource

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        with self.database.transaction():
            page = super().search(resource_types, search_request, position=position)
            self._show_state(page.resources)
        return page

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        with self.database.transaction():
            created = super().create(resource_type, _storable(resource))
            self._show_state([created])
        return created

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        with self.database.transaction():
            updated = super().update(
                resource_type, _storable(resource), expected_version=expected_version
            )
            self._show_state([updated])
        return updated

    def _show_state(self, resources: list[Resource[Any]]) -> None:
        users = {
            resource.id: resource
            for resource in resources
            if type(resource).get_extension_model(DELIVERY_STATE) is not None
        }
        if not users:
            return
        rows = self.database.session.execute(
            select(links).where(links.c.target == self.target, links.c.scim_id.in_(list(users)))
        )
        for row in rows:
            user = users[row.scim_id]
            state = type(user).get_extension_model(DELIVERY_STATE)
            stored = user[state]
            user[state] = state.model_validate(
                {
                    "status": row.status,
                    "vendorId": row.vendor_id,
                    "lastAttempt": row.last_attempt,
                    "lastError": row.last_error,
                    "paused": stored.paused if stored is not None else None,
                }
            )


def _storable(resource: Resource[Any]) -> Resource[Any]:
    """The resource as stored: without its derived delivery state, and without a password.

    What is left of the extension is ``paused``; an extension without it is not stored.
    """
    state = type(resource).get_extension_model(DELIVERY_STATE)
    delivery = resource[state] if state is not None else None
    derived = delivery is not None and delivery.model_dump(
        exclude={"schemas", "paused"}, exclude_none=True
    )
    if not derived and getattr(resource, "password", None) is None:
        return resource
    stored = resource.model_copy(deep=True)
    if delivery is not None:
        stored[state] = state(paused=delivery.paused) if delivery.paused is not None else None
    if getattr(stored, "password", None) is not None:
        stored.password = None
    return stored
