"""``scimbridge reconcile``: what each vendor holds beside what the IdP says, and the fix.

Without ``--apply`` nothing is written anywhere: the vendor is only read, and the plan
printed (exit 0 in step, 3 drift found). ``--apply`` queues the corrections in the outbox;
orphans are disabled only with ``--disable-orphans``, never deleted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from scimbridge.app import Bridge
from scimbridge.commands.common import config_option, named_target, open_bridge, read_config
from scimbridge.config import Target
from scimbridge.mapping import Mapping
from scimbridge.reconcile.apply import OrphansNotDisabled, apply_plan, disable_orphans
from scimbridge.reconcile.plan import Finding, Kind, Plan
from scimbridge.reconcile.reading import OnPage
from scimbridge.reconcile.run import plan_target
from scimbridge.vendors import client_for
from scimbridge.vendors.base import AccountPage, VendorError

DRIFT_EXIT = 3


@click.command()
@config_option
@click.option("--target", "target_name", required=True, help="The target to reconcile.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per finding, one a line.")
@click.option("--apply", "apply", is_flag=True, help="Queue the corrections in the outbox.")
@click.option(
    "--disable-orphans",
    is_flag=True,
    help="Also disable the accounts no user of the bridge holds (never deletes them).",
)
@click.option("--yes", is_flag=True, help="Do not ask before disabling orphans.")
def reconcile(
    config_path: str | None,
    target_name: str,
    as_json: bool,
    apply: bool,
    disable_orphans: bool,
    yes: bool,
) -> None:
    """Compare what the target's vendor holds with what the IdP says; exit 3 on drift.

    Each user is in step, differs (per managed field: the vendor's value and the
    mapping's), missing, active but deprovisioned, duplicated, unmappable or pending
    (a delivery is on its way); each account no user holds is an orphan, or excluded
    (the bridge's own service account, the vendor's system accounts).
    """
    config = read_config(config_path)
    target = named_target(config, target_name)
    bridge = open_bridge(config)
    mapping = bridge.mappings[target.name]
    client = client_for(target)
    try:
        with _progress(as_json) as on_page:
            plan = plan_target(
                bridge.database, target, client, mapping, bridge.directories[target.name], on_page
            )
    except VendorError as error:
        message = f"target {target.name}: reading {client.vendor}: {client.redact(str(error))}"
        raise click.ClickException(message) from None
    finally:
        client.close()
    _show(plan, as_json)
    if apply or disable_orphans:
        _apply(bridge, target, mapping, plan, disable_orphans, yes)
    if plan.drift:
        sys.exit(DRIFT_EXIT)


def _apply(
    bridge: Bridge, target: Target, mapping: Mapping, plan: Plan, orphans: bool, yes: bool
) -> None:
    applied = apply_plan(bridge.database, target, plan, bridge.directories[target.name])
    queued = sum(applied.queued.values())
    details = ", ".join(f"{kind} {count}" for kind, count in sorted(applied.queued.items()))
    waiting = applied.already_queued
    click.echo(
        f"queued {queued} correction(s) in the outbox (change: reconcile)"
        + (f": {details}" if details else "")
        + (f"; {waiting} user(s) already had a delivery on its way" if waiting else ""),
        err=True,
    )
    active = [f for f in plan.of(Kind.ORPHAN) if f.active]
    if not orphans:
        if active:
            click.echo(
                f"{len(active)} active orphan(s) left as they are (--disable-orphans disables them)",
                err=True,
            )
        return
    if active and not yes:
        click.confirm(
            f"Disable {len(active)} account(s) at {plan.vendor} that no user of the bridge holds?",
            abort=True,
            err=True,
        )
    try:
        disabled = disable_orphans(bridge.database, target, mapping, active)
    except OrphansNotDisabled as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"queued {disabled} orphan(s) to be disabled (never deleted)", err=True)


@contextmanager
def _progress(quiet: bool) -> Iterator[OnPage | None]:
    """A progress bar of the accounts read, on a terminal only (stderr)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=0, label="reading accounts", file=sys.stderr) as bar:

        def on_page(page: AccountPage) -> None:
            if page.total is not None:
                bar.length = page.total
            bar.update(len(page.accounts))

        yield on_page


def _show(plan: Plan, as_json: bool) -> None:
    if as_json:
        for finding in plan.findings:
            if finding.kind is not Kind.IN_STEP:
                click.echo(json.dumps({"target": plan.target, **finding.as_json()}))
        return
    counts = plan.counts()
    users = sum(counts[kind.value] for kind in Kind if kind not in {Kind.ORPHAN, Kind.EXCLUDED})
    read = "not readable" if plan.read_back == "none" else f"{plan.accounts_read} account(s) read"
    click.echo(
        f"target {plan.target} ({plan.vendor}, read back: {plan.read_back}): "
        f"{users} user(s), {read}"
    )
    for kind, count in counts.items():
        click.echo(f"  {kind:<26}{count:>7}")
    shown = [finding for finding in plan.findings if finding.kind is not Kind.IN_STEP]
    if shown:
        click.echo("")
    for finding in shown:
        for line in _lines(finding):
            click.echo(line)
    click.echo("")
    click.echo("drift found" if plan.drift else "in step")


def _lines(finding: Finding) -> list[str]:
    who = finding.user or finding.account or "-"
    ids = f"  vendor id {', '.join(finding.vendor_ids)}" if finding.vendor_ids else ""
    state = "" if finding.active is None else ("  (active)" if finding.active else "  (inactive)")
    detail = f": {finding.detail}" if finding.detail else ""
    lines = [f"{finding.kind.value:<26}{who}{ids}{state}{detail}"]
    lines += [
        f"{'':<28}{each.field}: vendor {json.dumps(each.held)} -> mapping {json.dumps(each.wanted)}"
        for each in finding.differences
    ]
    return lines
