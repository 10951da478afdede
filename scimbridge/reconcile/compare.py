"""Whether a vendor account holds what the mapping makes of a user: managed values only.

The one rule of drift. A field is compared only when the mapping gives it a value and the
vendor shows it; a value the mapping does not manage is never drift (a Rocket.Chat role
granted in Rocket.Chat, an ACC product the record does not name, a list entry the
vendor added):

- a dict holds the wanted dict when it holds each of its keys' values;
- a list holds the wanted list when each wanted element is held by one of its elements,
  and, for a list driven by group membership (``MappedRecord.managed``), when no managed
  value that is not granted any more is held;
- an account key (an email, a user name) is compared as the vendor compares it
  (:meth:`~scimbridge.vendors.base.VendorClient.account_key`), any other text exactly;
- a wanted None is held by anything: the clients leave a field without a value out of what
  they send, so the vendor keeps whatever it has there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scimbridge.mapping import MappedRecord

Normalise = Callable[[str, str], str]
"""An account key's value as the vendor compares it: ``(field, value) -> key``."""


@dataclass(frozen=True)
class Difference:
    """One managed field the account does not hold as the mapping makes it."""

    field: str
    held: Any
    """What the vendor holds (None where it holds nothing)."""
    wanted: Any
    """What the mapping makes of the user now."""


def holds(held: Any, wanted: Any, text: Callable[[str], str] = str) -> bool:
    """Whether ``held`` holds ``wanted`` (the module's rule); ``text`` normalises strings."""
    if wanted is None:
        return True
    if isinstance(wanted, dict):
        return isinstance(held, dict) and all(
            holds(held.get(key), value, text) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return isinstance(held, list) and all(
            any(holds(element, value, text) for element in held) for value in wanted
        )
    if isinstance(wanted, str) and isinstance(held, str):
        return text(held) == text(wanted)
    return bool(held == wanted)


def differences(
    mapped: MappedRecord,
    held: Mapping[str, Any],
    account_keys: frozenset[str],
    normalise: Normalise,
) -> list[Difference]:
    """The managed fields of ``mapped.record`` that the account ``held`` (a read-back record)
    does not hold; fields the vendor does not show are left out."""
    found = []
    for name, wanted in mapped.record.items():
        if name not in held:
            continue
        value = held[name]
        text = (
            (lambda string, field=name: normalise(field, string)) if name in account_keys else str
        )
        gone = [
            stale
            for stale in mapped.managed.get(name, ())
            if not any(holds(stale, granted) for granted in wanted or [])
        ]
        kept_stale = isinstance(value, list) and any(
            holds(element, stale) for stale in gone for element in value
        )
        if not holds(value, wanted, text) or kept_stale:
            found.append(Difference(name, value, wanted))
    return found
