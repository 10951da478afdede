"""The bridge's delivery extension as a SCIM client sees it (docs/architecture.md, "Delivery state").

``paused`` is readWrite and returned by default; the state attributes are
readOnly and returned on request only (RFC 7643 §7).
"""

from __future__ import annotations

from typing import Any

from scim_client import USER_SCHEMA, ScimClient, patch_op
from sqlalchemy import update

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.store.delivery_tables import links

STATUS = f"{DELIVERY_STATE}:status"


def paused_user(client: ScimClient, user_name: str = "paused") -> dict[str, Any]:
    return client.create_user(
        user_name,
        schemas=[USER_SCHEMA, DELIVERY_STATE],
        **{DELIVERY_STATE: {"paused": True}},
    )


def test_paused_is_stored_and_returned_by_default(entra: ScimClient) -> None:
    created = paused_user(entra)

    assert created[DELIVERY_STATE] == {"paused": True}
    assert entra.fetch(f"/Users/{created['id']}")[DELIVERY_STATE] == {"paused": True}


def test_a_user_without_the_extension_shows_none(entra: ScimClient) -> None:
    created = entra.create_user("plain")

    assert DELIVERY_STATE not in entra.fetch(f"/Users/{created['id']}")


def test_the_state_is_returned_beside_paused_on_request(entra: ScimClient) -> None:
    created = paused_user(entra)

    body = entra.fetch(f"/Users/{created['id']}?attributes={STATUS},{DELIVERY_STATE}:paused")

    assert body[DELIVERY_STATE] == {"status": "held", "paused": True}


def test_a_listing_returns_the_state_it_asks_for(entra: ScimClient) -> None:
    """scim2-server 0.8.3 dropped ``returned: request`` attributes from listings."""
    entra.create_user("plain")

    listing = entra.fetch(f"/Users?attributes={STATUS}")

    assert [user[DELIVERY_STATE] for user in listing["Resources"]] == [{"status": "pending"}]


def test_a_full_replace_put_without_the_extension_keeps_paused(entra: ScimClient) -> None:
    """Okta's PUT carries only what Okta knows; it must not unpause the user."""
    created = paused_user(entra)

    response = entra.put(
        f"/Users/{created['id']}",
        {"schemas": [USER_SCHEMA], "userName": "paused", "displayName": "P"},
    )

    assert response.status_code == 200
    assert response.get_json()[DELIVERY_STATE] == {"paused": True}


def test_a_put_with_the_extension_changes_paused(entra: ScimClient) -> None:
    created = paused_user(entra)

    response = entra.put(
        f"/Users/{created['id']}",
        {
            "schemas": [USER_SCHEMA, DELIVERY_STATE],
            "userName": "paused",
            DELIVERY_STATE: {"paused": False},
        },
    )

    assert response.get_json()[DELIVERY_STATE] == {"paused": False}


def test_an_unpaused_user_shows_paused_but_not_its_state_in_a_plain_read(
    entra: ScimClient,
) -> None:
    """``paused`` is returned by default; the state attributes on request only."""
    created = paused_user(entra)

    entra.patch(
        f"/Users/{created['id']}",
        patch_op({"op": "replace", "path": f"{DELIVERY_STATE}:paused", "value": False}),
    )

    assert entra.fetch(f"/Users/{created['id']}")[DELIVERY_STATE] == {"paused": False}
    assert entra.fetch(f"/Users/{created['id']}?attributes={STATUS}")[DELIVERY_STATE] == {
        "status": "pending"
    }


def test_patch_remove_of_the_extension_clears_paused(entra: ScimClient) -> None:
    created = paused_user(entra)

    response = entra.patch(
        f"/Users/{created['id']}", patch_op({"op": "remove", "path": DELIVERY_STATE})
    )

    assert response.status_code == 200
    assert DELIVERY_STATE not in response.get_json()


def test_the_state_cannot_be_written(entra: ScimClient) -> None:
    """RFC 7644 §3.5.2: a PATCH of a readOnly attribute is a 400 ``mutability``."""
    created = entra.create_user("plain")

    response = entra.patch(
        f"/Users/{created['id']}", patch_op({"op": "replace", "path": STATUS, "value": "delivered"})
    )

    assert response.status_code == 400
    assert response.get_json()["scimType"] == "mutability"
    assert entra.fetch(f"/Users/{created['id']}?attributes={STATUS}")[DELIVERY_STATE] == {
        "status": "pending"
    }


def test_a_state_sent_on_create_is_ignored(entra: ScimClient) -> None:
    """RFC 7643 §7: readOnly attributes in a request are ignored by the service provider."""
    created = entra.create_user(
        "sneaky", schemas=[USER_SCHEMA, DELIVERY_STATE], **{DELIVERY_STATE: {"status": "delivered"}}
    )

    body = entra.fetch(f"/Users/{created['id']}?attributes={STATUS}")

    assert body[DELIVERY_STATE] == {"status": "pending"}


class TestFilteringOnTheState:
    """docs/architecture.md, "Delivery state": an admin finds the users a vendor refused."""

    def test_a_filter_on_status_finds_the_users_in_that_state(
        self, app: Any, entra: ScimClient
    ) -> None:
        held = paused_user(entra, "held")
        entra.create_user("plain")

        listing = entra.fetch(f'/Users?filter={STATUS} eq "held"')

        assert [user["id"] for user in listing["Resources"]] == [held["id"]]

    def test_a_filter_on_status_finds_failed_users(self, app: Any, entra: ScimClient) -> None:
        failed = entra.create_user("refused")
        entra.create_user("waiting")
        mark_failed(app, failed["id"])

        listing = entra.fetch(f'/Users?filter={STATUS} eq "failed"')

        assert [user["userName"] for user in listing["Resources"]] == ["refused"]

    def test_ne_and_pr_on_the_state(self, app: Any, entra: ScimClient) -> None:
        failed = entra.create_user("refused")
        entra.create_user("waiting")
        mark_failed(app, failed["id"], error="the vendor said no")

        not_failed = entra.fetch(f'/Users?filter={STATUS} ne "failed"')
        with_error = entra.fetch(f"/Users?filter={DELIVERY_STATE}:lastError pr")

        assert [user["userName"] for user in not_failed["Resources"]] == ["waiting"]
        assert [user["userName"] for user in with_error["Resources"]] == ["refused"]

    def test_a_substring_of_the_last_error(self, app: Any, entra: ScimClient) -> None:
        failed = entra.create_user("refused")
        mark_failed(app, failed["id"], error="409 Conflict: email taken")

        listing = entra.fetch(f'/Users?filter={DELIVERY_STATE}:lastError co "email taken"')

        assert listing["totalResults"] == 1


def mark_failed(app: Any, scim_id: str, error: str = "refused") -> None:
    """What the worker writes on the link of a user the vendor refused for good."""
    bridge = app.extensions["scimbridge"]
    with bridge.database.transaction() as session:
        session.execute(
            update(links)
            .where(links.c.scim_id == scim_id)
            .values(status="failed", last_error=error)
        )
