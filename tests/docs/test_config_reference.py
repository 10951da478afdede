"""The configuration reference (docs/hooks/config_reference.py) documents every key of the schema.

The page is generated from ``BridgeConfig.model_json_schema()`` when the site is built;
these tests render it the same way, without MkDocs, so that a field added to
``scimbridge.config`` can never go undocumented: the page names it, under its full path
(``targets[].delivery.max_attempts``), and the page's complete example shows it and is a
configuration the bridge accepts.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scimbridge.config import BridgeConfig, parse_config

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
HOOK = Path(__file__).resolve().parents[2] / "docs" / "hooks" / "config_reference.py"


def load_hook() -> Any:
    name = "scimbridge_docs_config_reference"
    spec = importlib.util.spec_from_file_location(name, HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


reference = load_hook()


def schema_paths(schema: dict[str, Any]) -> set[str]:
    """Every key of the schema, by its path, found independently of the hook's own walk."""
    paths: set[str] = set()

    def resolve(node: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in node:
            return resolve(schema["$defs"][node["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in node:
            return [found for choice in node["anyOf"] for found in resolve(choice)]
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            return [{**found, "_list": True} for found in resolve(node["items"])]
        return [node]

    def visit(node: dict[str, Any], prefix: str) -> None:
        for name, prop in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            paths.add(path)
            for child in resolve(prop):
                if "properties" in child:
                    visit(child, path + ("[]" if child.get("_list") else ""))

    visit(schema, "")
    return paths


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return BridgeConfig.model_json_schema()


@pytest.fixture(scope="module")
def page(schema: dict[str, Any]) -> str:
    return reference.render_page(schema)


def test_the_schema_walk_finds_the_nested_keys(schema: dict[str, Any]) -> None:
    paths = schema_paths(schema)

    assert {
        "targets",
        "targets[].inbound.basic.password",
        "targets[].delivery.lease_seconds",
    } <= paths


def test_the_page_has_an_entry_for_every_key_of_the_schema(
    schema: dict[str, Any], page: str
) -> None:
    headings = set(re.findall(r"^### `([^`]+)`", page, flags=re.MULTILINE))

    missing = schema_paths(schema) - headings

    assert not missing, (
        f"keys of the configuration the reference does not document: {sorted(missing)}"
    )


def test_the_hook_lists_exactly_the_keys_of_the_schema(schema: dict[str, Any]) -> None:
    assert {field.path for field in reference.all_fields(schema)} == schema_paths(schema)


def test_every_entry_shows_the_default_and_the_constraints(page: str) -> None:
    entry = page.split("### `targets[].delivery.max_attempts`", 1)[1].split("\n### ", 1)[0]

    assert "**Default**: `5`" in entry
    assert "≥ 1" in entry


def test_every_enumerated_value_is_listed(page: str) -> None:
    entry = page.split("### `log_format`", 1)[1].split("\n### ", 1)[0]

    for value in ("json", "text"):
        assert f'`"{value}"`' in entry


def test_the_example_names_every_key(schema: dict[str, Any]) -> None:
    example = reference.render_example(schema)
    keys = set(re.findall(r"^[ #-]*([A-Za-z_][A-Za-z0-9_]*):", example, flags=re.MULTILINE))

    names = {path.rsplit(".", 1)[-1] for path in schema_paths(schema)}

    assert names <= keys, f"keys the example does not show: {sorted(names - keys)}"


def test_the_example_is_a_configuration_the_bridge_accepts(schema: dict[str, Any]) -> None:
    example = reference.render_example(schema)
    environ = {name: f"{name.lower()}-example-value" for name in ENV_REFERENCE.findall(example)}

    config = parse_config(example, "example.yaml", environ)

    assert config.targets[0].name == "chat"
    assert "<" not in yaml.safe_dump(yaml.safe_load(example)), "a key still shows a <placeholder>"


def test_every_key_has_a_description_once_docstrings_are_the_descriptions(
    schema: dict[str, Any],
) -> None:
    """With ``use_attribute_docstrings`` each field's docstring is its description."""
    if not BridgeConfig.model_config.get("use_attribute_docstrings"):
        pytest.skip("scimbridge.config does not use attribute docstrings as descriptions yet")

    undescribed = [
        field.path
        for field in reference.all_fields(schema)
        if not (field.raw.get("description") or field.schema.get("description"))
    ]

    assert not undescribed, f"fields without a docstring: {undescribed}"


def test_the_committed_reference_is_what_make_config_reference_writes() -> None:
    """docs/configuration.md and the schema beside it are committed, for the README's links;
    a change of the configuration model without them written again fails here."""
    assert reference.stale_files() == [], "stale: run `make config-reference` and commit"


def test_the_site_is_not_built_on_a_stale_reference(tmp_path: Path) -> None:
    exceptions = pytest.importorskip("mkdocs.exceptions")
    reference.write_files(tmp_path)
    (tmp_path / reference.PAGE).write_text("# Configuration reference\n", "utf-8")

    with pytest.raises(exceptions.PluginError, match=r"configuration\.md stale"):
        reference.on_pre_build({"docs_dir": str(tmp_path)})

    reference.write_files(tmp_path)
    reference.on_pre_build({"docs_dir": str(tmp_path)})
