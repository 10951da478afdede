"""The bridge's delivery extension as a SCIM client sees it (design.md, "Delivery state").

``paused`` is readWrite and returned by default; the state attributes are
readOnly and returned on request only (RFC 7643 §7).
"""

from __future__ import annotations

from typing import Any

from scim_client import USER_SCHEMA, ScimClient, patch_op

from scimbridge.scim.provider import DELIVERY_STATE

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
