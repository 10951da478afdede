"""Vendors are plugins: the bridge finds them by entry point, and a broken one says so.

The worked example, ``examples/scimbridge-bulkimport`` (installed by ``make install``),
stands for any vendor distribution installed beside scimbridge: with its entry point
the only one visible, a bridge serves a target of it and delivers to its emulator
without importing a single built-in vendor module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest

from scimbridge.app import load_mappings
from scimbridge.config import ConfigError, parse_config
from scimbridge.vendors import plugin
from scimbridge.vendors.plugin import (
    ENTRY_POINT_GROUP,
    PluginError,
    UnknownVendor,
    distribution_of,
    forget_plugins,
    vendor_names,
    vendor_plugin,
)

BUILT_IN = ("confide", "acc", "aria", "rocketchat", "cloudshell")
EXAMPLE = "scimbridge-bulkimport"

ONLY_THE_EXAMPLE = """
import json, pathlib, sys
from importlib import metadata

from scimbridge.vendors import plugin

plugin.forget_plugins()
example = [
    entry
    for entry in metadata.entry_points(group=plugin.ENTRY_POINT_GROUP)
    if entry.name == "bulkimport"
]
plugin._entry_points = lambda: {"bulkimport": example}

from scimbridge.testing import scim_user, start_live

live, stop = start_live(pathlib.Path(sys.argv[1]), "bulkimport", options={"poll_interval_seconds": 0.02})
try:
    created = live.scim("POST", "/Users", scim_user("ada"))
    live.drain()
    accounts = live.emulator.users()
finally:
    stop()
print(json.dumps({
    "vendors": plugin.vendor_names(),
    "targets": [target.vendor for target in live.bridge.config.targets],
    "created": created.status_code,
    "accounts": [(account["email"], account["active"]) for account in accounts],
    "modules": sorted(name for name in sys.modules if name.startswith("scimbridge.")),
}))
"""


def example_entry() -> metadata.EntryPoint:
    found = [
        entry
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)
        if entry.name == "bulkimport"
    ]
    if not found:
        pytest.fail(
            f"{EXAMPLE} is not installed: run `make install` (or pip install -e examples/{EXAMPLE})"
        )
    return found[0]


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``entry_points(*entries)``: make these the only installed vendor plugins (discovery
    forgotten before and after, so no other test sees them)."""

    def only(*entries: metadata.EntryPoint) -> None:
        forget_plugins()
        found: dict[str, list[metadata.EntryPoint]] = {}
        for entry in entries:
            found.setdefault(entry.name, []).append(entry)
        monkeypatch.setattr(plugin, "_entry_points", lambda: found)

    yield only
    monkeypatch.undo()
    forget_plugins()


def fake(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def config_naming(vendor: str, tmp_path: Any) -> str:
    return textwrap.dedent(
        f"""\
        database: sqlite:///{tmp_path / "bridge.db"}
        targets:
          - name: directory
            vendor: {vendor}
            base_url: http://127.0.0.1:9
            inbound: {{bearer_tokens: [a-token-of-sixteen-chars]}}
        """
    )


def test_a_bridge_with_only_the_example_plugin_delivers_and_imports_no_built_in_vendor(tmp_path):
    example_entry()
    result = subprocess.run(
        [sys.executable, "-c", ONLY_THE_EXAMPLE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["vendors"] == ["bulkimport"]
    assert report["targets"] == ["bulkimport"]
    assert report["created"] == 201
    assert report["accounts"] == [["ada@example.com", True]]
    built_in_modules = {
        f"scimbridge.{layer}.{vendor}" for layer in ("vendors", "emulators") for vendor in BUILT_IN
    }
    assert sorted(built_in_modules & set(report["modules"])) == []
    assert not [
        name for name in report["modules"] if name.startswith("scimbridge.vendors.rocketchat")
    ]


def test_the_example_is_listed_with_its_own_distribution():
    example_entry()
    forget_plugins()
    assert "bulkimport" in vendor_names()
    assert set(BUILT_IN) <= set(vendor_names())
    assert distribution_of("bulkimport").startswith(f"{EXAMPLE} ")
    assert distribution_of("aria").startswith("scimbridge ")
    loaded = vendor_plugin("bulkimport")
    assert loaded.name == "bulkimport"
    assert loaded.record_shape.required == frozenset({"email"})
    assert loaded.load_emulator().vendor == "bulkimport"


def test_scimbridge_vendors_lists_the_example(capsys):
    from click.testing import CliRunner

    from scimbridge.cli import main

    example_entry()
    forget_plugins()
    result = CliRunner().invoke(main, ["vendors", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["vendor"]: row for row in map(json.loads, result.output.splitlines())}
    assert rows["bulkimport"]["distribution"].startswith(f"{EXAMPLE} ")
    assert rows["bulkimport"]["max_batch"] == 500
    assert rows["bulkimport"]["emulator"] is True


def test_an_unknown_vendor_in_a_config_is_refused_naming_the_installed_ones(tmp_path):
    example_entry()
    forget_plugins()
    with pytest.raises(ConfigError) as refused:
        parse_config(config_naming("bulkimprot", tmp_path))
    message = str(refused.value)
    assert "bulkimprot" in message
    for name in ("bulkimport", *BUILT_IN):
        assert name in message
    with pytest.raises(UnknownVendor, match=r"installed: .*bulkimport"):
        vendor_plugin("bulkimprot")


def test_an_unknown_vendor_names_only_what_is_installed(tmp_path, entry_points):
    entry_points(example_entry())
    with pytest.raises(ConfigError, match=r"installed: bulkimport\b"):
        parse_config(config_naming("aria", tmp_path))


def test_a_plugin_that_cannot_be_imported_is_a_clear_plugin_error(entry_points):
    entry_points(fake("broken", "scimbridge_no_such_module:PLUGIN"))
    assert vendor_names() == ("broken",)
    with pytest.raises(
        PluginError,
        match=r"the broken plugin \(scimbridge_no_such_module:PLUGIN\) cannot be loaded",
    ):
        vendor_plugin("broken")


def test_a_target_of_a_broken_plugin_stops_start_up_naming_the_target(tmp_path, entry_points):
    entry_points(fake("broken", "scimbridge_no_such_module:PLUGIN"))
    config = parse_config(config_naming("broken", tmp_path))

    with pytest.raises(ConfigError, match=r"^target directory: the broken plugin .* cannot be"):
        load_mappings(config)


def test_a_plugin_registered_under_another_name_is_a_plugin_error(entry_points):
    entry_points(fake("directory", "scimbridge_bulkimport:PLUGIN"))
    with pytest.raises(
        PluginError, match="registered as 'directory' but calls itself 'bulkimport'"
    ):
        vendor_plugin("directory")


def test_an_entry_point_that_is_not_a_vendor_plugin_is_a_plugin_error(entry_points):
    entry_points(fake("bulkimport", "scimbridge_bulkimport.client:BulkImportClient"))
    with pytest.raises(PluginError, match="is not a VendorPlugin"):
        vendor_plugin("bulkimport")


def test_a_vendor_two_distributions_register_is_a_plugin_error(entry_points):
    entry_points(example_entry(), fake("bulkimport", "another_package:PLUGIN"))
    with pytest.raises(PluginError, match="registered by more than one plugin"):
        vendor_plugin("bulkimport")


def test_a_broken_plugin_does_not_stop_the_others_from_loading(entry_points):
    entry_points(example_entry(), fake("broken", "scimbridge_no_such_module:PLUGIN"))
    assert vendor_plugin("bulkimport").name == "bulkimport"
    with pytest.raises(PluginError):
        vendor_plugin("broken")
