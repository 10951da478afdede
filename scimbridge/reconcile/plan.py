"""The plan: what the vendor holds beside what the IdP says, user by user, read-only.

Accounts are joined to the bridge's users on the vendor id first, then on the account
keys (``VendorClient.account_keys``) of the record the mapping makes now and of the record
last sent; an account whose id is another user's, or whose key value ``account_keys``
reserves for another user, is never this user's. Each user is then one finding
(:class:`Kind`), judged by :func:`~scimbridge.reconcile.compare.differences` on managed
fields only; each account no user holds is an orphan, unless the client excludes it (the
bridge's own service account, a system account of the vendor).

A user with a delivery still to come is ``pending``, not drift: the outbox is about to
change what the vendor holds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from scimbridge.config import Target
from scimbridge.delivery.identity import Key, keys_of
from scimbridge.delivery.wanted import BridgeUser, wanted
from scimbridge.mapping import Action, MappedRecord, Mapping, UnmappableUser
from scimbridge.reconcile.compare import Difference, differences
from scimbridge.store import Database, utc
from scimbridge.store.delivery_tables import account_keys
from scimbridge.vendors.base import VendorAccount, VendorClient


class Kind(enum.StrEnum):
    """What reconcile found for one user or one vendor account."""

    IN_STEP = "in_step"
    """The vendor holds what the mapping makes of the user (managed fields)."""
    DIFFERS = "differs"
    """The user's account holds other values in managed fields (or is disabled)."""
    MISSING = "missing"
    """The user should have an account and the vendor holds none."""
    ACTIVE_BUT_DEPROVISIONED = "active_but_deprovisioned"
    """The IdP deactivated or deleted the user, and its account is active."""
    DUPLICATED = "duplicated"
    """Two or more accounts answer to the user."""
    UNMAPPABLE = "unmappable"
    """The mapping refuses the user as it now is: nothing can be sent until it is fixed."""
    ORPHAN = "orphan"
    """An account no user of the bridge holds (made by hand, or left from before the bridge)."""
    EXCLUDED = "excluded"
    """An account that is none of the bridge's business (its service account, a system account)."""
    PENDING = "pending"
    """A delivery of the user is still to come (or held, the user being paused): not judged."""
    UNVERIFIABLE = "unverifiable"
    """The vendor documents no way to read its accounts: only a re-send can make sure."""


DRIFT = frozenset(
    {
        Kind.DIFFERS,
        Kind.MISSING,
        Kind.ACTIVE_BUT_DEPROVISIONED,
        Kind.DUPLICATED,
        Kind.UNMAPPABLE,
        Kind.ORPHAN,
    }
)
"""The kinds that make ``scimbridge reconcile`` exit 3 (an orphan only while it is active)."""
CORRECTABLE = frozenset(
    {Kind.DIFFERS, Kind.MISSING, Kind.ACTIVE_BUT_DEPROVISIONED, Kind.UNVERIFIABLE}
)
"""The kinds ``--apply`` corrects by delivering the user again as it now is."""


@dataclass(frozen=True)
class Finding:
    """One user's or one account's finding."""

    kind: Kind
    user: str | None = None
    """The bridge user as an admin finds it (userName, externalId, SCIM id); None: an account."""
    link_id: str | None = None
    vendor_ids: tuple[str, ...] = ()
    account: str | None = None
    """The account as the vendor names it (its first account key value, else its id)."""
    record: dict[str, Any] | None = None
    """Of an account finding: the account as read back, in the vendor's record shape."""
    differences: tuple[Difference, ...] = ()
    detail: str = ""
    active: bool | None = None
    """Of an account finding: whether the account is active (an inactive orphan is no drift)."""

    @property
    def drift(self) -> bool:
        return self.kind in DRIFT and not (self.kind is Kind.ORPHAN and self.active is False)

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"kind": self.kind.value}
        if self.user is not None:
            document["user"] = self.user
        if self.vendor_ids:
            document["vendor_ids"] = list(self.vendor_ids)
        if self.account:
            document["account"] = self.account
        if self.differences:
            document["differences"] = [
                {"field": each.field, "vendor": each.held, "mapping": each.wanted}
                for each in self.differences
            ]
        if self.detail:
            document["detail"] = self.detail
        if self.active is not None:
            document["active"] = self.active
        if self.record is not None:
            document["record"] = self.record
        return document


@dataclass
class Plan:
    """What reconcile found for one target."""

    target: str
    vendor: str
    read_back: str
    findings: list[Finding] = field(default_factory=list)
    accounts_read: int = 0

    def counts(self) -> dict[str, int]:
        """Findings per kind, every kind shown (0 included), in :class:`Kind` order."""
        counts = {kind.value: 0 for kind in Kind}
        for finding in self.findings:
            counts[finding.kind.value] += 1
        return counts

    @property
    def drift(self) -> bool:
        return any(finding.drift for finding in self.findings)

    def of(self, *kinds: Kind) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind in kinds]


class Joiner:
    """Joins accounts to users (the module docstring's rule) and judges each user."""

    def __init__(
        self,
        client: VendorClient,
        mapping: Mapping,
        accounts: Iterable[VendorAccount],
        reserved: dict[Key, str],
    ):
        self.client = client
        self.mapping = mapping
        self.reserved = reserved
        self.by_id: dict[str, VendorAccount] = {}
        self.by_key: dict[Key, list[VendorAccount]] = {}
        self.claimed: set[str] = set()
        """Vendor ids of accounts some user holds: never orphans."""
        self.owners: dict[str, str] = {}
        """Vendor id → link id, for the vendor ids the links store."""
        for account in accounts:
            self.add(account)

    def add(self, account: VendorAccount) -> None:
        if account.vendor_id in self.by_id:
            return
        self.by_id[account.vendor_id] = account
        for key in keys_of(self.client, account.record):
            self.by_key.setdefault(key, []).append(account)

    def know_owners(self, users: Iterable[BridgeUser]) -> None:
        self.owners.update({user.vendor_id: user.link_id for user in users if user.vendor_id})

    def accounts_of(self, user: BridgeUser, mapped: MappedRecord | None) -> list[VendorAccount]:
        """The distinct accounts that answer to ``user``: its vendor id's, then those found by
        the key values of the record last sent and of the record the mapping makes now;
        never one another user holds. A deleted user is looked for under what it was sent
        only: an account its link forgot (the vendor said it was gone) is never addressed
        again, whoever made one with its keys since."""
        found: dict[str, VendorAccount] = {}
        if user.vendor_id and user.vendor_id in self.by_id:
            found[user.vendor_id] = self.by_id[user.vendor_id]
        keys = keys_of(self.client, user.vendor_record)
        if mapped is not None and not user.deleted:
            keys.update(keys_of(self.client, mapped.record))
        for key in keys:
            if self.reserved.get(key, user.link_id) != user.link_id:
                continue
            for account in self.by_key.get(key, []):
                if self.owners.get(account.vendor_id, user.link_id) == user.link_id:
                    found.setdefault(account.vendor_id, account)
        return list(found.values())

    def judge(self, user: BridgeUser, since: datetime | None = None) -> Finding:
        try:
            mapped: MappedRecord | None = wanted(self.mapping, user)
            refusal = ""
        except UnmappableUser as error:
            mapped, refusal = None, error.detail
        accounts = self.accounts_of(user, mapped)
        self.claimed.update(account.vendor_id for account in accounts)
        ids = tuple(account.vendor_id for account in accounts)
        if user.open_entry:
            return user_finding(Kind.PENDING, user, ids, f"an outbox entry is {user.open_entry}")
        if since is not None and user.sent_at is not None and utc(user.sent_at) >= since:
            return user_finding(Kind.PENDING, user, ids, "delivered while the accounts were read")
        if mapped is None:
            return user_finding(Kind.UNMAPPABLE, user, ids, refusal)
        if mapped.action is not Action.IMPORT:
            if any(account.active for account in accounts):
                return user_finding(Kind.ACTIVE_BUT_DEPROVISIONED, user, ids, mapped.action.value)
            return user_finding(Kind.IN_STEP, user, ids)
        if not accounts:
            return user_finding(Kind.MISSING, user)
        if len(accounts) > 1:
            return user_finding(Kind.DUPLICATED, user, ids)
        account = accounts[0]
        found = differences(
            mapped, account.record, self.client.account_keys, self.client.account_key
        )
        if not account.active and self.client.grants_access(mapped.record):
            found.insert(0, Difference("active", False, True))
        kind = Kind.DIFFERS if found else Kind.IN_STEP
        return user_finding(kind, user, ids, differences=tuple(found))

    def unclaimed(self) -> list[Finding]:
        """Each account no user holds: excluded (with the client's reason) or an orphan."""
        findings = []
        for account in self.by_id.values():
            if account.vendor_id in self.claimed or self._reserved_by_someone(account):
                continue
            reason = self.client.excluded(account)
            kind = Kind.EXCLUDED if reason else Kind.ORPHAN
            findings.append(
                Finding(
                    kind,
                    vendor_ids=(account.vendor_id,),
                    account=self.name_of(account),
                    detail=reason or "",
                    active=account.active,
                    record=account.record,
                )
            )
        return findings

    def _reserved_by_someone(self, account: VendorAccount) -> bool:
        """An account whose key value a user reserves is that user's: a former account
        retired by an identity change, kept disabled (docs/architecture.md, "One account,
        one person")."""
        return any(key in self.reserved for key in keys_of(self.client, account.record))

    def name_of(self, account: VendorAccount) -> str:
        """The account's first account key value (its email, its user name), else its id."""
        return next(iter(keys_of(self.client, account.record).values()), account.vendor_id)


def user_finding(
    kind: Kind,
    user: BridgeUser,
    vendor_ids: tuple[str, ...] = (),
    detail: str = "",
    differences: tuple[Difference, ...] = (),
) -> Finding:
    return Finding(
        kind,
        user=user.describe(),
        link_id=user.link_id,
        vendor_ids=vendor_ids,
        differences=differences,
        detail=detail,
    )


def reserved_keys(database: Database, target: Target) -> dict[Key, str]:
    """Every account key value a user of the target holds (``account_keys``)."""
    with database.transaction(writing=False) as session:
        rows = session.execute(
            select(account_keys.c.field, account_keys.c.value_key, account_keys.c.link_id).where(
                account_keys.c.target == target.name
            )
        )
        return {(row.field, row.value_key): row.link_id for row in rows}


def make_plan(
    target: Target,
    client: VendorClient,
    mapping: Mapping,
    users: list[BridgeUser],
    accounts: Iterable[VendorAccount],
    reserved: dict[Key, str],
    since: datetime | None = None,
) -> Plan:
    """Judge every user and every account (a ``list`` client's accounts, a ``lookup``
    client's answers for the users' keys); a ``none`` client's users are unverifiable.

    :param since: when the accounts began to be read, for a read that took a while (the
        scheduled check): a user sent to the vendor since may be missing from pages read
        before, and is judged pending rather than missing."""
    plan = Plan(target.name, client.vendor, client.read_back)
    if client.read_back == "none":
        plan.findings = [_unverifiable(mapping, user) for user in users]
        return plan
    joiner = Joiner(client, mapping, accounts, reserved)
    joiner.know_owners(users)
    plan.accounts_read = len(joiner.by_id)
    plan.findings = [joiner.judge(user, since) for user in users]
    if client.read_back == "list":
        plan.findings += joiner.unclaimed()
    return plan


def _unverifiable(mapping: Mapping, user: BridgeUser) -> Finding:
    """A user of a vendor that cannot be read: unverifiable, unless nothing of it was ever
    sent and nothing is to be (a deprovision of a user the vendor never had)."""
    if user.open_entry:
        return user_finding(Kind.PENDING, user, detail=f"an outbox entry is {user.open_entry}")
    try:
        mapped = wanted(mapping, user)
    except UnmappableUser as error:
        return user_finding(Kind.UNMAPPABLE, user, detail=error.detail)
    never_sent = user.vendor_record is None and not user.delivered_once
    if mapped.action is not Action.IMPORT and never_sent:
        return user_finding(Kind.IN_STEP, user)
    return user_finding(Kind.UNVERIFIABLE, user, detail="the vendor documents no read endpoint")
