"""How many SCIM users each shipped mapping turns into vendor records per second.

Run from the repository root: ``python bench/bench_mapping.py [--seconds 1.0]``.
Each vendor maps a realistic Entra ID user (enterprise extension, three
emails) who is a member of several groups, record shape check included.
"""

from __future__ import annotations

import argparse
import time

from scimbridge.config import default_mapping
from scimbridge.mapping import MappingContext, load_mapping

VENDORS = ("confide", "acc", "aria", "rocketchat", "cloudshell")
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
    stable_id="link-1", vendor_id="7d0e2c57-2f5b-4f8a-9d3e-6b1c0a4e9f21", first_import=False
)


def users_per_second(vendor: str, seconds: float) -> float:
    mapping = load_mapping(str(default_mapping(vendor)))
    batch, count = 1000, 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(batch):
            mapping.apply(USER, GROUPS, CONTEXT)
        count += batch
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent per vendor")
    arguments = parser.parse_args()
    print(f"{'vendor':<12}{'users/s':>12}{'µs/user':>10}")
    for vendor in VENDORS:
        rate = users_per_second(vendor, arguments.seconds)
        print(f"{vendor:<12}{rate:>12,.0f}{1e6 / rate:>10.1f}")


if __name__ == "__main__":
    main()
