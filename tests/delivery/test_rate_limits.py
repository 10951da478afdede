"""Documented rate limits, enforced by the emulators and kept by the bridge, at volume.

1,000 users to Rocket.Chat (10 calls per route and window) and 1,000 ACC updates (100
writes and 600 reads per window), through a bridge served on loopback. The windows are
scaled down to 2 s so that a test takes seconds, not hours; the limits are never switched
off, and the targets' ``options.rate_limits`` make the clients pace at the same numbers.
Each test checks the vendor's end state and, from the emulator's request log, that no
call went beyond the limit except ones the vendor answered 429, each of which the bridge
waited out: the next call the same limit counts came after the reset the 429 announced.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from test_end_to_end import scim_user

from scimbridge.testing.live import LiveBridge, start_live

WINDOW = 2.0
USERS = 1000
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

Bucket = Callable[[dict[str, Any]], tuple[str, int] | None]
"""The count a logged request draws on at the vendor, and its calls per window (None: the
request is not limited)."""


def rocketchat_route(logged: dict[str, Any]) -> tuple[str, int] | None:
    """Per route (method and path) and client, every REST route (Rocket.Chat's source, ``ApiClass.ts``)."""
    if not logged["path"].startswith("/api/v1/"):
        return None
    return f"{logged['method']} {logged['path']}", 10


def acc_kind(logged: dict[str, Any]) -> tuple[str, int] | None:
    """Per client id on construction/admin: 600 GETs, 100 writes (Autodesk's admin rate-limits page)."""
    if not logged["path"].startswith("/construction/admin/"):
        return None
    return ("reads", 600) if logged["method"] == "GET" else ("writes", 100)


@pytest.fixture
def paced(tmp_path, monkeypatch) -> Callable[..., LiveBridge]:
    """A live bridge whose target paces at ``limits`` (``options.rate_limits``), in front of
    an emulator built with ``emulator_options``.

    """
    stops: list[Callable[[], None]] = []

    def start(vendor: str, limits: dict[str, Any], **emulator_options: Any) -> LiveBridge:
        live, stop = start_live(
            tmp_path, vendor, options={"rate_limits": limits}, **emulator_options
        )
        stops.append(stop)
        return live

    yield start
    for stop in stops:
        stop()


def bulk_create(live: LiveBridge, names: list[str]) -> list[str]:
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": name, "data": scim_user(name)}
        for name in names
    ]
    response = live.scim(
        "POST",
        "/Bulk",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": operations,
        },
    )
    assert {operation["status"] for operation in response.json()["Operations"]} == {"201"}
    return [operation["location"].rsplit("/", 1)[1] for operation in response.json()["Operations"]]


def assert_within_limits(live: LiveBridge, bucket: Bucket) -> None:
    """Per bucket, no span of the window holds more than its calls answered otherwise than
    429, and the first call after a 429 comes after the reset it announced."""
    logged: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for entry in live.emulator.requests():
        if (counted := bucket(entry)) is not None:
            logged[counted].append(entry)
    for (key, limit), entries in logged.items():
        entries.sort(key=lambda entry: entry["at"])
        allowed = [entry["at"] for entry in entries if entry["status"] != 429]
        crowded = [
            (earlier, later)
            for earlier, later in zip(allowed, allowed[limit:], strict=False)
            if later - earlier < WINDOW
        ]
        assert not crowded, f"{key}: more than {limit} calls in {WINDOW} s: {crowded[:3]}"
        for refused, following in pairwise(entries):
            if refused["status"] == 429:
                assert following["at"] >= reset_of(refused), f"{key}: {following} came early"


def reset_of(refused: dict[str, Any]) -> float:
    """When a 429 said the limit frees (epoch seconds): Rocket.Chat's ``X-RateLimit-Reset``
    in milliseconds, else ``Retry-After`` seconds after the refused call."""
    headers = refused["limit_headers"]
    if "X-RateLimit-Reset" in headers:
        return int(headers["X-RateLimit-Reset"]) / 1000
    return refused["at"] + float(headers["Retry-After"])


def refusals(live: LiveBridge) -> int:
    return sum(1 for entry in live.emulator.requests() if entry["status"] == 429)


def test_a_thousand_users_reach_rocketchat_within_its_per_route_limit(paced):
    live = paced(
        "rocketchat",
        {"per_route": {"calls": 10, "seconds": WINDOW}},
        rate_limit_calls=10,
        rate_limit_seconds=WINDOW,
    )
    names = [f"user{n:04d}" for n in range(USERS)]
    bulk_create(live, names)
    live.emulator.fault(status=429, retry_after=1, path="users.list")  # one to wait out

    live.drain_in_real_time(seconds=80)

    usernames = Counter(user["username"] for user in live.emulator.users())
    assert sorted(usernames) == names and set(usernames.values()) == {1}
    assert refusals(live) >= 1
    assert_within_limits(live, rocketchat_route)
    lookups = live.emulator.request_counts().get("GET /api/v1/users.info", 0)
    assert lookups < USERS / 10, "new users are found absent and created by listing"


def test_a_thousand_acc_updates_arrive_within_its_write_limit(paced):
    """1,000 members, then a group that gives each member access: one PATCH each."""
    live = paced(
        "acc",
        {"writes": {"seconds": WINDOW}, "reads": {"seconds": WINDOW}},
        write_limit=100,
        read_limit=600,
        limit_seconds=WINDOW,
        import_delay_seconds=0,
    )
    names = [f"user{n:04d}" for n in range(USERS)]
    user_ids = bulk_create(live, names)
    live.drain_in_real_time(seconds=40)
    response = live.scim(
        "POST",
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": "ACC Members",
            "members": [{"value": user_id} for user_id in user_ids],
        },
    )
    assert response.status_code == 201, response.text
    live.emulator.fault(status=429, retry_after=1, path="/users/")  # one to wait out

    live.drain_in_real_time(seconds=60)

    members = Counter(member["email"] for member in live.emulator.users())
    assert sorted(members) == [f"{name}@example.com" for name in names]
    assert set(members.values()) == {1}
    assert all(
        product["access"] == "member"
        for member in live.emulator.users()
        for product in member["products"]
    )
    patches = live.emulator.request_counts()[
        "PATCH /construction/admin/v1/projects/<project_id>/users/<user_id>"
    ]
    assert USERS <= patches <= USERS + 1  # the one refused is sent again
    assert refusals(live) >= 1
    assert_within_limits(live, acc_kind)
