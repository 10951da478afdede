"""One reconcile of one target: the bridge's users, then what the vendor holds, then the plan.

The users are read first: a user delivered while the vendor is read is then either
still ``pending`` or already at the vendor, never judged against a listing older than
its delivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from scimbridge.config import Target
from scimbridge.delivery.wanted import Directory, bridge_users
from scimbridge.mapping import Mapping
from scimbridge.reconcile.plan import Plan, make_plan, reserved_keys
from scimbridge.reconcile.reading import Cursor, OnPage, pages, read_accounts
from scimbridge.store import Database
from scimbridge.vendors.base import VendorAccount, VendorClient, VendorUnavailable, honoured_wait

log = logging.getLogger("scimbridge.reconcile")

Sleep = Callable[[float], None]


def plan_target(
    database: Database,
    target: Target,
    client: VendorClient,
    mapping: Mapping,
    directory: Directory,
    on_page: OnPage | None = None,
    sleep: Sleep = time.sleep,
) -> Plan:
    """The plan of ``target``; a listing interrupted by the vendor resumes at its page."""
    users = list(bridge_users(database, target, directory))
    if client.read_back == "list":
        accounts = listed_patiently(target, client, on_page, sleep)
    else:
        accounts = read_accounts(client, mapping, users)
    return make_plan(target, client, mapping, users, accounts, reserved_keys(database, target))


def listed_patiently(
    target: Target, client: VendorClient, on_page: OnPage | None, sleep: Sleep
) -> list[VendorAccount]:
    """Every account of a ``list`` client; a page the vendor cannot serve now (429, 5xx, a
    timeout) is asked again after the wait it names (else the target's backoff, doubling),
    from the same cursor, for up to ``delivery.give_up_after_seconds``.

    :raises VendorUnavailable: once that much time has passed.
    """
    policy = target.delivery
    cursor, found = Cursor(), []
    deadline = time.monotonic() + policy.give_up_after_seconds
    backoff = policy.backoff_seconds
    while not cursor.done:
        try:
            for page in pages(client, cursor):
                found += page.accounts
                backoff = policy.backoff_seconds
                if on_page is not None:
                    on_page(page)
        except VendorUnavailable as unavailable:
            wait = honoured_wait(unavailable.retry_after or backoff, policy)
            if time.monotonic() + wait > deadline:
                raise
            log.warning(
                "%s: reading the accounts paused (%s); again in %.0f s",
                target.name,
                unavailable,
                wait,
            )
            sleep(wait)
            backoff = min(backoff * 2, policy.max_backoff_seconds)
    return found
