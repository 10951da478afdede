"""Reading a mapping file while remembering where each key is, so errors can name file and line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from scimbridge.mapping.errors import MappingFileError

Location = tuple[str | int, ...]


def key_name(location: Location) -> str:
    """A location as an admin reads it: ``record.products[2].object.access``."""
    text = ""
    for step in location:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


@dataclass(frozen=True)
class MappingSource:
    """A parsed mapping file and the YAML node tree it came from."""

    label: str
    """The name messages give the file (never a server path: they reach identity providers)."""
    document: Any
    root: yaml.Node | None

    def line_of(self, location: Location) -> int | None:
        """The 1-based line of the key at ``location`` (of its nearest existing parent if absent)."""
        node, line = self.root, 1 if self.root is not None else None
        for step in location:
            child = _child(node, step)
            if child is None:
                break
            key_node, node = child
            line = (key_node or node).start_mark.line + 1
        return line

    def error(self, location: Location, message: str) -> MappingFileError:
        return MappingFileError(self.label, self.line_of(location), key_name(location), message)


def _child(node: yaml.Node | None, step: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key_node, value_node in node.value:
            if key_node.value == step:
                return key_node, value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return None, node.value[step]
    return None


def _duplicate_key(node: yaml.Node, location: Location = ()) -> tuple[Location, int] | None:
    """YAML lets a repeated key silently win; in a mapping file it is a mistake worth naming."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            if key_node.value in seen:
                return (*location, key_node.value), key_node.start_mark.line + 1
            seen.add(key_node.value)
            found = _duplicate_key(value_node, (*location, key_node.value))
            if found:
                return found
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found = _duplicate_key(item, (*location, index))
            if found:
                return found
    return None


def read_mapping_source(path: str, label: str) -> MappingSource:
    """Parse the file at ``path``, named ``label`` in every message.

    :raises MappingFileError: when the file cannot be read or is not YAML.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise MappingFileError(
            label, None, "(file)", f"cannot read the file: {error.strerror}"
        ) from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise MappingFileError(
            label, line, "(syntax)", f"not valid YAML: {error.problem}"
        ) from None
    except yaml.YAMLError as error:
        raise MappingFileError(label, None, "(syntax)", f"not valid YAML: {error}") from None
    finally:
        loader.dispose()
    if root is not None:
        duplicate = _duplicate_key(root)
        if duplicate:
            location, line = duplicate
            raise MappingFileError(label, line, key_name(location), "this key is given twice")
    return MappingSource(label, document, root)
