"""The worked examples of docs/mapping.md, "Transforms", mapped as they are written there.

Between the markers ``<!-- transform examples`` and ``<!-- end of transform examples -->``,
the first ``json`` block is the user; each ``yaml`` block is a ``record:`` section, and the
``json`` block after it the fields it gives. The section is put in a mapping of the first
vendor whose record has its fields, with that vendor's other required fields added.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from scimbridge.mapping import MappingContext, load_mapping
from scimbridge.mapping.redaction import Redacted, redacted_view
from scimbridge.vendors import record_shape

DOCS = Path(__file__).parents[2] / "docs" / "mapping.md"
START, END = "<!-- transform examples", "<!-- end of transform examples -->"
BLOCK = re.compile(r"^```(yaml|json)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^### (.+)$", re.MULTILINE)
REQUIRED = {
    "aria": {"username": "userName"},
    "rocketchat": {
        "username": "{path: userName, transform: [{split: '@'}, first]}",
        "emails": "{path: emails.value, as: list}",
        "importIds": "{value_of: bridge.stable_id, as: list}",
    },
    "acc": {
        "email": "emails.value",
        "products": "[{object: {key: {const: docs}, access: {const: member}}}]",
    },
}
"""Per vendor an example may use, in order of preference: its required fields."""
DEPROVISION = {
    "aria": "{action: disable, set: {enabled: false}, note: disabled}",
    "rocketchat": "{action: disable, set: {deleted: true}, note: disabled}",
    "acc": "{action: remove, note: removed}",
}
CONTEXT = MappingContext(stable_id="link-1")


def _examples() -> tuple[dict, list[tuple[str, str, dict]]]:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index(START) : text.index(END)]
    blocks = [(match.start(), match.group(1), match.group(2)) for match in BLOCK.finditer(section)]
    assert blocks[0][1] == "json", "the section starts with the user, as a json block"
    user = json.loads(blocks[0][2])
    examples = []
    assert blocks[-1][1] == "json", "the last yaml block is followed by its result"
    for (position, kind, body), (_, next_kind, next_body) in pairwise(blocks[1:]):
        if kind != "yaml":
            continue
        assert next_kind == "json", f"the yaml block at {position} is followed by its result"
        heading = [match.group(1) for match in HEADING.finditer(section, 0, position)][-1]
        examples.append((f"{heading} #{len(examples) + 1}", body, json.loads(next_body)))
    return user, examples


USER, EXAMPLES = _examples()


def _mapping_file(section: str) -> str:
    """A whole mapping file around the ``record:`` section, kept as it is written."""
    fields = set(yaml.safe_load(section)["record"])
    vendor = next(
        name for name in REQUIRED if fields <= record_shape(name).fields
    )  # StopIteration: no vendor has these fields
    added = "".join(
        f"  {name}: {spec}\n" for name, spec in REQUIRED[vendor].items() if name not in fields
    )
    rule = DEPROVISION[vendor]
    return (
        f"vendor: {vendor}\n{section}{added}deprovision:\n  on_deactivate: {rule}\n"
        f"  on_reactivate: {{action: import, note: re-activated}}\n  on_delete: {rule}\n"
    )


def test_the_section_has_an_example_of_every_new_transform():
    written = " ".join(body for _, body, _ in EXAMPLES)

    for name in ("map", "replace", "normalize_diacritics", "title_case", "truncate"):
        assert name in written
    for name in ("substring", "word", "date", "unique", "redact"):
        assert name in written


@pytest.mark.parametrize(
    ("section", "expected"),
    [(body, expected) for _, body, expected in EXAMPLES],
    ids=[name for name, _, _ in EXAMPLES],
)
def test_a_docs_example_gives_the_fields_it_shows(write_mapping, section, expected):
    mapping = load_mapping(write_mapping(_mapping_file(section)), record_shape)

    record = mapping.apply(USER, [], CONTEXT).record

    assert {name: record.get(name) for name in expected} == expected


def test_the_redact_example_shows_redacted_in_the_preview(write_mapping):
    (section,) = [body for name, body, _ in EXAMPLES if name.startswith("`redact`")]
    mapping = load_mapping(write_mapping(_mapping_file(section)), record_shape)

    record = mapping.apply(USER, [], CONTEXT).record

    assert isinstance(record["distinguishedName"], Redacted)
    assert redacted_view(record)["distinguishedName"] == "<redacted>"
