"""Delivery benchmark: vendor requests per user, and how fast users get in and out.

For each vendor, N users are created with one SCIM Bulk request against an
in-process bridge on a fresh SQLite file, then the outbox is delivered to that
vendor's emulator on loopback. Prints, per vendor: SCIM Bulk users/s, delivery
users/s, vendor HTTP requests per user (token calls included), and the peak
resident memory of the process.

The emulators keep their documented limits, but for one: the Rocket.Chat account
holds ``api-bypass-rate-limit``, as vendors.md advises for the bridge (at 10 calls
a minute per route, 500 users would take well over an hour, which measures the limit,
not the bridge). ACC's import lands 0.5 s after its 202, as the emulator plays it.

    python bench/bench_delivery.py [N]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml
from flask import Flask

from scimbridge.app import Bridge
from scimbridge.config import VENDORS, parse_config
from scimbridge.delivery.worker import Worker
from scimbridge.emulators import DEMO_OPTIONS, run_in_thread

TOKEN = "bench-token-0123456789"


def scim_user(n: int) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"user{n:05d}@example.com",
        "externalId": f"00u{n:05d}",
        "name": {"givenName": f"Given{n}", "familyName": "Bench"},
        "emails": [{"value": f"user{n:05d}@example.com", "type": "work", "primary": True}],
    }


EMULATOR_OPTIONS = {"rocketchat": {"bypass_rate_limit": True}}


def bench(vendor: str, users: int, directory: Path) -> dict[str, float]:
    emulator = run_in_thread(vendor, **EMULATOR_OPTIONS.get(vendor, {}))
    document = {
        "database": f"sqlite:///{directory / f'{vendor}.db'}",
        "max_bulk_operations": users,
        "max_payload_bytes": 1024 * users + 65536,
        "targets": [
            {
                "name": vendor,
                "vendor": vendor,
                "base_url": emulator.url,
                "credentials": emulator.credentials,
                "options": {
                    **DEMO_OPTIONS.get(vendor, {}),
                    "poll_interval_seconds": 0.01,
                    "max_polls": 200,
                },
                "inbound": {"bearer_tokens": [TOKEN]},
            }
        ],
    }
    bridge = Bridge(parse_config(yaml.safe_dump(document)))
    app = Flask("bench")
    bridge.init_app(app)
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": str(n), "data": scim_user(n)}
        for n in range(users)
    ]
    started = time.perf_counter()
    response = app.test_client().post(
        f"/scim/v2/{vendor}/Bulk",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": operations,
        },
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200, response.json
    scim_seconds = time.perf_counter() - started
    worker = Worker(bridge.config, bridge.database, bridge.mappings)
    started = time.perf_counter()
    while len(emulator.users()) < users:
        if not worker.run_once():
            time.sleep(0.05)
    delivery_seconds = time.perf_counter() - started
    delivered = len(emulator.users())
    requests = sum(emulator.request_counts().values())
    emulator.stop()
    assert delivered == users, f"{vendor}: {delivered} of {users} delivered"
    return {
        "scim users/s": users / scim_seconds,
        "delivery users/s": users / delivery_seconds,
        "requests/user": requests / users,
    }


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as directory:
        print(f"{users} users per vendor, one SCIM Bulk request each")
        print(f"{'vendor':<11} {'scim users/s':>13} {'delivery users/s':>17} {'requests/user':>14}")
        for vendor in VENDORS:
            figures = bench(vendor, users, Path(directory))
            print(
                f"{vendor:<11} {figures['scim users/s']:>13.0f} "
                f"{figures['delivery users/s']:>17.0f} {figures['requests/user']:>14.3f}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
