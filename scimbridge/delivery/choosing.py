"""Values a mapping's ``first_available`` leaves to the vendor: chosen once, kept for good.

Entra's SelectUniqueValue, done where it can be: only the vendor knows whether
"john" is free, so the worker asks the client (``VendorClient.holders``) about
the candidates of a whole batch, round by round (first candidates, then the
second ones of the users whose first was taken…), and gives each user the first
candidate that no vendor account holds but the user's own, and that no other
user of the bridge has chosen (``chosen_values``, whose key makes a value one
user's across workers, even while that user's delivery waits out an outage).

The choice is written *before* the record goes out and used from then on
(``MappingContext.chosen``): chosen again after a timeout that the vendor did
apply, "john" would look taken by the user's own new account, not yet known,
and a second account would follow.

A deprovision never chooses, and never depends on a choice having been stored: a
user the vendor was sent before its mapping chose anything (a bridge older than
``chosen_values``, a mapping that gained ``first_available``) is deprovisioned
under the value it was sent, which becomes its choice from then on; only a user
nothing was ever sent of has nothing to deprovision (docs/architecture.md, "What
the vendor holds is what the IdP says").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.claiming import Claimed
from scimbridge.mapping import Action, MappedRecord
from scimbridge.store import Database
from scimbridge.store.delivery_tables import chosen_values
from scimbridge.vendors.base import (
    CredentialsRefused,
    Outcome,
    VendorClient,
    VendorError,
    VendorUnavailable,
)

NEVER_SENT = {"skipped": "the vendor never had this user"}
IN_CHUNK = 500
"""Values looked up in one ``IN (…)``: well below SQLite's and PostgreSQL's parameter limits."""


@dataclass
class _Choosing:
    """One user's fields still to choose: the candidates of each, and how far it got."""

    entry: Claimed
    mapped: MappedRecord
    tried: dict[str, int] = field(default_factory=dict)
    chosen: dict[str, str] = field(default_factory=dict)

    def next_candidate(self, name: str) -> str | None:
        return self.mapped.choices[name].at(self.tried.get(name, 0))

    def open_fields(self) -> list[str]:
        return [name for name in self.mapped.choices if name not in self.chosen]


def choose(
    database: Database,
    client: VendorClient,
    target: Target,
    mapped: dict[str, tuple[Claimed, MappedRecord]],
    working_on: Callable[[Claimed], Any],
) -> dict[str, MappedRecord | Outcome]:
    """Each entry's mapped record with its ``first_available`` fields chosen and remembered,
    by link id; or its outcome: a failure when every candidate of a field is taken (counted
    toward ``max_attempts``), a retry when the vendor cannot answer now, and "nothing to
    deprovision" for a deprovision of a user nothing was ever sent of (:func:`never_sent`).
    A deprovision asks the vendor nothing (:func:`_deprovisioning`)."""
    results: dict[str, MappedRecord | Outcome] = {}
    choosing: dict[str, _Choosing] = {}
    for link_id, (entry, record) in mapped.items():
        if not record.choices:
            results[link_id] = record
        elif record.action is not Action.IMPORT:
            results[link_id] = _deprovisioning(database, target, entry, record)
        else:
            choosing[link_id] = _keeping_what_was_sent(database, target, _Choosing(entry, record))
    try:
        _rounds(database, client, target, choosing, results, working_on)
    except CredentialsRefused:
        raise  # the whole batch waits for a login (delivery.recovery)
    except VendorError as error:  # unavailable: retried; refused (a redirect): failed
        unavailable = error if isinstance(error, VendorUnavailable) else None
        for link_id, state in choosing.items():
            results.setdefault(
                link_id,
                Outcome(
                    key=link_id,
                    ok=False,
                    retryable=unavailable is not None,
                    error=f"asking {client.vendor} about {', '.join(state.open_fields())}: {error}",
                    retry_after=unavailable.retry_after if unavailable else None,
                ),
            )
    return results


def _keeping_what_was_sent(database: Database, target: Target, state: _Choosing) -> _Choosing:
    """A user the vendor was sent before its mapping chose anything (a bridge older than
    ``first_available``, or a mapping that gained it) keeps the value it was sent, when no
    other user holds it: asking the vendor again would find it taken by the user's own
    account, whose id the vendor may give in other terms than the bridge's vendor id
    (Rocket.Chat's ``_id``, where the bridge knows the import id), and rename the user."""
    sent = state.entry.vendor_record or {}
    for name in state.open_fields():
        value = sent.get(name)
        if (
            isinstance(value, str)
            and value
            and reserve(database, target, state.entry.link_id, name, value)
        ):
            state.chosen[name] = value
    return state


def never_sent(entry: Claimed) -> bool:
    """Whether nothing of the user can have reached the vendor: no record sent (``vendor_record``
    is kept on a success and on every unknown outcome, a timeout included), no vendor id,
    never delivered, and no value chosen (a choice is stored before its record goes out)."""
    return (
        entry.vendor_record is None
        and entry.vendor_id is None
        and not entry.delivered_once
        and not entry.chosen
    )


def _deprovisioning(
    database: Database, target: Target, entry: Claimed, mapped: MappedRecord
) -> MappedRecord | Outcome:
    """The deprovision of a user whose ``first_available`` fields hold no choice: it goes to
    the vendor whenever anything of the user may be there, under the values it was sent,
    kept as the user's from now on (:func:`_keeping_what_was_sent`, the back-fill of
    ``chosen_values``). A field with no value sent, or whose value another user holds, is
    left out rather than filled with a candidate nobody chose: the client finds the account
    by its vendor id, else by the record last sent (``DeliveryItem.previous``)."""
    if never_sent(entry):
        return Outcome(key=entry.link_id, ok=True, details=dict(NEVER_SENT))
    state = _keeping_what_was_sent(database, target, _Choosing(entry, mapped))
    unknown = set(state.open_fields())
    record = {name: value for name, value in mapped.record.items() if name not in unknown}
    return replace(mapped, record={**record, **state.chosen}, choices={})


def _rounds(
    database: Database,
    client: VendorClient,
    target: Target,
    choosing: dict[str, _Choosing],
    results: dict[str, MappedRecord | Outcome],
    working_on: Callable[[Claimed], Any],
) -> None:
    """Round by round, each open field's current candidate: asked of the vendor for the
    whole batch, then reserved for the whole batch in one transaction (:func:`reserve_all`),
    the users in claim order, so that two users of one batch never both get a value."""
    while open_users := {key: state for key, state in choosing.items() if key not in results}:
        asked: dict[str, set[str]] = {}
        for state in open_users.values():
            for name in state.open_fields():
                candidate = state.next_candidate(name)
                if candidate is not None:
                    asked.setdefault(name, set()).add(candidate)
        holders = {name: client.holders(name, sorted(values)) for name, values in asked.items()}
        wishes: list[Wish] = []
        for link_id, state in open_users.items():
            with working_on(state.entry):
                exhausted = _exhausted(client, state)
            if exhausted is not None:
                results[link_id] = exhausted
                continue
            wishes += [
                Wish(link_id, name, candidate)
                for name in state.open_fields()
                if (candidate := state.next_candidate(name)) is not None
                and _free_at_vendor(state, holders.get(name, {}).get(candidate))
            ]
        granted = reserve_all(database, target, wishes)
        for link_id, state in open_users.items():
            if link_id in results:
                continue
            for name in state.open_fields():
                candidate = state.next_candidate(name)
                if candidate is not None and Wish(link_id, name, candidate) in granted:
                    state.chosen[name] = candidate
                else:
                    state.tried[name] = state.tried.get(name, 0) + 1
            if not state.open_fields():
                results[link_id] = replace(
                    state.mapped, record={**state.mapped.record, **state.chosen}, choices={}
                )


def _exhausted(client: VendorClient, state: _Choosing) -> Outcome | None:
    """The user's failure when an open field has no candidate left, else None."""
    for name in state.open_fields():
        if state.next_candidate(name) is not None:
            continue
        candidates = state.mapped.choices[name]
        refused = (
            f"; {client.vendor}'s record shape refuses {', '.join(candidates.refused)}"
            if candidates.refused
            else ""
        )
        return Outcome(
            key=state.entry.link_id,
            ok=False,
            error=f"every candidate for {name} is taken at {client.vendor} or by another "
            f"user of the bridge: {', '.join(candidates.values)}{refused}",
        )
    return None


def _free_at_vendor(state: _Choosing, holder: str | None) -> bool:
    """No vendor account holds the candidate, or the user's own does."""
    own = state.entry.vendor_id
    return holder is None or (own is not None and holder.lower() == own.lower())


@dataclass(frozen=True)
class Wish:
    """A value of a field one user would take."""

    link_id: str
    name: str
    value: str


def reserve(database: Database, target: Target, link_id: str, name: str, value: str) -> bool:
    """Make ``value`` of field ``name`` this user's for good; False if another user holds it
    (a worker that inserts it between this check and this insert included)."""
    wish = Wish(link_id, name, value)
    return wish in reserve_all(database, target, [wish])


def reserve_all(database: Database, target: Target, wishes: list[Wish]) -> set[Wish]:
    """Make each wished value its user's for good, in one transaction; the wishes granted.
    A value another user holds is refused; of two wishes for one value, the first is
    granted. When another worker inserts one of the values meanwhile (the unique key
    refuses the transaction), each wish is tried again on its own."""
    if not wishes:
        return set()
    try:
        with database.transaction() as session:
            return _reserved(session, target, wishes)
    except IntegrityError:
        if len(wishes) == 1:
            return set()
    return {wish for wish in wishes if reserve_all(database, target, [wish])}


def _reserved(session: Session, target: Target, wishes: list[Wish]) -> set[Wish]:
    """The wishes granted within ``session``: the values no other user holds are inserted."""
    held = _holders(session, target, {(wish.name, wish.value.lower()) for wish in wishes})
    granted: set[Wish] = set()
    inserted: list[dict[str, str]] = []
    for wish in wishes:
        key = (wish.name, wish.value.lower())
        if key not in held:
            held[key] = wish.link_id
            inserted.append(
                {
                    "target": target.name,
                    "field": wish.name,
                    "value_key": key[1],
                    "value": wish.value,
                    "link_id": wish.link_id,
                }
            )
        if held[key] == wish.link_id:
            granted.add(wish)
    if inserted:
        session.execute(chosen_values.insert(), inserted)
    return granted


def _holders(
    session: Session, target: Target, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Who holds each (field, lower-case value) already, for those some user holds."""
    holders: dict[tuple[str, str], str] = {}
    for name in sorted({name for name, _ in keys}):
        values = sorted(value for field_name, value in keys if field_name == name)
        for start in range(0, len(values), IN_CHUNK):
            rows = session.execute(
                select(chosen_values.c.value_key, chosen_values.c.link_id).where(
                    chosen_values.c.target == target.name,
                    chosen_values.c.field == name,
                    chosen_values.c.value_key.in_(values[start : start + IN_CHUNK]),
                )
            )
            holders.update({(name, row.value_key): row.link_id for row in rows})
    return holders
