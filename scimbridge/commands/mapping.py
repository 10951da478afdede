"""``scimbridge mapping check`` and ``scimbridge mapping preview``: mapping files for the admin who edits them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import click

from scimbridge.app import load_target_mapping
from scimbridge.commands.common import config_option, named_target, open_reading, read_config
from scimbridge.comparison import user_name_key
from scimbridge.config import ConfigError, Target, default_mapping
from scimbridge.delivery.redelivery import comparison_for
from scimbridge.delivery.wanted import BridgeUser, Directory, bridge_users, context_of, wanted
from scimbridge.mapping.context import MappedRecord, MappingContext
from scimbridge.mapping.errors import MappingFileError, UnmappableUser
from scimbridge.mapping.explain import explain as explain_steps
from scimbridge.mapping.mapping import Mapping, load_mapping
from scimbridge.mapping.redaction import redacted_view
from scimbridge.mapping.samples import unusable_keys
from scimbridge.reconcile.compare import Difference, differences
from scimbridge.store import Database
from scimbridge.vendors import UnknownVendor, record_shape, vendor_names, vendor_plugin

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
SECRET_FIELDS = frozenset({"password", "Password"})
MASK = "********"


@click.group()
def mapping() -> None:
    """Check mapping files, and preview the vendor record a SCIM user becomes."""


@mapping.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@config_option
def check(files: tuple[str, ...], config_path: str | None) -> None:
    """Validate mapping FILES; exit 1 if any is broken.

    Without FILES: the mapping of every target of the configuration (--config or
    $SCIMBRIDGE_CONFIG), checked against the target's vendor; without a configuration,
    the default mapping of every vendor. Vendor secrets need not be set.

    Warns (on stderr; the exit status stays 0) when a mapping can give a user an account
    key (a field the vendor identifies accounts by, or keeps unique) that is empty or
    punctuation alone, as cleaning a name in Han, Cyrillic or Arabic script without
    transliterating it does. Found by sampling, not by reading the transforms: one user
    per script (Japanese, Chinese, Korean, Cyrillic, Greek, Arabic, Hebrew, Devanagari,
    Thai) is mapped, every candidate of a ``first_available`` key looked at
    (:mod:`scimbridge.mapping.samples`).
    """
    checks: dict[str, Callable[[], Mapping]]
    if files:
        checks = {path: partial(load_mapping, path, record_shape) for path in files}
    elif config_path:
        config = read_config(config_path, require_env=False)
        checks = {
            f"target {target.name} ({target.mapping_label})": partial(load_target_mapping, target)
            for target in config.targets
        }
    else:
        checks = {
            f"{vendor}.yaml (default)": partial(
                load_mapping, str(default_mapping(vendor)), record_shape
            )
            for vendor in vendor_names()
        }
    broken = 0
    for name, load in checks.items():
        try:
            loaded = load()
        except (MappingFileError, ConfigError) as error:
            broken += 1
            click.echo(f"error: {error}", err=True)
        else:
            click.echo(f"ok: {name} ({loaded.vendor})")
            _warn_of_unusable_keys(name, loaded)
    if broken:
        raise click.ClickException(f"{broken} of {len(checks)} mapping file(s) broken")


def _warn_of_unusable_keys(name: str, loaded: Mapping) -> None:
    client = vendor_plugin(loaded.vendor).client
    problems = unusable_keys(loaded, client.account_keys | client.unique_fields)
    if problems:
        click.echo(
            f"warning: {name}: a user named in another script can get an account key that "
            "is empty or punctuation alone, or none (transliterate before cleaning: "
            'docs/mapping.md, "Names in other scripts"):',
            err=True,
        )
        for problem in problems:
            click.echo(f"  {problem}", err=True)


@mapping.command()
@click.argument("vendor")
def show(vendor: str) -> None:
    """Print the default mapping of VENDOR: what a target without a ``mapping:`` key uses.

    Save it beside the configuration, edit it, and name it in the target's ``mapping:``.
    """
    try:
        click.echo(default_mapping(vendor).read_text(encoding="utf-8"), nl=False)
    except UnknownVendor as error:
        raise click.BadParameter(str(error), param_hint="VENDOR") from None


@mapping.command()
@click.argument("target")
@click.argument(
    "resource_json", metavar="[USER_JSON]", required=False, type=click.Path(dir_okay=False)
)
@click.option(
    "--groups",
    multiple=True,
    help="Groups the user is a member of: repeat it, or separate names with commas, e.g. "
    '--groups "Chat Admins" --groups Staff.',
)
@click.option(
    "--explain", is_flag=True, help="Show how each field is built: its source, each transform."
)
@click.option(
    "--user",
    "stored",
    metavar="ID|USERNAME",
    help="Preview a user the bridge stores (its SCIM id or userName) instead of USER_JSON.",
)
@click.option(
    "--diff",
    is_flag=True,
    help="With --user: each field the vendor was last sent otherwise than the mapping makes it now.",
)
@config_option
def preview(
    target: str,
    resource_json: str | None,
    groups: tuple[str, ...],
    explain: bool,
    stored: str | None,
    diff: bool,
    config_path: str | None,
) -> None:
    """Print the vendor record TARGET's mapping makes of the SCIM User in USER_JSON, or of
    the stored user ``--user`` names (with its groups, as the worker would map it now).

    Passwords in the record are masked, and values the mapping redacts (transform: redact)
    show as "<redacted>". A ``first_available`` field shows its first candidate, and its
    candidates under "choices": the delivery takes the first the vendor does not hold.
    Nothing is sent to the vendor, and its secrets need not be set (with ``--user``, the
    bridge's database is opened, as ``status`` does).
    """
    if (resource_json is None) == (stored is None):
        raise click.UsageError("give either USER_JSON or --user, not both nor neither")
    if diff and stored is None:
        raise click.UsageError("--diff compares a stored user: give --user")
    if stored is not None:
        _preview_stored(target, stored, config_path, explain=explain, diff=diff)
        return
    assert resource_json is not None
    loaded = _target_mapping(target, config_path)
    user = _read_user(resource_json)
    memberships = [name.strip() for given in groups for name in given.split(",") if name.strip()]
    # a stand-in for the bridge's id of the user (32 hex digits, as the real one)
    seed = str(user.get("id") or user.get("userName") or "preview").encode()
    context = MappingContext(stable_id=hashlib.sha256(seed).hexdigest()[:32])
    if explain:
        for line in explain_steps(loaded, user, memberships, context):
            click.echo(line)
    try:
        mapped = loaded.apply(user, memberships, context)
    except UnmappableUser as refusal:
        raise click.ClickException(
            f"the bridge would refuse this user (400): {refusal.detail}"
        ) from None
    _show(mapped)


def _show(mapped: MappedRecord) -> None:
    shown: dict[str, Any] = {"action": str(mapped.action), "record": _masked(mapped.record)}
    if mapped.choices:
        shown["choices"] = {name: values.all() for name, values in mapped.choices.items()}
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))


def _preview_stored(
    target_name: str, stored: str, config_path: str | None, *, explain: bool, diff: bool
) -> None:
    """The stored user mapped as the worker maps it (:func:`~scimbridge.delivery.wanted.wanted`),
    or, with ``diff``, compared with the record the vendor was last sent by the one rule
    of drift (:func:`~scimbridge.reconcile.compare.differences`)."""
    config, bridge = open_reading(config_path)
    target = named_target(config, target_name)
    loaded = bridge.mappings[target.name]
    user = _stored_user(bridge.database, target, bridge.directories[target.name], stored)
    if explain:
        document = user.document or {}
        for line in explain_steps(loaded, document, user.groups, context_of(user)):
            click.echo(line)
    try:
        mapped = wanted(loaded, user)
    except UnmappableUser as refusal:
        raise click.ClickException(
            f"the current mapping refuses {user.describe()}: {refusal.detail}"
        ) from None
    if not diff:
        _show(mapped)
        return
    if user.vendor_record is None:
        raise click.ClickException(f"{user.describe()} was never sent to {target.vendor}")
    comparison = comparison_for(target)
    found = differences(mapped, user.vendor_record, comparison.account_keys, comparison.normalise)
    _show_differences(user, target.vendor, found)


def _stored_user(
    database: Database, target: Target, directory: Directory, named: str
) -> BridgeUser:
    """The live user of the target whose SCIM id or userName (compared as SCIM filters
    compare it) is ``named``."""
    key = user_name_key(named)
    for user in bridge_users(database, target, directory):
        if not user.deleted and (user.scim_id == named or user.user_name == key):
            return user
    raise click.ClickException(
        f"no stored user of target {target.name} has the id or userName {named!r}"
    )


def _show_differences(user: BridgeUser, vendor: str, found: list[Difference]) -> None:
    """Each field that differs, as last sent and as made now; secrets masked, and a value
    the mapping redacts hidden on both sides (a record read back from the database no
    longer carries the redaction marker)."""
    if not found:
        click.echo(f"{user.describe()}: no change")
        return
    fields = "field differs" if len(found) == 1 else "fields differ"
    click.echo(f"{user.describe()}: {len(found)} {fields} from what {vendor} was last sent")
    for difference in found:
        now = _masked({difference.field: difference.wanted})[difference.field]
        hidden = now != difference.wanted or difference.field in SECRET_FIELDS
        sent = now if hidden else difference.held
        click.echo(f"  {difference.field}:")
        click.echo(f"    last sent: {json.dumps(sent, ensure_ascii=False)}")
        click.echo(f"    now:       {json.dumps(now, ensure_ascii=False)}")


def _target_mapping(target: str, config_path: str | None) -> Mapping:
    config = read_config(config_path, require_env=False)
    configured = named_target(config, target)
    try:
        return load_target_mapping(configured)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def _read_user(path: str) -> dict[str, Any]:
    try:
        resource = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise click.ClickException(f"{path}: cannot read the file: {error.strerror}") from None
    except ValueError as error:
        raise click.ClickException(f"{path}: not valid JSON: {error}") from None
    if not isinstance(resource, dict):
        raise click.ClickException(f"{path}: a SCIM User is a JSON object")
    schemas = resource.get("schemas")
    if isinstance(schemas, list) and GROUP_SCHEMA in schemas:
        raise click.ClickException(
            f"{path}: a SCIM Group is not mapped: the bridge provisions the users the identity "
            "provider assigns; name the user's groups with --groups (docs/mapping.md)"
        )
    return resource


def _masked(record: dict[str, Any]) -> dict[str, Any]:
    """The record fit to print: passwords masked, ``redact`` values shown as ``<redacted>``."""
    shown = redacted_view(record)
    return {key: MASK if key in SECRET_FIELDS else value for key, value in shown.items()}
