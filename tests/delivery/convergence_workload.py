"""The convergence test's workload and faults, both drawn from one seed.

Per target, one writer plays an identity provider: people are created, renamed (their
``userName`` and their name), given another work email, deactivated, reactivated,
deleted, re-created (the same ``externalId``: the same person), and a NEW person (a new
``externalId``) is given the user name or the email a former or renamed user held, the
case where an account can be handed to the wrong person. Each writer keeps a model of
what its SCIM endpoint holds and of who held each value in turn; the oracle
(:mod:`convergence_oracle`) reads the final state from SCIM and uses the model only to
know who held what before.

The choices depend on the seed alone, never on timing, so a seed replays the same
operations (the interleaving with the workers and the faults differs run to run).

Live users never share a user name (SCIM refuses it) nor an email (the workload never
gives one to two live people): a value is given again only once no live user holds it,
so the final state is well defined and every conflict is between a live person and a
former holder.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
DOMAIN = "example.com"
GIVEN_NAMES = ("Ada", "Bea", "Cyd", "Dora", "Eli", "Finn", "Gus", "Hana", "Ivo", "Jun")

HANDLE = "handle"
"""The local part of a person's ``userName``: Aria's and CloudShell's account key, and
what Rocket.Chat's user name is chosen from."""
MAILBOX = "mailbox"
"""The local part of a person's work email: Confide's and ACC's account key, and one of
Rocket.Chat's."""

OPERATIONS = {
    "create": 13,
    "rename_username": 9,
    "rename_name": 9,
    "change_email": 9,
    "deactivate": 9,
    "reactivate": 8,
    "delete": 9,
    "recreate": 7,
    "reuse": 12,
}
"""How often each operation is drawn; one whose precondition fails (nobody to reactivate,
no value free to reuse) is replaced by a create."""
REUSE_ODDS = 0.5
"""How often a rename or an email change takes a value a former holder released rather
than a new one."""


@dataclass
class Person:
    """One person of the identity provider, and their SCIM user while they have one."""

    serial: int
    external_id: str
    given: str
    handle: str
    mailbox: str
    scim_id: str | None = None
    """None before creation and after deletion."""
    active: bool = True

    @property
    def family(self) -> str:
        """Never changes: tells this person's vendor records from anyone else's (ACC keeps
        the name an account was created with, whatever comes later)."""
        return f"Person{self.serial:03d}"

    @property
    def user_name(self) -> str:
        return f"{self.handle}@{DOMAIN}"

    @property
    def email(self) -> str:
        return f"{self.mailbox}@{DOMAIN}"

    def value(self, kind: str) -> str:
        return self.handle if kind == HANDLE else self.mailbox

    def resource(self) -> dict[str, Any]:
        return {
            "schemas": [USER],
            "userName": self.user_name,
            "externalId": self.external_id,
            "name": {"givenName": self.given, "familyName": self.family},
            "displayName": f"{self.given} {self.family}",
            "emails": [{"value": self.email, "type": "work", "primary": True}],
            "active": self.active,
        }

    def describe(self) -> str:
        state = "deleted" if self.scim_id is None else "active" if self.active else "inactive"
        return f"{self.family} ({self.external_id}, {self.user_name}, {self.email}, {state})"


class Workload:
    """One target's writer: draws operations from the seed, sends them to the target's SCIM
    endpoint on each bridge in turn, and keeps the model."""

    def __init__(
        self,
        target: str,
        seed: int,
        fronts: list[str],
        token: str,
        grant_group: str | None = None,
        accounts_holding: Callable[[str], set[str]] = lambda value: set(),
    ):
        """:param fronts: the target's SCIM base URL on each bridge; writes alternate.
        :param grant_group: a group every user joins, when the vendor shows an account
            without one as deprovisioned (Confide: no permission; ACC: no product).
        :param accounts_holding: the vendor's ids of the accounts that hold a value now."""
        self.target = target
        self.seed = seed
        self.rng = random.Random(f"{seed}/{target}")
        self.fronts = fronts
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        self.grant_group = grant_group
        self.group_id: str | None = None
        self.http = requests.Session()
        self.people: list[Person] = []
        self.accounts_holding = accounts_holding
        self.holders: dict[tuple[str, str], list[int]] = defaultdict(list)
        """Per value (its kind and itself), the serials of the people given it, in turn."""
        self.preexisting: dict[tuple[int, str, str], set[str]] = {}
        """Per person given a value another person held before and this one never did: the
        vendor's accounts that held the value just before (none of them is this person's)."""
        self.operations: Counter[str] = Counter()
        self.writes = itertools.count()
        self.fresh = itertools.count(1)

    # -- driving --------------------------------------------------------------------------

    def run(self, operations: int, pause_seconds: float) -> None:
        """Play ``operations`` operations, ``pause_seconds`` apart on average."""
        if self.grant_group:
            group = self.send(
                "POST", "/Groups", {"schemas": [GROUP], "displayName": self.grant_group}
            )
            self.group_id = group["id"]
        for _ in range(operations):
            kind = self.rng.choices(list(OPERATIONS), weights=list(OPERATIONS.values()))[0]
            if not getattr(self, kind)():
                kind = "create"
                self.create()
            self.operations[kind] += 1
            time.sleep(self.rng.uniform(0, 2 * pause_seconds))

    def send(self, method: str, path: str, body: Any = None) -> Any:
        """The answer of the next bridge in turn; anything but a success fails the test
        (the workload never writes what SCIM should refuse)."""
        front = self.fronts[next(self.writes) % len(self.fronts)]
        response = self.http.request(
            method, f"{front}{path}", json=body, headers=self.headers, timeout=30
        )
        assert response.ok, (
            f"{self.target}: {method} {path} answered {response.status_code}: {response.text}"
        )
        return response.json() if response.content else None

    # -- the model ------------------------------------------------------------------------

    def live(self) -> list[Person]:
        return [person for person in self.people if person.scim_id is not None]

    def held(self, kind: str) -> set[str]:
        return {person.value(kind) for person in self.live()}

    def released(self, kind: str) -> list[str]:
        """Values somebody was given once and no live user holds now, in a stable order."""
        held = self.held(kind)
        return sorted(value for (of, value) in self.holders if of == kind and value not in held)

    def new_value(self, kind: str) -> str:
        return f"{kind[0]}{next(self.fresh):03d}"

    def some_value(self, kind: str, odds: float) -> str:
        released = self.released(kind)
        if released and self.rng.random() < odds:
            return self.rng.choice(released)
        return self.new_value(kind)

    def give(self, person: Person, kind: str, value: str) -> None:
        """Give ``person`` the value, before the write that says so is sent."""
        holders = self.holders[(kind, value)]
        if holders and person.serial not in holders:
            self.preexisting[(person.serial, kind, value)] = self.accounts_holding(value)
        if kind == HANDLE:
            person.handle = value
        else:
            person.mailbox = value
        if holders[-1:] != [person.serial]:
            holders.append(person.serial)

    def contested(self, person: Person, kinds: frozenset[str]) -> set[str]:
        """The person's current values (of these kinds) that another person held before this
        one was last given them: the one case where the person may be refused with a
        conflict rather than provisioned (whether the former holder's account had reached
        the vendor decides it)."""
        contested = set()
        for kind in kinds:
            value = person.value(kind)
            holders = self.holders[(kind, value)]
            last = max(index for index, serial in enumerate(holders) if serial == person.serial)
            if any(serial != person.serial for serial in holders[:last]):
                contested.add(value)
        return contested

    def values_held(self, person: Person) -> set[str]:
        """Every value the person was ever given."""
        return {value for (_, value), serials in self.holders.items() if person.serial in serials}

    def former_holders(self, kind: str, value: str) -> list[Person]:
        serials = dict.fromkeys(self.holders.get((kind, value), []))
        return [self.people[serial] for serial in serials]

    def by_external_id(self) -> dict[str, Person]:
        return {person.external_id: person for person in self.people}

    # -- operations -----------------------------------------------------------------------

    def provision(self, person: Person) -> None:
        created = self.send("POST", "/Users", person.resource())
        person.scim_id = created["id"]
        if self.group_id:
            self.patch_group({"op": "add", "path": "members", "value": [{"value": person.scim_id}]})

    def new_person(self, handle: str, mailbox: str) -> Person:
        serial = len(self.people)
        person = Person(
            serial=serial,
            external_id=f"00u{self.seed}x{serial:03d}",
            given=self.rng.choice(GIVEN_NAMES),
            handle="",
            mailbox="",
        )
        self.people.append(person)
        self.give(person, HANDLE, handle)
        self.give(person, MAILBOX, mailbox)
        return person

    def create(self) -> bool:
        self.provision(self.new_person(self.new_value(HANDLE), self.new_value(MAILBOX)))
        return True

    def reuse(self) -> bool:
        """A new person given a former or renamed user's user name, email, or both."""
        handles, mailboxes = self.released(HANDLE), self.released(MAILBOX)
        if not handles and not mailboxes:
            return False
        both = handles and mailboxes and self.rng.random() < 0.5
        take_handle = bool(handles) and (both or not mailboxes or self.rng.random() < 0.5)
        take_mailbox = bool(mailboxes) and (both or not take_handle)
        handle = self.rng.choice(handles) if take_handle else self.new_value(HANDLE)
        mailbox = self.rng.choice(mailboxes) if take_mailbox else self.new_value(MAILBOX)
        self.provision(self.new_person(handle, mailbox))
        return True

    def recreate(self) -> bool:
        """A deleted person back, with the same ``externalId``; their former values when
        nobody holds them now, else new ones."""
        gone = [person for person in self.people if person.scim_id is None]
        if not gone:
            return False
        person = self.rng.choice(gone)
        for kind in (HANDLE, MAILBOX):
            value = person.value(kind)
            self.give(person, kind, value if value not in self.held(kind) else self.new_value(kind))
        person.active = True
        self.provision(person)
        return True

    def pick(self, active: bool | None = None) -> Person | None:
        people = [p for p in self.live() if active is None or p.active == active]
        return self.rng.choice(people) if people else None

    def patch(self, person: Person, *operations: dict[str, Any]) -> None:
        body = {"schemas": [PATCH], "Operations": list(operations)}
        self.send("PATCH", f"/Users/{person.scim_id}", body)

    def patch_group(self, *operations: dict[str, Any]) -> None:
        body = {"schemas": [PATCH], "Operations": list(operations)}
        self.send("PATCH", f"/Groups/{self.group_id}", body)

    def rename_username(self) -> bool:
        person = self.pick()
        if person is None:
            return False
        self.give(person, HANDLE, self.some_value(HANDLE, REUSE_ODDS))
        self.patch(person, {"op": "replace", "path": "userName", "value": person.user_name})
        return True

    def rename_name(self) -> bool:
        person = self.pick()
        if person is None:
            return False
        person.given = f"{self.rng.choice(GIVEN_NAMES)}{next(self.fresh)}"
        self.patch(
            person,
            {"op": "replace", "path": "name.givenName", "value": person.given},
            {"op": "replace", "path": "displayName", "value": f"{person.given} {person.family}"},
        )
        return True

    def change_email(self) -> bool:
        person = self.pick()
        if person is None:
            return False
        self.give(person, MAILBOX, self.some_value(MAILBOX, REUSE_ODDS))
        emails = [{"value": person.email, "type": "work", "primary": True}]
        self.patch(person, {"op": "replace", "path": "emails", "value": emails})
        return True

    def deactivate(self) -> bool:
        return self.make_active(False)

    def reactivate(self) -> bool:
        return self.make_active(True)

    def make_active(self, active: bool) -> bool:
        person = self.pick(active=not active)
        if person is None:
            return False
        person.active = active
        self.patch(person, {"op": "replace", "path": "active", "value": active})
        return True

    def delete(self) -> bool:
        person = self.pick()
        if person is None:
            return False
        self.send("DELETE", f"/Users/{person.scim_id}")
        person.scim_id = None
        return True


# -- faults --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledFault:
    """A misbehaviour queued at one emulator ``wait`` seconds after the previous one; it
    plays on the emulator's next requests (``VendorEmulator.fault``)."""

    wait: float
    target: str
    kind: str
    options: dict[str, Any]


def faults(seed: int, targets: list[str], timeout_seconds: float) -> Iterator[ScheduledFault]:
    """An endless series of faults, about one every two seconds per target: outages (503),
    429s with a ``Retry-After``, answers that come after the client's timeout (the vendor
    applied the call), answers held far longer, connections dropped after the vendor applied
    the call, and calls slowed down within the timeout.

    No call is held back *before* the vendor applies it beyond the client's timeout: the
    vendor would then apply it after the client moved on, an old state landing after a
    newer one, which no client can prevent, and the oracle could not tell from a bug."""
    rng = random.Random(f"{seed}/faults")
    kinds: dict[str, Callable[[], dict[str, Any]]] = {
        "outage": lambda: {"status": 503, "times": rng.randint(2, 6)},
        "rate_limited": lambda: {"status": 429, "retry_after": 1, "times": rng.randint(1, 3)},
        "late_answer": lambda: {
            "after": "timeout",
            "delay": round(timeout_seconds * rng.uniform(1.2, 2.5), 2),
        },
        "held_answer": lambda: {"after": "timeout", "delay": timeout_seconds * 5},
        "dropped_answer": lambda: {"after": "disconnect"},
        # well within the timeout: a call the client gave up on is never applied later
        "slow_answer": lambda: {"delay": round(timeout_seconds * rng.uniform(0.1, 0.3), 2)},
    }
    while True:
        kind = rng.choice(list(kinds))
        yield ScheduledFault(
            rng.expovariate(len(targets) / 2), rng.choice(targets), kind, kinds[kind]()
        )
