"""Group members are rows of their own, reassembled on read, and follow their users' deletion."""

import pytest
from scim2_models import ResponseParameters, SearchRequest
from scim2_server.utils import parametrize
from sqlalchemy import select

from scimbridge.store.tables import group_members, resources


@pytest.fixture
def users(storage, user_type, user_model):
    return [storage.create(user_type, user_model(user_name=name)) for name in ("alice", "bob")]


@pytest.fixture
def admins(storage, group_type, group_model, users):
    members = [{"value": user.id, "display": user.user_name, "type": "User"} for user in users]
    return storage.create(group_type, group_model(display_name="Admins", members=members))


def stored(database, query):
    with database.transaction() as session:
        return session.execute(query).all()


def test_members_are_stored_as_rows_not_in_the_document(database, admins, users):
    rows = stored(database, select(group_members).order_by(group_members.c.position))
    (document,) = stored(database, select(resources.c.document).where(resources.c.id == admins.id))

    assert [(row.value, row.display, row.type) for row in rows] == [
        (users[0].id, "alice", "User"),
        (users[1].id, "bob", "User"),
    ]
    assert "members" not in document.document


def test_members_are_reassembled_in_their_order(storage, group_type, admins, users):
    group = storage.get(group_type, admins.id)

    assert [member.value for member in group.members] == [user.id for user in users]
    assert [member.display for member in group.members] == ["alice", "bob"]


def test_members_are_not_loaded_when_the_response_excludes_them(
    storage, group_type, group_model, admins
):
    parameters = parametrize(ResponseParameters, group_model)(excluded_attributes=["members"])

    group = storage.get(group_type, admins.id, response_parameters=parameters)

    assert group.members is None
    assert group.display_name == "Admins"


def test_groups_of_lists_the_groups_having_the_user_as_a_direct_member(
    storage, group_type, group_model, admins, users
):
    storage.create(group_type, group_model(display_name="Others", members=[{"value": users[1].id}]))

    groups = storage.groups_of([users[0].id, users[1].id])

    assert groups[users[0].id] == [(admins.id, "Admins")]
    assert [name for _, name in groups[users[1].id]] == ["Admins", "Others"]


def test_deleting_a_user_removes_it_from_its_groups(storage, user_type, group_type, admins, users):
    storage.delete(user_type, users[0].id)

    group = storage.get(group_type, admins.id)
    assert [member.value for member in group.members] == [users[1].id]
    assert storage.groups_of([users[0].id]) == {}


def test_a_group_losing_a_deleted_member_gets_a_new_version(
    storage, user_type, group_type, admins, users
):
    storage.delete(user_type, users[0].id)

    assert storage.get(group_type, admins.id).meta.version != admins.meta.version


def test_a_member_filter_finds_the_group(storage, group_type, group_model, admins, users):
    request = parametrize(SearchRequest, group_model)(filter=f'members.value eq "{users[1].id}"')

    page = storage.search([group_type], request)

    assert [group.id for group in page.resources] == [admins.id]
