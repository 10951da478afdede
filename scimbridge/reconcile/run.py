"""One reconcile of one target: the bridge's users, then what the vendor holds, then the plan.

The users are read first: a user delivered while the vendor is read is then either
still ``pending`` or already at the vendor, never judged against a listing older than
its delivery.
"""

from __future__ import annotations

from scimbridge.config import Target
from scimbridge.delivery.wanted import Directory, bridge_users
from scimbridge.mapping import Mapping
from scimbridge.reconcile.plan import Plan, make_plan, reserved_keys
from scimbridge.reconcile.reading import OnPage, read_accounts
from scimbridge.store import Database
from scimbridge.vendors.base import VendorClient


def plan_target(
    database: Database,
    target: Target,
    client: VendorClient,
    mapping: Mapping,
    directory: Directory,
    on_page: OnPage | None = None,
) -> Plan:
    """The plan of ``target``; a listing interrupted by the vendor resumes at its page."""
    users = list(bridge_users(database, target, directory))
    accounts = read_accounts(target, client, mapping, users, on_page)
    return make_plan(target, client, mapping, users, accounts, reserved_keys(database, target))
