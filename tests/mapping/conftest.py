"""Shared fixtures: the shipped mapping files, and SCIM users shaped as Entra ID and Okta send them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scimbridge.config import default_mapping
from scimbridge.mapping import Mapping, MappingContext, load_mapping
from scimbridge.vendors import record_shape

VENDORS = ("confide", "acc", "aria", "rocketchat", "cloudshell")
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture(scope="session")
def mappings() -> dict[str, Mapping]:
    """Every shipped mapping file, loaded once."""
    return {vendor: load_mapping(str(default_mapping(vendor)), record_shape) for vendor in VENDORS}


@pytest.fixture
def first_import() -> MappingContext:
    return MappingContext(stable_id="link-1")


@pytest.fixture
def reimport() -> MappingContext:
    return MappingContext(stable_id="link-1", vendor_id="vendor-1", first_import=False)


def build_entra_user(
    user_name: str,
    given: str,
    family: str,
    email: str | None = None,
    *,
    enterprise: bool = True,
    **more: Any,
) -> dict[str, Any]:
    """A user as Entra ID provisions it: UPN userName, work email, enterprise extension."""
    user: dict[str, Any] = {
        "schemas": [CORE_USER, *([ENTERPRISE_USER] if enterprise else [])],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": given.lower(),
        "userName": user_name,
        "active": True,
        "displayName": f"{given} {family}",
        "name": {"formatted": f"{given} {family}", "givenName": given, "familyName": family},
        "emails": [{"primary": True, "type": "work", "value": email or user_name}],
        "title": "Engineer",
        "meta": {"resourceType": "User"},
    }
    if enterprise:
        user[ENTERPRISE_USER] = {
            "department": "Construction",
            "employeeNumber": "701984",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"},
        }
    return {**user, **more}


def build_okta_user(
    user_name: str, given: str, family: str, email: str, **more: Any
) -> dict[str, Any]:
    """A user as Okta provisions it: core schema only, a primary work email, locale."""
    user = {
        "schemas": [CORE_USER],
        "id": "00u1ab2cd3EF4gh5i6j7",
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": "00u1ab2cd3EF4gh5i6j7",
        "active": True,
    }
    return {**user, **more}


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[[str], str]:
    """Write a mapping file from (dedented) YAML text and give its path."""

    def write(text: str, name: str = "mapping.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def entra_user() -> Callable[..., dict[str, Any]]:
    return build_entra_user


@pytest.fixture
def okta_user() -> Callable[..., dict[str, Any]]:
    return build_okta_user


@pytest.fixture
def mappings_dir() -> Path:
    """The directory of the shipped mapping files."""
    return default_mapping("rocketchat").parent
