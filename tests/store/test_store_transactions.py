"""One transaction per request; one SAVEPOINT per SCIM operation (RFC 7644 §3.7)."""

import pytest
from scim2_models import UniquenessException

from scimbridge.store import Database


def user_names(storage, user_type, user_search):
    return sorted(user.user_name for user in storage.search([user_type], user_search()).resources)


def test_a_failed_operation_leaves_the_earlier_and_later_ones(
    database, storage, user_type, user_model, user_search
):
    with database.transaction():
        with storage.operation():
            storage.create(user_type, user_model(user_name="first"))
        with pytest.raises(UniquenessException), storage.operation():
            storage.create(user_type, user_model(user_name="second"))
            storage.create(user_type, user_model(user_name="FIRST"))
        with storage.operation():
            storage.create(user_type, user_model(user_name="third"))

    assert user_names(storage, user_type, user_search) == ["first", "third"]


def test_an_exception_rolls_the_whole_transaction_back(
    database, storage, user_type, user_model, user_search
):
    with pytest.raises(RuntimeError), database.transaction():
        storage.create(user_type, user_model(user_name="bjensen"))
        raise RuntimeError

    assert user_names(storage, user_type, user_search) == []


def test_a_nested_transaction_joins_the_outer_one(database: Database):
    with database.transaction() as outer, database.transaction() as inner:
        assert inner is outer
        assert database.session is outer


def test_there_is_no_session_outside_a_transaction(database: Database):
    with pytest.raises(RuntimeError):
        database.session  # noqa: B018


def test_a_user_name_is_unique_whatever_its_case(storage, user_type, user_model):
    storage.create(user_type, user_model(user_name="bjensen"))

    with pytest.raises(UniquenessException):
        storage.create(user_type, user_model(user_name="BJENSEN"))


def test_a_user_may_change_the_case_of_its_own_user_name(storage, user_type, user_model):
    user = storage.create(user_type, user_model(user_name="bjensen"))
    user.user_name = "BJensen"

    assert storage.update(user_type, user).user_name == "BJensen"


def test_a_write_inside_a_reading_transaction_is_refused_and_writes_nothing(
    database, storage, user_type, user_model, user_search
):
    """SQLite could not upgrade a reading snapshot to a write without risking a lost
    update, so the programming error is refused at once."""
    with database.transaction(writing=False), pytest.raises(RuntimeError, match="reading"):
        storage.create(user_type, user_model(user_name="sneaky"))

    assert user_names(storage, user_type, user_search) == []


def test_a_read_joins_a_writing_transaction_and_sees_its_writes(
    database, storage, user_type, user_model, user_search
):
    with database.transaction():
        storage.create(user_type, user_model(user_name="fresh"))

        assert user_names(storage, user_type, user_search) == ["fresh"]
