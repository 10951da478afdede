"""Reading back what the vendor holds, as the client's ``read_back`` allows.

A ``list`` client is paged through from a cursor, so that a read interrupted by an
outage (``VendorUnavailable``) resumes where it stopped, in one go (:func:`listed`) or
a few pages a round (:mod:`.checks`); a ``lookup``
client is asked for the key values of the users, one field at a time in chunks of its
batch size; a ``none`` client is never asked.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from scimbridge.config import Target
from scimbridge.delivery.identity import keys_of
from scimbridge.delivery.wanted import BridgeUser, wanted
from scimbridge.mapping import Mapping, UnmappableUser
from scimbridge.vendors.base import (
    AccountPage,
    VendorAccount,
    VendorClient,
    VendorUnavailable,
    honoured_wait,
)

log = logging.getLogger("scimbridge.reconcile")

Sleep = Callable[[float], None]
OnPage = Callable[[AccountPage], None]
"""Told of every page read (a progress bar, a checkpoint)."""


@dataclass
class Cursor:
    """Where a listing stands: ``position`` is the cursor of the next page to read."""

    position: str | None = None
    done: bool = False


def pages(client: VendorClient, cursor: Cursor) -> Iterator[AccountPage]:
    """The listing's pages from ``cursor`` on, advancing it after each page read.

    :raises VendorUnavailable: the cursor stays at the page that could not be read.
    """
    while not cursor.done:
        page = client.accounts(cursor.position)
        cursor.position = page.next_cursor
        cursor.done = page.next_cursor is None
        yield page


def listed(
    target: Target, client: VendorClient, on_page: OnPage | None = None, sleep: Sleep = time.sleep
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


def looked_up(
    client: VendorClient, mapping: Mapping, users: Iterable[BridgeUser]
) -> list[VendorAccount]:
    """The accounts a ``lookup`` client finds for the key values of ``users`` (the record
    last sent and the record the mapping makes now)."""
    values: dict[str, set[str]] = {}
    for user in users:
        records = [user.vendor_record]
        with contextlib.suppress(UnmappableUser):
            records.append(wanted(mapping, user).record)
        for record in records:
            for (name, _), value in keys_of(client, record).items():
                values.setdefault(name, set()).add(value)
    found: list[VendorAccount] = []
    step = client.max_batch
    for name, wanted_values in sorted(values.items()):
        ordered = sorted(wanted_values)
        for start in range(0, len(ordered), step):
            found += client.look_up(name, ordered[start : start + step])
    return found


def read_accounts(
    target: Target,
    client: VendorClient,
    mapping: Mapping,
    users: list[BridgeUser],
    on_page: OnPage | None = None,
) -> list[VendorAccount]:
    """What the vendor holds, as far as the client can read it (nothing for ``none``)."""
    if client.read_back == "list":
        return listed(target, client, on_page)
    if client.read_back == "lookup":
        return looked_up(client, mapping, users)
    return []
