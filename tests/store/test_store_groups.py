"""Group members are rows of their own, reassembled on read, and follow their users' deletion."""

import pytest
from scim2_models import ResponseParameters, SearchRequest, UniquenessException
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


class TestMembershipChangesAreWrittenAsDifferences:
    """An update keeps the rows of the members it leaves alone: adding one member to a
    group of thousands writes that member's rows only."""

    @pytest.fixture
    def carol(self, storage, user_type, user_model):
        return storage.create(user_type, user_model(user_name="carol"))

    def member_rows(self, database):
        return stored(database, select(group_members).order_by(group_members.c.position))

    def test_an_added_member_is_appended_and_the_others_keep_their_rows(
        self, database, storage, group_type, admins, users, carol
    ):
        before = self.member_rows(database)
        group = storage.get(group_type, admins.id)
        group.members = [*group.members, {"value": carol.id, "type": "User"}]

        storage.update(group_type, group)

        after = self.member_rows(database)
        assert after[:2] == before
        assert [(row.position, row.value) for row in after[2:]] == [(2, carol.id)]

    def test_a_removed_member_leaves_the_others_where_they_were(
        self, database, storage, group_type, admins, users
    ):
        group = storage.get(group_type, admins.id)
        group.members = group.members[1:]

        storage.update(group_type, group)

        assert [(row.position, row.value) for row in self.member_rows(database)] == [
            (1, users[1].id)
        ]

    def test_a_value_filter_holds_on_a_member_after_one_before_it_left(
        self, storage, group_type, group_model, admins, users, carol
    ):
        """The index numbers a member's rows by its stored position, so the conditions
        of a value filter still meet on one member once the positions have gaps."""
        group = storage.get(group_type, admins.id)
        group.members = [*group.members[1:], {"value": carol.id, "type": "Group"}]
        storage.update(group_type, group)
        search = parametrize(SearchRequest, group_model)

        found = storage.search(
            [group_type], search(filter=f'members[value eq "{users[1].id}" and type eq "User"]')
        )
        crossed = storage.search(
            [group_type], search(filter=f'members[value eq "{carol.id}" and type eq "User"]')
        )

        assert [group.id for group in found.resources] == [admins.id]
        assert crossed.resources == []

    def test_members_read_back_in_their_new_order(self, storage, group_type, admins, users, carol):
        group = storage.get(group_type, admins.id)
        group.members = [{"value": carol.id}, group.members[1], group.members[0]]

        storage.update(group_type, group)

        assert [member.value for member in storage.get(group_type, admins.id).members] == [
            carol.id,
            users[1].id,
            users[0].id,
        ]


def test_a_changed_user_name_frees_the_old_one(storage, user_type, user_model, users):
    renamed = storage.get(user_type, users[0].id)
    renamed.user_name = "alicia"
    storage.update(user_type, renamed)

    again = storage.create(user_type, user_model(user_name="alice"))

    assert again.user_name == "alice"


def test_a_user_name_taken_by_another_user_is_refused_and_nothing_changes(
    storage, user_type, users
):
    renamed = storage.get(user_type, users[0].id)
    renamed.user_name = "BOB"

    with pytest.raises(UniquenessException):
        storage.update(user_type, renamed)

    assert storage.get(user_type, users[0].id).user_name == "alice"
