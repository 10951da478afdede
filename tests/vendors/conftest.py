"""The vendor clients under test, each against its vendor's emulator on loopback.

A :class:`Kit` holds what a test needs to know about one vendor to stay
vendor-neutral: how a user's record looks, how the emulator shows that user,
which path the import takes, and what "disabled" means there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from scimbridge_emulators import demo_options, run_in_thread
from scimbridge_emulators.server import RunningEmulator

from scimbridge.config import Target
from scimbridge.vendors import client_for
from scimbridge.vendors.base import Action, DeliveryItem, VendorClient

VENDORS = ("confide", "acc", "aria", "rocketchat", "cloudshell")
SECRET_KEYS = ("client_secret", "password", "auth_token")


def email(n: int) -> str:
    return f"user{n}@example.com"


@dataclass(frozen=True)
class Kit:
    vendor: str
    record: Callable[[int], dict[str, Any]]
    """The mapped record of test user ``n``."""
    identity: Callable[[dict[str, Any]], str]
    """How the emulator's end state names a user (email or user name)."""
    import_path: str
    """A fragment of the import call's path, for faults and request counts."""
    disabled: Callable[[dict[str, Any]], bool]
    removal_keeps_user: bool = False
    """Confide documents no delete: a removed user stays, without permissions."""

    def name(self, n: int) -> str:
        return email(n) if self.vendor in ("confide", "acc") else f"user{n}"


KITS = {
    "confide": Kit(
        vendor="confide",
        record=lambda n: {"email": email(n), "isShareCoordinator": True, "canShareLink": True},
        identity=lambda user: user["email"],
        import_path="/admin/shareSetting/import-users",
        disabled=lambda user: not user["isShareCoordinator"] and not user["canShareLink"],
        removal_keeps_user=True,
    ),
    "acc": Kit(
        vendor="acc",
        record=lambda n: {
            "firstName": "User",
            "lastName": f"Number{n}",
            "email": email(n),
            "products": [{"key": "docs", "access": "member"}],
        },
        identity=lambda user: user["email"],
        import_path="users:import",
        disabled=lambda user: all(p["access"] == "none" for p in user["products"]),
    ),
    "aria": Kit(
        vendor="aria",
        record=lambda n: {
            "username": f"user{n}",
            "firstName": "User",
            "lastName": f"Number{n}",
            "emailAddress": email(n),
            "enabled": True,
            "role-permissions": [{"roleName": "ReadOnly", "allowAllObjects": True}],
        },
        identity=lambda user: user["username"],
        import_path="/api/auth/sources/",
        disabled=lambda user: user["enabled"] is False,
    ),
    "rocketchat": Kit(
        vendor="rocketchat",
        record=lambda n: {
            "username": f"user{n}",
            "name": f"User {n}",
            "emails": [email(n)],
            "importIds": [f"link-{n}"],
        },
        identity=lambda user: user["username"],
        import_path="import.run",  # the call that applies the import (addUsers only stages)
        disabled=lambda user: user["active"] is False,
    ),
    "cloudshell": Kit(
        vendor="cloudshell",
        record=lambda n: {"UserName": f"user{n}"},
        identity=lambda user: user["Username"],
        import_path="IdentityManagement/users",
        disabled=lambda user: user["IsActive"] is False,
    ),
}


SHARED_EMULATOR_OPTIONS: dict[str, dict[str, Any]] = {
    "acc": {"import_delay_seconds": 0.05},
}
"""ACC's asynchronous import, shortened to fit the clients' test polling (20 polls, 0.01 s apart)."""


@pytest.fixture(scope="session")
def emulators() -> Iterator[dict[str, RunningEmulator]]:
    running = {
        vendor: run_in_thread(vendor, **SHARED_EMULATOR_OPTIONS.get(vendor, {}))
        for vendor in VENDORS
    }
    yield running
    for emulator in running.values():
        emulator.stop()


def build_target(emulator: RunningEmulator, vendor: str, **changes: Any) -> Target:
    document: dict[str, Any] = {
        "name": f"test-{vendor}",
        "vendor": vendor,
        "base_url": emulator.url,
        "credentials": emulator.credentials,
        "options": {**demo_options(vendor), "poll_interval_seconds": 0.01, "max_polls": 20},
        "inbound": {"bearer_tokens": ["inbound-token-0123456789"]},
        "delivery": {"timeout_seconds": 5},
    }
    for key, value in changes.items():
        document[key] = {**document[key], **value} if isinstance(value, dict) else value
    return Target.model_validate(document)


class Harness:
    """One vendor's emulator, freshly reset, and clients of it."""

    def __init__(self, kit: Kit, emulator: RunningEmulator):
        self.kit = kit
        self.emu = emulator
        self.clients: list[VendorClient] = []

    def client(self, **target_changes: Any) -> VendorClient:
        client = client_for(build_target(self.emu, self.kit.vendor, **target_changes))
        self.clients.append(client)
        return client

    def item(
        self,
        n: int,
        action: Action = Action.IMPORT,
        vendor_id: str | None = None,
        first_import: bool = True,
        **record: Any,
    ) -> DeliveryItem:
        return DeliveryItem(
            key=f"link-{n}",
            action=action,
            record={**self.kit.record(n), **record},
            vendor_id=vendor_id,
            first_import=first_import,
        )

    def imported(self, client: VendorClient, *numbers: int) -> list[DeliveryItem]:
        """Import these users, then the items a later delivery would carry for them."""
        outcomes = client.deliver([self.item(n) for n in numbers])
        assert all(outcome.ok for outcome in outcomes), outcomes
        return [
            self.item(n, vendor_id=outcome.vendor_id, first_import=False)
            for n, outcome in zip(numbers, outcomes, strict=True)
        ]

    def user(self, n: int) -> dict[str, Any] | None:
        name = self.kit.name(n).lower()
        return next((u for u in self.emu.users() if self.kit.identity(u).lower() == name), None)

    def sent(self, path_contains: str, method: str = "POST") -> list[dict[str, Any]]:
        """The logged requests of this method whose path contains ``path_contains``."""
        return [
            logged
            for logged in self.emu.requests(path_contains=path_contains)
            if logged["method"] == method
        ]

    def calls(self, path_contains: str, method: str = "POST") -> int:
        return len(self.sent(path_contains, method))

    def secrets(self, client: VendorClient) -> list[str]:
        """The configured secrets, and the token the client holds (whatever its kind)."""
        configured = [value for key, value in self.emu.credentials.items() if key in SECRET_KEYS]
        oauth = getattr(client, "oauth", None)
        token = oauth.token["access_token"] if oauth else getattr(client, "token", None)
        return configured + ([token] if token else [])

    def close(self) -> None:
        for client in self.clients:
            client.close()


def harness_for(vendor: str, emulators: dict[str, RunningEmulator]) -> Iterator[Harness]:
    emulator = emulators[vendor]
    emulator.reset()
    harness = Harness(KITS[vendor], emulator)
    yield harness
    harness.close()


@pytest.fixture(params=VENDORS)
def vendor_harness(request: pytest.FixtureRequest, emulators: dict[str, RunningEmulator]):
    """Each vendor in turn, for the behaviours all clients share."""
    yield from harness_for(request.param, emulators)


@pytest.fixture
def harness(request: pytest.FixtureRequest, emulators: dict[str, RunningEmulator]):
    """The vendor a test module names in its ``VENDOR`` global."""
    yield from harness_for(request.module.VENDOR, emulators)


@pytest.fixture
def own_emulator() -> Iterator[Callable[..., Harness]]:
    """A harness over a fresh emulator built with options of its own (a seeded directory)."""
    started: list[Harness] = []

    def start(vendor: str, **options: Any) -> Harness:
        started.append(Harness(KITS[vendor], run_in_thread(vendor, **options)))
        return started[-1]

    yield start
    for harness in started:
        harness.close()
        harness.emu.stop()


class BridgeUser:
    """The bridge's users as a client is told of them: one, behind ``stable_id``."""

    description = "userName someone.else, externalId (none)"

    def __init__(self, stable_id: str):
        self.stable_id = stable_id

    def describe(self, stable_id: str) -> str | None:
        return self.description if stable_id == self.stable_id else None


@pytest.fixture
def bridge_user() -> Callable[[str], BridgeUser]:
    """Bridge users for a client: ``bridge_user(stable_id)`` names the one behind that id."""
    return BridgeUser
