"""How many SCIM users each shipped mapping turns into vendor records per second.

Run from the repository root: ``python bench/bench_mapping.py [--seconds 1.0]``.
Each vendor maps a realistic Entra ID user (enterprise extension, three
emails) who is a member of several groups, record shape check included, as a
user the vendor already has: its ``first_available`` values are chosen. The row
"rocketchat, choosing" maps a user whose user name is not chosen yet (a first
delivery, and every SCIM write's check): every candidate is evaluated and
checked. The last column compares the rate with
``bench/baselines/mapping.json`` (a slowdown of more than 1.5 times is flagged); two
runs on one machine differ by up to ±15 %.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from scimbridge.config import default_mapping
from scimbridge.mapping import MappingContext, load_mapping
from scimbridge.vendors import record_shape

VENDORS = ("confide", "acc", "aria", "rocketchat", "cloudshell")
BASELINE = Path(__file__).parent / "baselines" / "mapping.json"
LIMIT = 1.5
"""The slowdown against the baseline that the bench flags (issue 14)."""
USER = {
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "CN=jdoe,OU=Users,DC=contoso,DC=com",
    "userName": "jdoe@contoso.com",
    "active": True,
    "displayName": "Jane Doe",
    "name": {"givenName": "Jane", "familyName": "Doe", "formatted": "Jane Doe"},
    "emails": [
        {"value": "jane@home.example", "type": "home"},
        {"value": "jdoe@contoso.com", "type": "work", "primary": True},
        {"value": "jane.doe@contoso.com", "type": "other"},
    ],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
        "department": "Construction",
        "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"},
    },
}
GROUPS = [
    "ACC Administrators",
    "Contoso Staff",
    "Aria Read Only",
    "Chat Admins",
    "Confide Coordinators",
]
CONTEXT = MappingContext(
    stable_id="3fa9c2d41b7e4c8f9a0b1c2d3e4f5a6b",
    vendor_id="7d0e2c57-2f5b-4f8a-9d3e-6b1c0a4e9f21",
    first_import=False,
    chosen={"username": "jdoe"},
)
CHOOSING = MappingContext(stable_id="3fa9c2d41b7e4c8f9a0b1c2d3e4f5a6b")
ROWS = [
    *((vendor, vendor, CONTEXT) for vendor in VENDORS),
    ("rocketchat, choosing", "rocketchat", CHOOSING),
]


def users_per_second(vendor: str, context: MappingContext, seconds: float) -> float:
    mapping = load_mapping(str(default_mapping(vendor)), record_shape)
    batch, count = 1000, 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(batch):
            mapping.apply(USER, GROUPS, context)
        count += batch
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent per vendor")
    arguments = parser.parse_args()
    baseline = json.loads(BASELINE.read_text())["users_per_second"]
    print(f"{'mapping':<22}{'users/s':>12}{'µs/user':>10}{'baseline':>12}{'slowdown':>10}")
    for row, vendor, context in ROWS:
        rate = users_per_second(vendor, context, arguments.seconds)
        slowdown = baseline[vendor] / rate
        flag = "" if slowdown <= LIMIT else f"  over {LIMIT}x"
        print(
            f"{row:<22}{rate:>12,.0f}{1e6 / rate:>10.1f}{baseline[vendor]:>12,}"
            f"{slowdown:>9.2f}x{flag}"
        )


if __name__ == "__main__":
    main()
