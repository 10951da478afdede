"""The convergence test's oracle: what each vendor must hold once the outbox has drained.

The expected records come from the bridge's own mapping of each target
(``Mapping.apply``, the code path of ``scimbridge mapping preview`` and of the worker),
applied to the final SCIM users read back from the bridge, with the bridge's facts about
each user (its stable id, its chosen ``first_available`` values): the oracle never
re-implements a mapping. What it knows of each vendor is how to read an account
(:class:`AccountView`): its account keys, whether it is active, and the fields the bridge
sets on it.

What it asserts, per target (docs/architecture.md, "External IDs and re-import", "What
the vendor holds is what the IdP says"):

1. A live, active user reported ``delivered`` holds exactly one active account, found by
   its record's account keys, and that account shows the record (the person's profile,
   and where the vendor keeps who created an account — ACC's names, Rocket.Chat's import
   ids — the person who created it); nor is it an account that held the value before the
   person was given it (the workload looks at the vendor just before that write, so the
   account was a former holder's). A live, active user that is not delivered was lost,
   unless another person held one of its account keys before it: then a conflict
   (``failed``) is a legitimate outcome too, since whether the former holder's account had
   reached the vendor decides it.
2. Every active account belongs to a live, active, delivered user: nothing of a
   deactivated or deleted user, or of a user's former email or user name, stays active.
   The one exception is a user refused as above, whose account from before the refused
   change may stay as it was (an account whose keys all come from values that user held,
   none of them one it was refused for).
3. No vendor account is the bridge's account of two people: the vendor ids on the
   bridge's links (deleted users' included) that name an account the vendor holds name
   it for one ``externalId`` only (a new person never inherits an account).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convergence_workload import HANDLE, MAILBOX, Person, Workload
from scimbridge_emulators.confide import PERMISSIONS as CONFIDE_PERMISSIONS

from scimbridge.mapping import Mapping, MappingContext

Record = dict[str, Any]


def lower(value: Any) -> str:
    return str(value).lower()


@dataclass(frozen=True)
class AccountView:
    """How the test reads one vendor's accounts."""

    key_kinds: frozenset[str]
    """Which of a person's values the vendor's account keys come from."""
    keys: Callable[[Record], set[str]]
    """The account key values an account holds, as the vendor compares them (lower case)."""
    record_keys: Callable[[Record], set[str]]
    """The same, of a mapped record."""
    active: Callable[[Record], bool]
    """Whether the account gives its holder access (the opposite of the vendor's
    deprovisioning, whatever it is there)."""
    identifiers: Callable[[Record], set[str]]
    """What a link's ``vendor_id`` may name the account by: its own id, an id it never
    changes."""
    shown: Callable[[Record], Record]
    """The fields of an account that the bridge sets, in comparable form."""
    expected: Callable[[Record], Record]
    """The same fields of a mapped record."""
    grant_group: str | None = None
    """A group every user joins, where an account without it looks deprovisioned."""


def acc_products(products: list[Record]) -> dict[str, str]:
    return {product["key"]: product["access"] for product in products}


def acc_fields(email: str, source: Record) -> Record:
    """ACC names an account's person once, when it is created (PATCH changes products,
    roles and company only): ``lastName``, which the workload never changes, says whose
    import created it."""
    return {
        "email": lower(email),
        "lastName": source.get("lastName"),
        "companyId": source.get("companyId"),
        "roleIds": sorted(source.get("roleIds") or []),
        "products": acc_products(source.get("products") or []),
    }


ARIA_FIELDS = ("username", "firstName", "lastName", "emailAddress", "distinguishedName", "enabled")
ARIA_LISTS = ("groupIds", "roleNames", "role-permissions")


def aria_fields(source: Record) -> Record:
    return {
        **{name: source.get(name) for name in ARIA_FIELDS},
        **{name: source.get(name) or [] for name in ARIA_LISTS},
    }


VIEWS: dict[str, AccountView] = {
    "confide": AccountView(
        key_kinds=frozenset({MAILBOX}),
        keys=lambda account: {lower(account["email"])},
        record_keys=lambda record: {lower(record["email"])},
        active=lambda account: any(account[flag] for flag in CONFIDE_PERMISSIONS),
        identifiers=lambda account: {lower(account["email"])},
        shown=lambda account: {
            "email": lower(account["email"]),
            **{flag: account[flag] for flag in CONFIDE_PERMISSIONS},
        },
        expected=lambda record: {
            "email": lower(record["email"]),
            **{flag: record.get(flag, False) for flag in CONFIDE_PERMISSIONS},
        },
        grant_group="Confide Coordinators",
    ),
    "acc": AccountView(
        key_kinds=frozenset({MAILBOX}),
        keys=lambda account: {lower(account["email"])},
        record_keys=lambda record: {lower(record["email"])},
        active=lambda account: any(p["access"] != "none" for p in account["products"]),
        identifiers=lambda account: {lower(account["id"])},
        shown=lambda account: acc_fields(account["email"], account),
        expected=lambda record: acc_fields(record["email"], record),
        grant_group="ACC Members",
    ),
    "aria": AccountView(
        key_kinds=frozenset({HANDLE}),
        keys=lambda account: {lower(account["username"])},
        record_keys=lambda record: {lower(record["username"])},
        active=lambda account: bool(account.get("enabled")),
        identifiers=lambda account: {lower(account["id"])},
        shown=aria_fields,
        expected=aria_fields,
    ),
    "rocketchat": AccountView(
        key_kinds=frozenset({HANDLE, MAILBOX}),
        keys=lambda account: (
            {lower(account["username"])} | {lower(email["address"]) for email in account["emails"]}
        ),
        record_keys=lambda record: (
            {lower(record["username"])} | {lower(email) for email in record["emails"]}
        ),
        active=lambda account: bool(account["active"]),
        identifiers=lambda account: (
            {lower(account["_id"])} | {lower(import_id) for import_id in account["importIds"]}
        ),
        shown=lambda account: {
            "username": lower(account["username"]),
            "name": account.get("name"),
            "emails": sorted(lower(email["address"]) for email in account["emails"]),
            "importIds": sorted(account["importIds"]),
        },
        expected=lambda record: {
            "username": lower(record["username"]),
            "name": record.get("name"),
            "emails": sorted(lower(email) for email in record["emails"]),
            "importIds": sorted(record["importIds"]),
        },
    ),
    "cloudshell": AccountView(
        key_kinds=frozenset({HANDLE}),
        keys=lambda account: {lower(account["Username"])},
        record_keys=lambda record: {lower(record["UserName"])},
        active=lambda account: bool(account["IsActive"]),
        identifiers=lambda account: {lower(account["Id"])},
        shown=lambda account: {"UserName": lower(account["Username"])},
        expected=lambda record: {"UserName": lower(record["UserName"])},
    ),
}


@dataclass
class Observed:
    """One target's final state, read once the outbox has drained and the workers stopped."""

    users: list[Record]
    """The SCIM users, as the bridge returns them."""
    states: dict[str, Record]
    """Each user's delivery state (the SCIM extension), by SCIM id."""
    groups: dict[str, list[str]]
    """The display names of each user's groups, by SCIM id."""
    links: list[Record]
    """The bridge's links of the target, deleted users' included."""
    chosen: dict[str, dict[str, str]]
    """The ``first_available`` values chosen for each link."""
    accounts: list[Record]
    """What the vendor holds (the emulator's end state)."""


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    checked: int = 0
    delivered: int = 0
    conflicts: list[str] = field(default_factory=list)
    """The people refused for an account key a former holder had: who, and the error."""


def scim_differs_from_model(workload: Workload, seen: Observed) -> list[str]:
    """Where SCIM's final users differ from the writer's model: a bug of the test, or of
    the SCIM layer, never of delivery; the oracle stands on SCIM's answer."""
    found: dict[str, tuple[Any, ...]] = {
        str(user.get("externalId")): (
            user["userName"],
            user["emails"][0]["value"],
            user.get("active"),
            user["name"]["givenName"],
            workload.grant_group in seen.groups.get(user["id"], []),
        )
        for user in seen.users
    }
    modelled: dict[str, tuple[Any, ...]] = {
        person.external_id: (
            person.user_name,
            person.email,
            person.active,
            person.given,
            workload.grant_group is not None,
        )
        for person in workload.live()
    }
    return [
        f"SCIM holds {found.get(key)} for {key}, the workload wrote {modelled.get(key)}"
        for key in sorted(set(found) | set(modelled))
        if found.get(key) != modelled.get(key)
    ]


def check(workload: Workload, mapping: Mapping, view: AccountView, seen: Observed) -> Verdict:
    """The violations of rules 1-3 (module docstring) at one target."""
    verdict = Verdict()
    people = workload.by_external_id()
    links_by_scim_id = {link["scim_id"]: link for link in seen.links if link["scim_id"]}
    active_accounts = [account for account in seen.accounts if view.active(account)]
    delivered: list[tuple[Person, Record]] = []
    refused: list[Person] = []
    kept_accounts: set[str] = set()
    """The vendor ids the bridge's links of refused people name: each such person's own
    account, from before the refused change."""
    for user in seen.users:
        person = people.get(user.get("externalId", ""))
        if not user.get("active") or person is None:  # scim_differs_from_model names the latter
            continue
        verdict.checked += 1
        link = links_by_scim_id.get(user["id"])
        if link is None:
            verdict.violations.append(f"{person.describe()}: the bridge has no link for it")
            continue
        context = MappingContext(
            stable_id=link["id"],
            vendor_id=link["vendor_id"],
            first_import=False,
            chosen=seen.chosen.get(link["id"], {}),
        )
        record = mapping.apply(user, seen.groups.get(user["id"], []), context).record
        state = seen.states.get(user["id"], {})
        if state.get("status") == "delivered":
            verdict.delivered += 1
            delivered.append((person, record))
            verdict.violations += holds_its_account(workload, view, person, record, active_accounts)
        elif state.get("status") == "failed" and workload.contested(person, view.key_kinds):
            refused.append(person)
            if link["vendor_id"]:
                kept_accounts.add(lower(link["vendor_id"]))
            verdict.conflicts.append(f"{person.describe()}: {state.get('lastError')}")
        else:
            verdict.violations.append(
                f"{person.describe()}: {state.get('status')} ({state.get('lastError')}), though "
                "nobody else ever held its account keys"
            )
    for account in active_accounts:
        owners = [
            person for person, record in delivered if view.keys(account) & view.record_keys(record)
        ]
        values = {workload_value(key) for key in view.keys(account)}
        keepers = [
            person
            for person in refused
            if values <= workload.values_held(person)
            and not values & workload.contested(person, view.key_kinds)
        ]
        if not owners and (len(keepers) == 1 or view.identifiers(account) & kept_accounts):
            continue  # the refused user's account before the refused change, left as it was
        if len(owners) != 1:
            verdict.violations.append(
                f"active account {describe(view, account)} belongs to "
                f"{len(owners)} live, active, delivered users; its keys were held by: "
                + "; ".join(p.describe() for p in held_by(workload, view.keys(account)))
            )
    verdict.violations += shared_accounts(workload, view, seen)
    return verdict


def holds_its_account(
    workload: Workload,
    view: AccountView,
    person: Person,
    record: Record,
    active_accounts: list[Record],
) -> list[str]:
    holding = [
        account for account in active_accounts if view.keys(account) & view.record_keys(record)
    ]
    keys = sorted(view.record_keys(record))
    if not holding:
        return [f"{person.describe()}: delivered, but no active account holds {keys}: lost"]
    if len(holding) > 1:
        listed = ", ".join(describe(view, account) for account in holding)
        return [f"{person.describe()}: {len(holding)} active accounts hold {keys}: {listed}"]
    shown, wanted = view.shown(holding[0]), view.expected(record)
    differences = {
        name: {"vendor": shown.get(name), "record": wanted.get(name)}
        for name in sorted(set(shown) | set(wanted))
        if shown.get(name) != wanted.get(name)
    }
    if differences:
        return [
            f"{person.describe()}: its account {describe(view, holding[0])} differs from its "
            f"record: {json.dumps(differences, sort_keys=True)}"
        ]
    for kind in view.key_kinds:
        value = person.value(kind)
        before = workload.preexisting.get((person.serial, kind, value), set())
        if view.identifiers(holding[0]) & before:
            return [
                f"{person.describe()}: holds {describe(view, holding[0])}, an account that held "
                f"{value} before it was given {value}: a former holder's account "
                f"({'; '.join(p.describe() for p in workload.former_holders(kind, value))})"
            ]
    return []


def shared_accounts(workload: Workload, view: AccountView, seen: Observed) -> list[str]:
    """Accounts the vendor holds that the bridge's links give to more than one person."""
    accounts_by_identifier = {
        identifier: index
        for index, account in enumerate(seen.accounts)
        for identifier in view.identifiers(account)
    }
    claimants: dict[int, set[str]] = defaultdict(set)
    for link in seen.links:
        index = accounts_by_identifier.get(lower(link["vendor_id"])) if link["vendor_id"] else None
        if index is not None:
            claimants[index].add(link["external_id"])
    people = workload.by_external_id()
    return [
        f"account {describe(view, seen.accounts[index])} is the bridge's account of "
        + " and of ".join(
            people[external_id].describe() if external_id in people else str(external_id)
            for external_id in sorted(external_ids, key=str)
        )
        for index, external_ids in sorted(claimants.items())
        if len(external_ids) > 1
    ]


def workload_value(key: str) -> str:
    """The workload's value an account key comes from: "h004" of a user name "h004" (or
    "h004@example.com", or Rocket.Chat's "h004.example"), "m012" of an email "m012@…"."""
    return key.split("@")[0].split(".")[0]


def accounts_holding(view: AccountView, accounts: list[Record], value: str) -> set[str]:
    """The identifiers of the accounts with an account key that comes from ``value``."""
    return {
        identifier
        for account in accounts
        if value in {workload_value(key) for key in view.keys(account)}
        for identifier in view.identifiers(account)
    }


def held_by(workload: Workload, keys: set[str]) -> list[Person]:
    """The people the workload gave the values these account keys come from."""
    found: dict[int, Person] = {}
    for key in keys:
        local = workload_value(key)
        for kind in (HANDLE, MAILBOX):
            for person in workload.former_holders(kind, local):
                found[person.serial] = person
    return [found[serial] for serial in sorted(found)]


def describe(view: AccountView, account: Record) -> str:
    return (
        f"{'/'.join(sorted(view.identifiers(account)))} {sorted(view.keys(account))} "
        f"{'active' if view.active(account) else 'inactive'}"
    )
