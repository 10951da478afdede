"""How many SCIM users each shipped mapping turns into vendor records per second, beside
the code of an earlier revision measured in the same minute.

Run from a clone's root: ``python bench/bench_mapping.py [--against REV] [--seconds 1.0]``.
Each vendor maps a realistic Entra ID user (enterprise extension, three emails) who is a
member of several groups, record shape check included, as a user the vendor already has:
its ``first_available`` values are chosen. The row "rocketchat, choosing" maps a user whose
user name is not chosen yet (a first delivery, and every SCIM write's check): its first
candidate is worked out and checked. "rocketchat, 3rd candidate" adds what a delivery pays
when the vendor holds the first two (rare: two earlier users with the same local part); the
earlier code had no such step, so it is not flagged.

Each row is measured in turns, five of this checkout and five of ``--against`` (by default
``bench/baselines/mapping.json``'s revision: the code before issue 14's forms), each in a
process of its own, and the best of each is kept: this machine's neighbours make one
second differ from the next by up to ±30 %, which two runs minutes apart cannot tell from a
change of the code. A slowdown of more than 1.5 times is flagged (issue 14).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RATE = Path(__file__).resolve().parent / "mapping_rate.py"
BASELINE = Path(__file__).parent / "baselines" / "mapping.json"
LIMIT = 1.5
"""The slowdown against the earlier revision that the bench flags (issue 14)."""
TURNS = 5
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
KNOWN = {
    "stable_id": "3fa9c2d41b7e4c8f9a0b1c2d3e4f5a6b",
    "vendor_id": "7d0e2c57-2f5b-4f8a-9d3e-6b1c0a4e9f21",
    "first_import": False,
    "chosen": {"username": "jdoe"},
}
"""The context of a user the vendor has (``MappingContext``'s fields)."""
CHOOSING = {"stable_id": "3fa9c2d41b7e4c8f9a0b1c2d3e4f5a6b"}
"""The context of a user whose user name is not chosen yet."""
ROWS: list[tuple[str, str, dict[str, Any], int, bool]] = [
    *((vendor, vendor, KNOWN, 0, True) for vendor in VENDORS),
    ("rocketchat, choosing", "rocketchat", CHOOSING, 0, True),
    ("rocketchat, 3rd candidate", "rocketchat", CHOOSING, 2, False),
]
"""Row, vendor, context, the candidate worked out (0: the record's), whether flagged."""


def users_per_second(
    tree: Path, vendor: str, context: dict[str, Any], candidate: int, seconds: float
) -> float:
    """The rate of the code in ``tree``, in a process of its own (:mod:`mapping_rate`)."""
    job = {
        "vendor": vendor,
        "user": USER,
        "groups": GROUPS,
        "context": context,
        "candidate": candidate,
        "seconds": seconds,
    }
    done = subprocess.run(
        [sys.executable, str(RATE)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    return float(done.stdout)


def checkout(revision: str, into: Path) -> Path:
    """The files of ``revision`` (``git archive``), to import its ``scimbridge`` from."""
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--against",
        default=json.loads(BASELINE.read_text())["revision"],
        help="the revision to compare with (default: %(default)s)",
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="time per row and revision")
    arguments = parser.parse_args()
    per_turn = arguments.seconds / TURNS
    with tempfile.TemporaryDirectory() as directory:
        earlier = checkout(arguments.against, Path(directory))
        print(
            f"{'mapping':<27}{'users/s':>10}{'µs/user':>10}{arguments.against:>10}{'slowdown':>10}"
        )
        for row, vendor, context, candidate, flagged in ROWS:
            now = then = 0.0
            for _ in range(TURNS):
                then = max(then, users_per_second(earlier, vendor, KNOWN, 0, per_turn))
                now = max(now, users_per_second(ROOT, vendor, context, candidate, per_turn))
            slowdown = then / now
            flag = f"  over {LIMIT}x" if flagged and slowdown > LIMIT else ""
            print(f"{row:<27}{now:>10,.0f}{1e6 / now:>10.1f}{then:>10,.0f}{slowdown:>9.2f}x{flag}")


if __name__ == "__main__":
    main()
