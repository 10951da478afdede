"""``scimbridge outbox``: what an operator reads and does about deliveries.

Every command names entries by their outbox number (``#12``) and users by their userName,
and refuses an unknown target instead of answering for none.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from scimbridge.commands.columns import aligned, terminal_width
from scimbridge.commands.common import (
    config_option,
    named_target,
    open_bridge,
    open_reading,
    read_config,
)
from scimbridge.config import BridgeConfig
from scimbridge.delivery.retention import purge
from scimbridge.delivery.state import STATES, VISIBLE_STATES, list_entries, retry_failed
from scimbridge.observability.printable import printable
from scimbridge.store import utc

COLUMNS = (
    ("seq", "#"),
    ("target", "TARGET"),
    ("state", "STATE"),
    ("change", "CHANGE"),
    ("user_name", "USER"),
    ("created_at", "CREATED"),
    ("last_attempt_at", "LAST TRY"),
    ("next_attempt_at", "NEXT TRY"),
    ("attempts", "TRIES"),
    ("vendor_id", "VENDOR ID"),
    ("last_error", "LAST ERROR"),
)
"""The columns of ``outbox list`` in text, each entry's key and its heading."""
CUT = frozenset({"user_name", "last_error"})
"""The columns ``outbox list`` cuts to fit the terminal (free text, as long as it comes);
the others stay whole: numbers, states, times, and the vendor id, which an admin copies
into the vendor's console."""


def checked_target(config: BridgeConfig, target: str | None) -> str | None:
    """The ``--target`` given, once it names a configured target (:func:`named_target`)."""
    return None if target is None else named_target(config, target).name


def timestamp(value: datetime | None) -> str:
    return utc(value).strftime("%Y-%m-%d %H:%M:%SZ") if value is not None else "-"


def cell(entry: dict[str, Any], key: str) -> str:
    """An entry's value as ``outbox list`` prints it."""
    value = entry[key]
    if key == "seq":
        return f"#{value}"
    if key.endswith("_at"):
        return timestamp(value)
    if key == "attempts" and entry["failures"]:
        return f"{value} ({entry['failures']} failed)"
    if key == "last_error" and value:
        return f"{entry['error_kind'] or 'error'}: {value}"
    return "-" if value is None else str(value)


def tries(entry: dict[str, Any]) -> list[str]:
    """An entry's last tries as ``outbox list --history`` prints them under it, oldest first:
    when, what came of it, and the error it met."""
    lines = []
    for tried in entry["history"] or []:
        when = timestamp(datetime.fromisoformat(tried["at"]))
        error = f"  {tried['error']}" if tried.get("error") else ""
        lines.append(printable(f"    {when}  {tried['outcome']}{error}"))
    return lines


def table(entries: list[dict[str, Any]], room: int | None) -> list[str]:
    """Aligned columns, fitted in ``room`` terminal columns (None: every value whole); a
    value from outside (a userName, an error) :func:`printable`, so that a control or
    bidirectional character shows as its escape and never garbles the table."""
    rows = [[heading for _, heading in COLUMNS]] + [
        [printable(cell(entry, key)) for key, _ in COLUMNS] for entry in entries
    ]
    return aligned(rows, [key in CUT for key, _ in COLUMNS], room)


@click.group()
def outbox() -> None:
    """Inspect, retry and purge deliveries."""


@outbox.command("list")
@config_option
@click.option("--target", help="Only this target.")
@click.option("--user", help="Only this user: its SCIM id, userName or externalId.")
@click.option(
    "--state",
    type=click.Choice([*STATES, "all"]),
    default=None,
    help="Default: pending, held and failed.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--wide", is_flag=True, help="Every value whole, however wide (default: fit the terminal)."
)
@click.option(
    "--history", is_flag=True, help="Under each entry, its last tries: when, and what each met."
)
def outbox_list(
    config_path: str | None,
    target: str | None,
    user: str | None,
    state: str | None,
    as_json: bool,
    wide: bool,
    history: bool,
) -> None:
    """List outbox entries (pending, held and failed by default), oldest first.

    CHANGE says what the SCIM write did (create, update, deactivate, reactivate, delete,
    group); USER is the userName as the identity provider sent it; VENDOR ID is the
    vendor's own id of the user (Rocket.Chat's ``_id``), the one a delivered entry reached,
    or the user's today for an entry still open; times are UTC. A control or
    bidirectional character shows as its escape (``\\u202e``). USER and LAST ERROR are
    cut to fit the terminal (``$COLUMNS``), ending in "…"; ``--wide``, or output to a pipe
    or a file, shows them whole. LAST ERROR is kept once the entry is delivered:
    what its retries were about. ``--history`` lists an entry's last tries under it (in
    JSON, ``history``). Vendor secrets need not be set.
    """
    config, bridge = open_reading(config_path)
    target = checked_target(config, target)
    states = VISIBLE_STATES if state is None else STATES if state == "all" else (state,)
    with bridge.database.transaction(writing=False):
        entries = list_entries(bridge.database.session, target, states, user)
    if as_json:
        for entry in entries:
            shown = entry if history else {k: v for k, v in entry.items() if k != "history"}
            click.echo(json.dumps(shown, default=str))
    elif entries:
        heading, *rows = table(entries, None if wide else terminal_width())
        click.echo(heading)
        for row, entry in zip(rows, entries, strict=True):
            click.echo("\n".join([row, *(tries(entry) if history else [])]))
    else:
        click.echo("no entries", err=True)


@outbox.command("retry")
@config_option
@click.option("--target", help="Only this target.")
@click.argument("seqs", nargs=-1, type=int)
def outbox_retry(config_path: str | None, target: str | None, seqs: tuple[int, ...]) -> None:
    """Queue failed entries again (all of them, or the numbered ones), with a fresh count of
    attempts; say why a numbered entry was not (exit 1 if none was).

    Only a user's newest entry is queued again: a failed entry whose user has a newer one
    is superseded by it instead, and said so, since the vendor must never get an older
    change of a user after a newer one.
    """
    config = read_config(config_path)
    target = checked_target(config, target)
    bridge = open_bridge(config)
    with bridge.database.transaction():
        retried = retry_failed(bridge.database.session, bridge.database.now(), target, list(seqs))
    for seq, reason in sorted(retried.refused.items()):
        click.echo(f"#{seq} not queued again: {reason}", err=True)
    count = len(retried.queued)
    if count:
        numbers = " ".join(f"#{seq}" for seq in retried.queued)
        click.echo(f"{count} entr{'y' if count == 1 else 'ies'} queued again: {numbers}")
    elif not seqs and not retried.refused:
        click.echo("no failed entries to queue again", err=True)
    if seqs and not count:
        raise SystemExit(1)


@outbox.command("purge")
@config_option
@click.option("--target", help="Only this target.")
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    help="Seconds since the entry was finished. Default: each target's delivery.retention_seconds.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be purged, and purge nothing.")
def outbox_purge(
    config_path: str | None, target: str | None, older_than: float | None, dry_run: bool
) -> None:
    """Drop the user snapshots of delivered and superseded entries past their retention.

    The worker does this on its own once an hour; run it to apply a shorter period now
    (``--older-than 0`` after a user asked to be forgotten). ``--dry-run`` counts the same
    entries and rolls back; its vendor secrets need not be set.
    """
    if dry_run:
        config, bridge = open_reading(config_path)
    else:
        config = read_config(config_path)
        bridge = open_bridge(config)
    target = checked_target(config, target)
    for chosen in config.targets:
        if target and chosen.name != target:
            continue
        with bridge.database.transaction() as session:
            purged = purge(session, chosen, bridge.database.now(), older_than)
            if dry_run:
                session.rollback()
        click.echo(
            f"{chosen.name}: {purged.entries} entr{'y' if purged.entries == 1 else 'ies'} and "
            f"{purged.tombstones} former user{'' if purged.tombstones == 1 else 's'} "
            + ("would be purged" if dry_run else "purged")
        )
