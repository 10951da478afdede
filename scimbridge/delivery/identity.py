"""Which vendor account is a user's: decided once, by the worker, before anything is sent.

docs/architecture.md, "One account, one person". A vendor finds its accounts by a few
record fields it keeps unique, its *account keys* (``VendorClient.account_keys``: an
email, a user name). Before a batch goes out, every key value its records carry is
reserved for the user in ``account_keys``, whose primary key makes a value one user's:
two users in one batch, in two loops or in two workers meet at the same row, and the
second fails with a conflict naming the holder. It is never sent, so no client ever
has to decide whether an account it finds may become a user's.

A changed key is an *identity change*, and the mapping's ``on_identity_change`` says what
it does (:class:`~scimbridge.mapping.IdentityChange`): the vendor renames the account
(``move``), or the old account is deprovisioned as ``on_deactivate`` says before the new
one is provisioned (``replace``: the worker sends :attr:`Resolution.retiring` first), or
the change fails (``refuse``). The old account is never left active.

A value stays reserved while an account of the user may hold it at the vendor
(:func:`settled`): a deleted user's until its account is removed, so that a new person
never inherits it (unless the target allows takeovers, ``delivery.allow_takeover``),
and a retired account's (disabled after a ``replace``) for as long as that account lives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, select, update
from sqlalchemy.orm import Session

from scimbridge.config import Target
from scimbridge.delivery.claiming import Claimed
from scimbridge.delivery.claims import describe
from scimbridge.mapping import Action, IdentityChange, Mapping
from scimbridge.store import Database
from scimbridge.store.delivery_tables import account_keys, links
from scimbridge.store.rows import chunked, insert_or_skip
from scimbridge.vendors.base import DeliveryItem, Outcome, VendorClient

Key = tuple[str, str]
"""An account key value as the vendor compares it: (record field, normalised value)."""
Keys = dict[Key, str]
"""A record's account key values, each with the value as the record carries it."""


def keys_of(client: VendorClient, record: dict[str, Any] | None) -> Keys:
    """The account key values ``record`` carries (every value of a list field)."""
    found: Keys = {}
    for name in sorted(client.account_keys):
        value = (record or {}).get(name)
        for each in value if isinstance(value, list) else [value]:
            if isinstance(each, str) and each:
                found[(name, client.account_key(name, each))] = each
    return found


def shown(keys: Iterable[Key], values: Keys) -> str:
    """Key values as an admin reads them: ``email ann@example.com, …``."""
    return ", ".join(f"{key[0]} {values[key]}" for key in keys)


@dataclass
class Resolution:
    """What the identity step made of a batch: what to send, in which order, and what not."""

    sending: list[DeliveryItem] = field(default_factory=list)
    """The items to send, each to the account that is its user's."""
    retiring: list[DeliveryItem] = field(default_factory=list)
    """Old accounts of identity changes the mapping replaces: deprovisioned first; the user's
    item in :attr:`sending` goes out only once its old account is done."""
    settled: list[Outcome] = field(default_factory=list)
    """Items decided without the vendor: conflicts and refused identity changes (failed),
    deprovisions of accounts that are not the user's (nothing to deprovision)."""
    keys: dict[str, Keys] = field(default_factory=dict)
    """Per user (link id), the key values the record it is sent carries."""
    old_keys: dict[str, Keys] = field(default_factory=dict)
    """Per user with an old account in :attr:`retiring`, the key values that account holds."""
    previous_keys: dict[str, Keys] = field(default_factory=dict)
    """Per user, the key values of the record the vendor was sent before: an account may
    still hold them, so an import does not free them (:meth:`Reservations.settled`)."""


def resolve(
    database: Database,
    target: Target,
    client: VendorClient,
    mapping: Mapping,
    claimed: list[tuple[Claimed, DeliveryItem]],
) -> Resolution:
    """Decide, for each mapped item of a batch (in claim order), which account it goes to,
    reserving the key values it needs in one transaction; the earlier claim wins a value."""
    resolution = Resolution()
    plans: list[tuple[Claimed, DeliveryItem, Keys, DeliveryItem | None]] = []
    for entry, item in claimed:
        planned = _plan(client, mapping, entry, item)
        if isinstance(planned, Outcome):
            resolution.settled.append(planned)
        else:
            plans.append((entry, *planned))
    wanted = {entry.link_id: keys for entry, _, keys, _ in plans if keys}
    conflicts: dict[str, str] = {}
    owned: set[str] = set()
    if wanted:
        with database.transaction() as session:
            reservations = Reservations(session, target)
            conflicts = reservations.reserve(wanted)
            owned = {
                entry.link_id
                for entry, _, _, retiring in plans
                if retiring is not None
                and reservations.holds(entry.link_id, keys_of(client, retiring.record))
            }
    for entry, item, _, retiring in plans:
        conflict = conflicts.get(entry.link_id)
        if conflict is None:
            resolution.sending.append(item)
            resolution.keys[entry.link_id] = keys_of(client, item.record)
            resolution.previous_keys[entry.link_id] = keys_of(client, entry.vendor_record)
            # an old account whose keys are no longer the user's was removed, and its keys
            # may name another person's account now: there is nothing of this user's to retire
            if retiring is not None and entry.link_id in owned:
                resolution.retiring.append(retiring)
                resolution.old_keys[entry.link_id] = keys_of(client, retiring.record)
        elif item.action is Action.IMPORT:
            resolution.settled.append(_failed(item, f"{client.vendor}: {conflict}"))
        else:
            resolution.settled.append(
                Outcome(
                    key=item.key,
                    ok=True,
                    details={"skipped": f"nothing of this user's to deprovision: {conflict}"},
                )
            )
    return resolution


def _plan(
    client: VendorClient, mapping: Mapping, entry: Claimed, item: DeliveryItem
) -> tuple[DeliveryItem, Keys, DeliveryItem | None] | Outcome:
    """The item as it goes out, the key values to reserve for it, and the old account to
    deprovision first (a ``replace``); or the refusal of an identity change."""
    new = keys_of(client, item.record)
    old = keys_of(client, entry.vendor_record)
    if item.action is not Action.IMPORT and old:
        # a deprovision goes to the account the vendor holds, under the keys it holds: a
        # key changed meanwhile (and perhaps held by another user now) never stops it
        return _under_old_keys(client, item, entry.vendor_record or {}), old, None
    has_account = entry.vendor_id is not None or entry.vendor_record is not None
    if not (has_account and old and new and set(old) != set(new)):
        return item, new, None
    rule = mapping.on_identity_change
    held = _under_old_keys(client, item, entry.vendor_record or {})
    if rule is IdentityChange.MOVE:
        return item, new, None
    if rule is IdentityChange.REFUSE:
        changed = f"{shown(sorted(old.keys() - new.keys()), old)} → {shown(sorted(new.keys() - old.keys()), new)}"
        return _failed(
            item,
            f"{client.vendor}: the change of the account's {changed} is an identity change "
            "the mapping refuses (on_identity_change: refuse); the vendor keeps the old account",
        )
    rule_of_old = mapping.on_deactivate
    retiring = replace(
        held, action=rule_of_old.action, record={**held.record, **rule_of_old.overrides}
    )
    return replace(item, vendor_id=None, first_import=True, previous=None), new, retiring


def _under_old_keys(
    client: VendorClient, item: DeliveryItem, previous: dict[str, Any]
) -> DeliveryItem:
    """The item with the key fields of the record the vendor holds: the account it addresses,
    carrying the newest profile otherwise (docs/architecture.md, "One account, one person")."""
    kept = {name: previous[name] for name in client.account_keys if name in previous}
    return replace(item, record={**item.record, **kept})


def _failed(item: DeliveryItem, error: str) -> Outcome:
    return Outcome(key=item.key, ok=False, vendor_id=item.vendor_id, error=error)


def backfill(database: Database, target: Target, client: VendorClient) -> None:
    """Reserve the key values of the users the vendor was sent before the bridge reserved
    them (a bridge older than ``account_keys``): their records say which accounts are theirs,
    and a former user's must not pass to a new person. Live users come first, then the
    earliest: where two hold one value (the sharing this module prevents), the first keeps
    it, and the other's next delivery fails with the conflict."""
    if not client.account_keys:
        return
    without_keys = ~exists().where(account_keys.c.link_id == links.c.id)
    with database.transaction() as session:
        link_ids = list(
            session.execute(
                select(links.c.id)
                .where(
                    links.c.target == target.name, links.c.vendor_record.is_not(None), without_keys
                )
                .order_by(links.c.deleted_at.is_not(None), links.c.created_at)
            ).scalars()
        )
    for chunk in chunked(link_ids):
        with database.transaction() as session:
            rows = session.execute(
                select(links.c.id, links.c.vendor_record).where(links.c.id.in_(chunk))
            )
            records = {row.id: row.vendor_record for row in rows}
            wanted = {link_id: keys_of(client, records[link_id]) for link_id in chunk}
            Reservations(session, target).reserve({k: v for k, v in wanted.items() if v})


class Reservations:
    """The account key values of one target's users, in one transaction."""

    def __init__(self, session: Session, target: Target):
        self.session = session
        self.target = target

    def reserve(self, wanted: dict[str, Keys]) -> dict[str, str]:
        """Make each user's values its own, in the order given; per user who could not have
        them all, why (the holder, named), with none of its new reservations kept.

        A value is inserted unless some user holds it, and its holder is read back by a
        statement that sees every reservation committed before (READ COMMITTED on
        PostgreSQL; SQLite's one writer): a reservation racing in another transaction
        either committed first, and holds, or waits for this one.
        """
        every = {key: value for keys in wanted.values() for key, value in keys.items()}
        before = self._holders(every)
        rows: dict[Key, dict[str, Any]] = {}
        for link_id, keys in wanted.items():
            for key, value in keys.items():
                if key not in before and key not in rows:
                    rows[key] = self._row(link_id, key, value)
        if rows:
            statement = insert_or_skip(self.session)(account_keys).on_conflict_do_nothing()
            self.session.execute(statement, list(rows.values()))
        holders = self._holders(every)
        conflicts: dict[str, str] = {}
        for link_id, keys in wanted.items():
            taken = {key: holder for key in keys if (holder := holders[key]) != link_id}
            former = self._takeable(set(taken.values()))
            if taken and set(taken.values()) <= former:
                for key, holder in taken.items():
                    self._take_over(key, holder, link_id)
            elif taken:
                conflicts[link_id] = self._conflict(taken, keys)
                mine = [key for key in keys if key not in before and holders[key] == link_id]
                self._release(link_id, mine)
        return conflicts

    def holds(self, link_id: str, keys: Keys) -> bool:
        """Whether every one of ``keys`` is reserved for the user."""
        holders = self._holders(keys)
        return set(holders) == set(keys) and all(holder == link_id for holder in holders.values())

    def _row(self, link_id: str, key: Key, value: str) -> dict[str, Any]:
        name, value_key = key
        return {
            "target": self.target.name,
            "field": name,
            "value_key": value_key,
            "value": value,
            "link_id": link_id,
            "retired": False,
        }

    def _holders(self, keys: Iterable[Key]) -> dict[Key, str]:
        wanted = set(keys)
        found: dict[Key, str] = {}
        for chunk in chunked(sorted({value_key for _, value_key in wanted})):
            rows = self.session.execute(
                select(
                    account_keys.c.field, account_keys.c.value_key, account_keys.c.link_id
                ).where(
                    account_keys.c.target == self.target.name, account_keys.c.value_key.in_(chunk)
                )
            )
            found.update(
                {
                    (row.field, row.value_key): row.link_id
                    for row in rows
                    if (row.field, row.value_key) in wanted
                }
            )
        return found

    def _takeable(self, holders: set[str]) -> set[str]:
        """Those of ``holders`` whose values may pass to a new user: former users, where the
        target allows takeovers (``delivery.allow_takeover``)."""
        if not (holders and self.target.delivery.allow_takeover):
            return set()
        return set(
            self.session.execute(
                select(links.c.id).where(links.c.id.in_(holders), links.c.deleted_at.is_not(None))
            ).scalars()
        )

    def _take_over(self, key: Key, holder: str, link_id: str) -> None:
        """A former user's value passes to a new user; the former user, if re-provisioned,
        then gets a new account, never a share of this one."""
        self.session.execute(
            update(account_keys).where(self._value(key)).values(link_id=link_id, retired=False)
        )
        self.session.execute(
            update(links).where(links.c.id == holder).values(vendor_id=None, vendor_record=None)
        )

    def _conflict(self, taken: dict[Key, str], keys: Keys) -> str:
        holders = {
            row.id: row
            for row in self.session.execute(
                select(links).where(links.c.id.in_(set(taken.values())))
            )
        }
        named = "; ".join(
            f"{shown([key], keys)} is the account of another user of the bridge "
            f"({describe(holders[holder])})"
            for key, holder in sorted(taken.items())
        )
        return (
            f"{named}; a vendor account belongs to one person "
            "(delivery.allow_takeover lets a new user take over a former user's account)"
        )

    def _release(self, link_id: str, keys: Iterable[Key]) -> None:
        for key in keys:
            self.session.execute(
                delete(account_keys).where(self._value(key), account_keys.c.link_id == link_id)
            )

    def settled(
        self,
        link_id: str,
        action: Action,
        keys: Keys,
        previous: Keys | None = None,
        *,
        found: bool = True,
    ) -> None:
        """What the user holds once the vendor did ``action`` with a record of ``keys``.

        An import leaves the user the values its record carries, those of the record sent
        before (``previous``: an account may hold them still, a rename not yet seen), and
        those of its retired accounts; a removal, or a deprovision that found no account,
        leaves it only the retired ones (the account is gone, a new person may have its
        values); a disable leaves everything (the account is still there, and the user's).
        """
        if action is Action.DISABLE and found:
            return
        held = self.session.execute(
            select(account_keys.c.field, account_keys.c.value_key, account_keys.c.retired).where(
                account_keys.c.target == self.target.name, account_keys.c.link_id == link_id
            )
        ).all()
        keep = set(keys) if action is Action.IMPORT else set()
        kept = keep | set(previous or {}) if action is Action.IMPORT else keep
        self._release(
            link_id,
            [
                (row.field, row.value_key)
                for row in held
                if not row.retired and (row.field, row.value_key) not in kept
            ],
        )
        if keep:
            self._mark(link_id, keep, retired=False)

    def retired(self, link_id: str, action: Action, keys: Keys) -> None:
        """The old account of a ``replace`` was deprovisioned: a removed one's values are
        free; a disabled one's stay the user's, marked retired, while the account lives."""
        if action is Action.DISABLE:
            self._mark(link_id, set(keys), retired=True)
        else:
            self._release(link_id, keys)

    def _mark(self, link_id: str, keys: set[Key], retired: bool) -> None:
        for key in keys:
            self.session.execute(
                update(account_keys)
                .where(self._value(key), account_keys.c.link_id == link_id)
                .values(retired=retired)
            )

    def _value(self, key: Key) -> ColumnElement[bool]:
        """The row of one key value of the target."""
        name, value_key = key
        return and_(
            account_keys.c.target == self.target.name,
            account_keys.c.field == name,
            account_keys.c.value_key == value_key,
        )
