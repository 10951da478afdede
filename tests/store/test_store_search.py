"""Filters run in SQL, on the search index, with the semantics of ScimFilter.match."""

import pytest
from scim2_models import SearchRequest
from scim2_server.utils import parametrize
from sqlalchemy import event

from scimbridge.store import SqlStorage

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def alice(storage, user_type, user_model):
    return storage.create(
        user_type,
        user_model.model_validate(
            {
                "userName": "alice",
                "externalId": "Ext-1",
                "emails": [
                    {"value": "alice@home.example", "type": "home"},
                    {"value": "alice@work.example", "type": "work"},
                ],
                ENTERPRISE: {"employeeNumber": "100"},
            }
        ),
    )


def found(storage, user_type, user_search, scim_filter):
    return [
        user.user_name
        for user in storage.search([user_type], user_search(filter=scim_filter)).resources
    ]


def test_a_value_filter_requires_both_conditions_of_the_same_entry(
    storage, alice, user_type, user_search
):
    assert found(storage, user_type, user_search, 'emails[type eq "work" and value co "work"]') == [
        "alice"
    ]
    assert (
        found(storage, user_type, user_search, 'emails[type eq "work" and value co "home"]') == []
    )


def test_a_case_exact_attribute_is_compared_with_its_case(storage, alice, user_type, user_search):
    assert found(storage, user_type, user_search, 'externalId eq "Ext-1"') == ["alice"]
    assert found(storage, user_type, user_search, 'externalId eq "ext-1"') == []


def test_an_extension_attribute_is_filtered_by_its_urn(storage, alice, user_type, user_search):
    assert found(storage, user_type, user_search, f'{ENTERPRISE}:employeeNumber eq "100"') == [
        "alice"
    ]


def test_an_identifier_is_filtered(storage, alice, user_type, user_search):
    assert found(storage, user_type, user_search, f'id eq "{alice.id}"') == ["alice"]


def test_a_root_search_applies_each_types_own_attributes(
    storage, alice, user_type, group_type, user_model, group_model
):
    group = storage.create(group_type, group_model(display_name="alice"))
    request = parametrize(SearchRequest, user_model | group_model)(
        filter='displayName eq "alice" or userName eq "alice"'
    )

    page = storage.search([user_type, group_type], request)

    assert sorted(resource.id for resource in page.resources) == sorted([alice.id, group.id])


def test_a_user_name_search_uses_the_search_index(
    sqlite_database, provider, user_type, user_model, user_search
):
    storage = SqlStorage(sqlite_database, "chat", provider=provider)
    storage.create(user_type, user_model(user_name="bjensen"))
    statements = []
    event.listen(
        sqlite_database.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, parameters, _context, _many: statements.append(
            (statement, parameters)
        ),
    )

    storage.search([user_type], user_search(filter='userName eq "BJensen"'))

    statement, parameters = next(
        (statement, parameters)
        for statement, parameters in statements
        if "LIMIT" not in statement and "count" in statement
    )
    with sqlite_database.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert any("ix_search_index_target_resource_type_path_text_key" in row[-1] for row in plan)
    # The search index leads: the users it names are fetched by key, not found by walking
    # every user of the target, which would slow a lookup down as the tenant grows.
    assert any("resources USING INTEGER PRIMARY KEY" in row[-1] for row in plan)


def test_a_binary_value_is_stored_and_found(storage, user_type, user_model, user_search):
    user = storage.create(
        user_type,
        user_model.model_validate(
            {"userName": "carol", "x509Certificates": [{"value": "YWJj", "type": "signing"}]}
        ),
    )

    assert storage.get(user_type, user.id).x_509_certificates[0].value == b"abc"
    assert found(storage, user_type, user_search, 'x509Certificates[type eq "signing"]') == [
        "carol"
    ]
