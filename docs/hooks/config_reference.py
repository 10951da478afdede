"""The configuration reference, generated from the configuration's JSON Schema.

``make config-reference`` (``python docs/hooks/config_reference.py``) writes two files
into ``docs/``, committed so that the repository's links to them work without building
the site:

- ``reference/bridge-config.schema.json``, the schema itself (``scimbridge config
  schema``, with the built-in vendors' settings), for download and for editors that
  validate YAML against a JSON Schema;
- ``configuration.md``, every key of the file (recursively, ``targets[].delivery.*``
  included) with its type, default, constraints and description, and a complete
  annotated example.

Each field's description is its docstring (pydantic's ``use_attribute_docstrings``),
so a field added to :mod:`scimbridge.config` shows up here once the files are written
again; ``tests/docs/test_config_reference.py`` fails while the committed files differ
from what this module writes (CI runs it), and checks that the page names every field of
the schema. As a MkDocs hook (``hooks:`` in ``mkdocs.yml``) it stops ``make docs`` on
stale files too. The rendering functions need only the standard library, PyYAML and
scimbridge, so the test runs without MkDocs installed.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE = "configuration.md"
SCHEMA_FILE = "reference/bridge-config.schema.json"
DOCS = Path(__file__).resolve().parents[1]
"""The ``docs/`` directory the two files are written into."""
REGENERATE = "make config-reference"

EXAMPLE_VALUES: dict[str, Any] = {
    "public_base_url": "https://idm.example.com",
    "trusted_proxies": ["10.0.0.5", "10.1.0.0/16"],
    "targets[].name": "chat",
    "targets[].vendor": "rocketchat",
    "targets[].mapping": "mappings/rocketchat.yaml",
    "targets[].base_url": "https://chat.example.com",
    "targets[].credentials": {"user_id": "${RC_USER_ID}", "auth_token": "${RC_TOKEN}"},
    "targets[].options": {"rate_limits": {"per_route": {"calls": 30, "seconds": 60}}},
    "targets[].inbound.bearer_tokens": ["${CHAT_SCIM_TOKEN}"],
    "targets[].inbound.basic.username": "okta",
    "targets[].inbound.basic.password": "${OKTA_SCIM_PASSWORD}",
}
"""Values the example shows where a default would say nothing (a required key, an empty
list). A key missing here shows its default; a new required key without a default shows
a ``<placeholder>``, and the test that parses the example then asks for a value here."""


@dataclass(frozen=True)
class Field:
    """One key of the configuration file, as the reference lists it."""

    path: str
    """Where it sits, as an admin writes it: ``targets[].delivery.max_attempts``."""
    name: str
    schema: dict[str, Any]
    """The property's schema, references resolved, ``null`` alternatives removed."""
    raw: dict[str, Any]
    """The property's schema as written (default, description)."""
    required: bool
    nullable: bool


@dataclass(frozen=True)
class Section:
    """An object of the file: the top level, ``targets[]``, ``targets[].inbound``..."""

    path: str
    schema: dict[str, Any]
    description: str
    fields: list[Field]


# -- reading the schema ------------------------------------------------------------------------


def bridge_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file, as ``scimbridge config schema`` prints it
    where only scimbridge's own vendors are installed: a plugin installed beside it (the
    example plugin, in a checkout) documents its own settings, and the committed reference
    must not depend on what else is installed."""
    from scimbridge.config import json_schema

    return _built_in_vendors_only(json_schema())


def _built_in_vendors_only(node: Any) -> Any:
    """``node`` without the per-vendor conditions (``if: {vendor: {const: ...}}``) of vendors
    that a distribution other than scimbridge registers."""
    from scimbridge.vendors.plugin import distribution_of

    def foreign(condition: Any) -> bool:
        vendor = condition.get("if", {}).get("properties", {}).get("vendor", {}).get("const")
        return isinstance(vendor, str) and distribution_of(vendor).split()[0] != "scimbridge"

    if isinstance(node, list):
        return [
            _built_in_vendors_only(item)
            for item in node
            if not (isinstance(item, dict) and foreign(item))
        ]
    if isinstance(node, dict):
        return {key: _built_in_vendors_only(value) for key, value in node.items()}
    return node


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        node = {**root["$defs"][name], **siblings}
    return node


def _without_null(node: dict[str, Any], root: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema of a value that is not null, and whether null is allowed too."""
    node = _resolve(node, root)
    alternatives = node.get("anyOf") or node.get("oneOf")
    if not alternatives:
        return node, node.get("type") == "null"
    kept = [_resolve(choice, root) for choice in alternatives if choice.get("type") != "null"]
    nullable = len(kept) < len(alternatives)
    if len(kept) == 1:
        outer = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
        return {**kept[0], **outer}, nullable
    return {**node, "anyOf": kept}, nullable


def _is_object(node: dict[str, Any]) -> bool:
    return node.get("type") == "object" and "properties" in node


def _child_object(node: dict[str, Any], root: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """For a property holding an object (or a list of objects): the path suffix and its schema."""
    if _is_object(node):
        return "", node
    if node.get("type") == "array" and "items" in node:
        items, _ = _without_null(node["items"], root)
        if _is_object(items):
            return "[]", items
    return None


def sections(schema: dict[str, Any] | None = None) -> list[Section]:
    """Every object of the file, top level first, each followed by the objects it holds."""
    root = schema if schema is not None else bridge_schema()
    found: list[Section] = []

    def visit(path: str, node: dict[str, Any], description: str) -> None:
        required = set(node.get("required", ()))
        fields = []
        children = []
        for name, raw in node.get("properties", {}).items():
            resolved, nullable = _without_null(raw, root)
            field_path = f"{path}.{name}" if path else name
            fields.append(Field(field_path, name, resolved, raw, name in required, nullable))
            child = _child_object(resolved, root)
            if child is not None:
                suffix, child_schema = child
                child_description = raw.get("description") or child_schema.get("description", "")
                children.append((field_path + suffix, child_schema, child_description))
        found.append(Section(path, node, description, fields))
        for child_path, child_schema, child_description in children:
            visit(child_path, child_schema, child_description)

    visit("", root, root.get("description", ""))
    return found


def all_fields(schema: dict[str, Any] | None = None) -> list[Field]:
    return [field for section in sections(schema) for field in section.fields]


# -- rendering ---------------------------------------------------------------------------------

_RST_LITERAL = re.compile(r"``(.+?)``")
_RST_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def markdown(text: str) -> str:
    """A docstring as Markdown: ``literal`` and :role:`name` become `code`; paragraphs kept."""
    text = textwrap.dedent(text or "").strip()
    text = _RST_ROLE.sub(lambda match: f"`{match.group(1).split('.')[-1]}`", text)
    text = _RST_LITERAL.sub(lambda match: f"`{match.group(1)}`", text)
    paragraphs = [
        " ".join(line.strip() for line in block.splitlines()) for block in text.split("\n\n")
    ]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def anchor(path: str) -> str:
    """The id of a key's entry: ``targets[].delivery`` -> ``targets-delivery``."""
    return re.sub(r"[^a-z0-9_]+", "-", path.lower()).strip("-")


def section_anchor(path: str) -> str:
    """The id of an object's section, apart from the entry of the key that holds it."""
    return "keys-" + (anchor(path) or "top-level")


def type_name(node: dict[str, Any], root: dict[str, Any]) -> str:
    node, _ = _without_null(node, root)
    if "enum" in node:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in node["enum"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "anyOf" in node:
        return " or ".join(type_name(choice, root) for choice in node["anyOf"])
    kind = node.get("type")
    if kind == "string":
        return {
            "password": "secret string",
            "ipvanynetwork": "IP address or CIDR network",
            "uri": "URL",
        }.get(node.get("format", ""), "string")
    if kind == "array":
        items = type_name(node.get("items", {}), root) if node.get("items") else "value"
        return f"list of {items}"
    if kind == "object":
        if _is_object(node):
            return "object"
        extra = node.get("additionalProperties", True)
        if isinstance(extra, dict):
            return f"mapping of name to {type_name(extra, root)}"
        return "mapping (keys depend on the vendor)"
    return {"integer": "integer", "number": "number", "boolean": "boolean"}.get(kind or "", "any")


def constraints(node: dict[str, Any]) -> list[str]:
    found = []
    for key, text in (
        ("minimum", "≥ {}"),
        ("exclusiveMinimum", "> {}"),
        ("maximum", "≤ {}"),
        ("exclusiveMaximum", "< {}"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} entr{}"),
        ("maxItems", "at most {} entr{}"),
    ):
        if key in node:
            plural = "y" if node[key] == 1 else "ies"
            found.append(text.format(_number(node[key]), plural))
    if "pattern" in node:
        found.append(f"matches `{node['pattern']}`")
    for choice in node.get("anyOf", ()):
        found += constraints(choice)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        found += [f"each: {text}" for text in constraints(node["items"])]
    return found


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return (
        f"{value:,}".replace(",", " ")
        if isinstance(value, int) and abs(value) >= 10_000
        else str(value)
    )


def default_text(field: Field) -> str:
    if field.required:
        return "required"
    if "default" in field.raw:
        default = field.raw["default"]
        if default is None:
            return "not set (`null`)"
        shown = f"`{json.dumps(_plain(default))}`"
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            seconds = field.name.endswith("_seconds") and default >= 3600
            if seconds:
                shown += f" ({_duration(default)})"
        return shown
    if _child_object(field.schema, {}) is not None or _is_object(field.schema):
        return "each key at its own default"
    if field.schema.get("type") == "array":
        return "empty list"
    if field.schema.get("type") == "object":
        return "empty"
    return "not set"


def _plain(value: Any) -> Any:
    """``2.0`` as ``2``: a float default that is a whole number reads better without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86_400), ("hours", 3_600)):
        if seconds >= size and seconds % size == 0:
            amount = int(seconds // size)
            return f"{amount} {unit[:-1] if amount == 1 else unit}"
    return f"{seconds / 3600:g} hours"


def render_field(field: Field, root: dict[str, Any]) -> str:
    facts = [
        f"- **Type**: {type_name(field.raw, root)}" + (", or `null`" if field.nullable else "")
    ]
    facts.append(f"- **Default**: {default_text(field)}")
    limits = constraints(field.schema)
    if limits:
        facts.append("- **Constraints**: " + "; ".join(limits))
    child = _child_object(field.schema, root)
    if child is not None:
        facts.append(
            f"- **Keys**: see [`{field.path}{child[0]}`](#{section_anchor(field.path + child[0])})"
        )
    description = markdown(field.raw.get("description") or "")
    if not description and child is not None:
        description = markdown(child[1].get("description", ""))
    body = description or "*Not described in the schema yet.*"
    heading = [f'<a id="{anchor(field.path)}"></a>', "", f"### `{field.path}`"]
    return "\n".join([*heading, "", *facts, "", body, ""])


INTRO = """\
# Configuration reference

!!! note "Generated"
    This page is generated from the JSON Schema of the configuration model
    (`scimbridge.config.BridgeConfig`) by `make config-reference`: every key below is a
    field of that model, and its description is the field's docstring. The schema itself:
    [bridge-config.schema.json](reference/bridge-config.schema.json), which
    `scimbridge config schema` prints too.

The bridge reads one YAML (or JSON) file, named by `--config FILE` or the
`SCIMBRIDGE_CONFIG` environment variable, and validates all of it before anything
starts. A bad value or an unknown key stops start-up with a message naming the file, the
line and the key, never the value. An unreachable vendor or wrong vendor credentials do not
stop start-up: deliveries wait and retry (see [Operations](operations.md)).

**Secrets from the environment.** `${NAME}` inside a string value is replaced by the
environment variable `NAME`, after the file is parsed: the value is taken exactly as it
is, never parsed as YAML, and comments are never looked at. A variable that is not set
stops start-up, naming the line and the key. `$${` writes a literal `${`. See
[Security](security.md).

**Editors.** An editor with a YAML language server validates the file as you type when
the first line names the schema:
`# yaml-language-server: $schema=<URL of this site>/reference/bridge-config.schema.json`.
"""


def render_page(schema: dict[str, Any] | None = None) -> str:
    root = schema if schema is not None else bridge_schema()
    parts = [INTRO]
    parts += [
        "## Complete example",
        "",
        "Every key, with its default unless a value is needed to show it; `# ` lines say what",
        "each key is for (the first sentence of its description).",
        "",
        "```yaml",
        render_example(root).rstrip(),
        "```",
        "",
    ]
    for section in sections(root):
        title = f"`{section.path}`" if section.path else "Top level"
        parts += [f'<a id="{section_anchor(section.path)}"></a>', "", f"## {title}", ""]
        intro = markdown(section.description)
        if intro:
            parts += [intro, ""]
        if section.fields:
            parts += [
                "| key | type | default |",
                "|---|---|---|",
                *[
                    f"| [`{field.name}`](#{anchor(field.path)}) | {type_name(field.raw, root)} "
                    f"| {default_text(field)} |"
                    for field in section.fields
                ],
                "",
            ]
        parts += [render_field(field, root) for field in section.fields]
    return "\n".join(parts)


# -- the example -------------------------------------------------------------------------------


def _first_sentence(description: str) -> str:
    text = markdown(description).split("\n\n")[0].replace("`", "")
    match = re.match(r"(.+?)(?<!e\.g)(?<!i\.e)\.(?:\s|$)", text)
    return match.group(1) if match else text.rstrip(".")


def _scalar(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _example_value(field: Field) -> tuple[bool, Any]:
    """(True, value) when the example shows a value for the key; (False, None) otherwise."""
    if field.path in EXAMPLE_VALUES:
        return True, EXAMPLE_VALUES[field.path]
    if "default" in field.raw:
        return True, _plain(field.raw["default"])
    if "examples" in field.raw:
        return True, field.raw["examples"][0]
    if not field.required and field.schema.get("type") == "array":
        return True, []  # a list with a default factory: empty unless given
    if not field.required and field.schema.get("type") == "object" and not _is_object(field.schema):
        return True, {}
    return False, None


def render_example(schema: dict[str, Any] | None = None) -> str:
    """A complete configuration file: every key of the schema, each after a comment.

    An object that is not set by default (``inbound.basic``, say, unless
    :data:`EXAMPLE_VALUES` fills it) is shown commented out, keys included, so the
    example stays a valid file and still names every key.
    """
    root = schema if schema is not None else bridge_schema()
    lines: list[str] = []

    def comment(text: str, column: str) -> None:
        for line in textwrap.wrap(text, width=max(88 - len(column), 40)):
            lines.append(f"{column}# {line}")

    def emit_object(node: dict[str, Any], path: str, indent: str, first: str, off: bool) -> None:
        """Keys at ``indent``; the first one after ``first`` (``- `` for a list item)."""
        required = set(node.get("required", ()))
        for position, (name, raw) in enumerate(node.get("properties", {}).items()):
            resolved, nullable = _without_null(raw, root)
            field_path = f"{path}.{name}" if path else name
            field = Field(field_path, name, resolved, raw, name in required, nullable)
            lead = first if position == 0 else indent
            about = _first_sentence(raw.get("description") or resolved.get("description", ""))
            if about:
                comment(about, lead.replace("- ", "") if position == 0 else indent)
            mark = "# " if off else ""
            shown, value = _example_value(field)
            child = _child_object(resolved, root)
            if field_path in EXAMPLE_VALUES or (child is None and shown):
                lines.append(f"{lead}{mark}{name}: {_scalar(value)}")
            elif child is not None and child[0] == "[]":
                lines.append(f"{lead}{mark}{name}:")
                emit_object(child[1], field_path + "[]", indent + "    ", indent + "  - ", off)
            elif child is not None:
                filled = any(key.startswith(field_path + ".") for key in EXAMPLE_VALUES)
                hidden = off or (nullable and raw.get("default", ...) is None and not filled)
                lines.append(f"{lead}{'# ' if hidden else ''}{name}:")
                emit_object(child[1], field_path, indent + "  ", indent + "  ", hidden)
            else:
                lines.append(f"{lead}{mark}{name}: <{name}>")

    emit_object(root, "", "", "", False)
    return "\n".join(lines) + "\n"


# -- writing the files, and the MkDocs hook ---------------------------------------------------


def generated_files() -> dict[str, str]:
    """Each generated file's path under ``docs/`` and its content."""
    schema = bridge_schema()
    return {
        SCHEMA_FILE: json.dumps(schema, indent=2) + "\n",
        PAGE: render_page(schema),
    }


def stale_files(docs: Path = DOCS) -> list[str]:
    """The generated files missing from ``docs`` or differing from what would be written."""
    return [
        name
        for name, content in generated_files().items()
        if not (docs / name).is_file() or (docs / name).read_text("utf-8") != content
    ]


def write_files(docs: Path = DOCS) -> list[str]:
    """Write the generated files into ``docs``; the names of those that changed."""
    changed = stale_files(docs)
    for name, content in generated_files().items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(content, "utf-8")
    return changed


def on_pre_build(config: Any, **_: Any) -> None:
    """Stop the site's build while the committed reference is stale."""
    from mkdocs.exceptions import PluginError

    stale = stale_files(Path(config["docs_dir"]))
    if stale:
        raise PluginError(f"{', '.join(stale)} stale: run `{REGENERATE}` and commit the result")


if __name__ == "__main__":
    written = write_files(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS)
    for name in written:
        print(f"wrote docs/{name}")
    if not written:
        print(f"docs/{PAGE} and docs/{SCHEMA_FILE} are up to date")
