"""Listeners see every write inside its transaction, and can veto it by raising."""

import pytest
from scim2_models import NotFoundException
from sqlalchemy import func, select

from scimbridge.store import StoreEvent
from scimbridge.store.tables import resources


class Recorder:
    """A listener keeping its events, and what its session saw of the written resource."""

    def __init__(self):
        self.events: list[StoreEvent] = []
        self.rows_seen: list[int] = []

    def __call__(self, session, event: StoreEvent) -> None:
        self.events.append(event)
        count = select(func.count()).where(resources.c.id == event.resource_id)
        self.rows_seen.append(session.execute(count).scalar_one())


class Veto(Exception):
    pass


def refuse(session, event):
    raise Veto


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def recorded(make_storage, recorder):
    return make_storage("chat", (recorder,))


def test_a_creation_is_announced_with_the_created_resource(
    recorded, recorder, user_type, user_model
):
    user = recorded.create(user_type, user_model(user_name="bjensen"))

    (event,) = recorder.events
    assert (event.target, event.resource_type, event.resource_id, event.operation) == (
        "chat",
        "User",
        user.id,
        "create",
    )
    assert event.before is None
    assert event.after.user_name == "bjensen"


def test_a_listener_sees_the_write_in_its_own_transaction(
    recorded, recorder, user_type, user_model
):
    recorded.create(user_type, user_model(user_name="bjensen"))

    assert recorder.rows_seen == [1]


def test_an_update_is_announced_with_both_states(recorded, recorder, user_type, user_model):
    user = recorded.create(user_type, user_model(user_name="bjensen"))
    user.display_name = "Babs"

    recorded.update(user_type, user)

    event = recorder.events[-1]
    assert event.operation == "update"
    assert (event.before.display_name, event.after.display_name) == (None, "Babs")


def test_a_deletion_is_announced_with_the_former_state(recorded, recorder, user_type, user_model):
    user = recorded.create(user_type, user_model(user_name="bjensen"))

    recorded.delete(user_type, user.id)

    event = recorder.events[-1]
    assert event.operation == "delete"
    assert (event.before.user_name, event.after) == ("bjensen", None)


def test_a_listener_raising_rolls_the_creation_back(
    make_storage, storage, user_type, user_model, user_search
):
    vetoing = make_storage("chat", (refuse,))

    with pytest.raises(Veto):
        vetoing.create(user_type, user_model(user_name="bjensen"))

    assert storage.search([user_type], user_search()).total == 0


def test_a_listener_raising_rolls_the_deletion_back(make_storage, storage, user_type, user_model):
    user = storage.create(user_type, user_model(user_name="bjensen"))
    vetoing = make_storage("chat", (refuse,))

    with pytest.raises(Veto):
        vetoing.delete(user_type, user.id)

    assert storage.get(user_type, user.id).user_name == "bjensen"


def test_a_listener_raising_inside_a_request_undoes_only_that_write(
    database, make_storage, storage, user_type, user_model, user_search
):
    vetoing = make_storage("chat", (refuse,))

    with database.transaction():
        kept = storage.create(user_type, user_model(user_name="kept"))
        with pytest.raises(Veto):
            vetoing.create(user_type, user_model(user_name="vetoed"))

    assert [user.id for user in storage.search([user_type], user_search()).resources] == [kept.id]
    with pytest.raises(NotFoundException):
        storage.get(user_type, "vetoed")
