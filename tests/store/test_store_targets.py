"""Each bridge target sees only its own resources, in one shared database."""

import pytest
from scim2_models import NotFoundException

from scimbridge.store import SqlStorage


@pytest.fixture
def chat(make_storage) -> SqlStorage:
    return make_storage("chat")


@pytest.fixture
def okta(make_storage) -> SqlStorage:
    return make_storage("okta")


@pytest.fixture
def okta_user(okta, user_type, user_model):
    return okta.create(user_type, user_model(user_name="bjensen"))


def test_the_same_user_name_may_exist_in_two_targets(chat, okta_user, user_type, user_model):
    created = chat.create(user_type, user_model(user_name="BJensen"))

    assert created.id != okta_user.id


def test_a_target_cannot_read_another_targets_resource(chat, okta_user, user_type):
    with pytest.raises(NotFoundException):
        chat.get(user_type, okta_user.id)


def test_a_target_does_not_find_another_targets_resources(chat, okta_user, user_type, user_search):
    page = chat.search([user_type], user_search(filter='userName eq "bjensen"'))

    assert (page.total, page.resources) == (0, [])


def test_a_target_cannot_update_another_targets_resource(chat, okta, okta_user, user_type):
    okta_user.display_name = "Hijacked"

    with pytest.raises(NotFoundException):
        chat.update(user_type, okta_user)
    assert okta.get(user_type, okta_user.id).display_name is None


def test_a_target_cannot_delete_another_targets_resource(chat, okta, okta_user, user_type):
    with pytest.raises(NotFoundException):
        chat.delete(user_type, okta_user.id)
    assert okta.get(user_type, okta_user.id).user_name == "bjensen"
