"""How the bridge compares SCIM strings: one rule for the index, the mapping and the identity lookup.

RFC 7643 §2.2: a string attribute is compared case-insensitively unless it is
``caseExact``. scim2-models gives the comparable form of a value
(``AttributeBinding.comparable``: NFC, then lower-cased unless caseExact), and
``ScimFilter.match`` compares in it; the search index stores it. Everything
else that decides "the same value" goes through here too — a mapping's
``emails[type eq "Work"]``, a ``from_groups`` group name, the userName that
finds a former user's tombstone — so that no two parts of the bridge disagree
(``casefold`` would make "Straße" equal "STRASSE"; the filter does not, and a
new person could then inherit a former user's vendor account).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from scim2_models import AttributeBinding, Group, Path, User


def _binding(path: Path[Any]) -> AttributeBinding:
    binding = path.resolve()
    assert binding is not None, f"scim2-models resolves {path} no more"
    return binding


USER_NAME = _binding(Path[User[Any]]("userName"))
GROUP_DISPLAY_NAME = _binding(Path[Group]("displayName"))


def comparable(binding: AttributeBinding, value: Any) -> Any:
    """``value`` of the attribute ``binding`` in the form comparisons use; other types as they are.

    :raises ValueError: for a string the comparison policy cannot prepare.
    """
    return binding.comparable(value)


@cache
def text_key(binding: AttributeBinding) -> Callable[[str], str]:
    """The comparable form of the attribute's strings, remembered: the policy costs
    microseconds a string, and a mapping compares the same few values (group names,
    email types) for every user. A string the policy cannot prepare is its own key (it
    then equals only itself, as ``ScimFilter.match`` finds it equal to nothing else)."""

    @lru_cache(maxsize=4096)
    def key(text: str) -> str:
        try:
            return str(comparable(binding, text))
        except ValueError:
            return text

    return key


user_name_key = text_key(USER_NAME)
"""A userName as compared (not caseExact): what identifies a former user by name."""

group_name_key = text_key(GROUP_DISPLAY_NAME)
"""A Group displayName as compared (not caseExact): how ``from_groups`` matches groups."""
