"""The users as the bridge keeps them: no password, and the read-only delivery state joined in.

docs/architecture.md, "Delivery state": every User shows
``urn:scimbridge:params:scim:schemas:extension:delivery:2.0:User``. The state
lives in the links table, written by the worker, so it is joined in when a
user is read rather than stored in the SCIM document, where it would go stale.
Only the extension's one writable attribute, ``paused``, is stored with the user.

A ``password`` an IdP sends (Okta's password sync; RFC 7643 §4.1.1 makes it
writeOnly) is dropped before storage: no vendor import takes it from the
bridge, so keeping it would only be a liability.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from scim2_models import Resource, ResourceType, ResponseParameters, SearchRequest
from scim2_server.storage import SearchPage
from sqlalchemy import select

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.store import SqlStorage
from scimbridge.store.delivery_tables import links
from scimbridge.store.filters import Derived
from scimbridge.store.tables import resources

STATE_COLUMNS = {
    "status": links.c.status,
    "vendorId": links.c.vendor_id,
    "lastAttempt": links.c.last_attempt,
    "lastError": links.c.last_error,
}
"""The delivery state's attributes and the ``links`` columns they show."""


class DeliveryStateStorage(SqlStorage):
    """A :class:`~scimbridge.store.SqlStorage` whose users carry their delivery state and no password."""

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        with self.database.transaction(writing=False):
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
        with self.database.transaction(writing=False):
            page = super().search(resource_types, search_request, position=position)
            self._show_state(page.resources)
        return page

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        """The created resource, without its state: a creation response (RFC 7644 §3.3)
        holds the default attributes only, and the state is returned on request."""
        return super().create(resource_type, _storable(resource))

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

    def derived_attributes(self, resource_type: str) -> Derived:
        """The state attributes, read from the user's link, so that an admin's
        ``filter=urn:…:delivery:2.0:User:status eq "failed"`` finds the failed users."""
        return self._state_of_link if resource_type == "User" else {}

    @cached_property
    def _state_of_link(self) -> Derived:
        """Built once: a statement's columns are worked out the first time they are used."""
        return {
            f"{DELIVERY_STATE}:{attribute}": select(column)
            .where(links.c.target == self.target, links.c.scim_id == resources.c.id)
            .scalar_subquery()
            for attribute, column in STATE_COLUMNS.items()
        }

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
            assert state is not None  # ``users`` holds the resources that have it
            stored = user[state]
            shown = {attribute: row._mapping[column] for attribute, column in STATE_COLUMNS.items()}
            shown["paused"] = stored.paused if stored is not None else None
            user[state] = state.model_validate(shown)


def _storable(resource: Resource[Any]) -> Resource[Any]:
    """The resource as stored: without its derived delivery state, and without a password.

    What is left of the extension is ``paused``; an extension without it is not stored.
    A ``paused`` a client wrote, false included, reads back as written (scim2-tester
    checks it), and is shown by default; the state attributes are shown on request only.
    """
    # the extension's model is built from its schema at run time: mypy knows no ``paused``
    state: type[Any] | None = type(resource).get_extension_model(DELIVERY_STATE)
    delivery = resource[state] if state is not None else None
    derived = delivery is not None and delivery.model_dump(
        exclude={"schemas", "paused"}, exclude_none=True
    )
    if not derived and getattr(resource, "password", None) is None:
        return resource
    stored = resource.model_copy(deep=True)
    if state is not None and delivery is not None:  # delivery is there only with state
        stored[state] = state(paused=delivery.paused) if delivery.paused is not None else None
    if getattr(stored, "password", None) is not None:
        cast(Any, stored).password = None  # a User of any extension: the class is built at run time
    return stored
