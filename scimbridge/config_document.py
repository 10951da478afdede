"""Reading a configuration file: YAML first, then the environment, inside string values only.

Secrets come from the environment as ``${NAME}``. Substituting them into the raw text
before parsing (as earlier versions did) let a secret's characters take part in the YAML:
a ``"`` broke the parse and the parser's message printed the secret, ``", "x`` added a
second bearer token, `` #`` cut a token short to a prefix the bridge then accepted, and
``\\t`` became a TAB. So the file is parsed first, and a reference is replaced inside the
string scalar that holds it, with the variable's value exactly as it is: never parsed
again, never typed (``"${PORT}"`` stays a string for the model to read). Comments are
never looked at. ``$${`` writes a literal ``${``.

Every node's line is kept, so that an error names the file, the line and the key, and
no message built here ever holds a value read from the environment or the file. Every
unset variable is named in one message, each with the line and key of its references:
an admin exports them all at once, not one per run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

STRING_TAG = "tag:yaml.org,2002:str"
REFERENCE = re.compile(r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}|\$\{")
"""``$${`` (an escaped ``${``), ``${NAME}``, or a ``${`` that starts no reference."""
UNSET = "unset-environment-variable-"
"""What :func:`read_document` puts for an unset variable when secrets are not required:
long enough to pass the checks a token must pass, and plain about what it is."""

Path = tuple[str | int, ...]
"""Where a value sits in the document: its keys and list positions from the top."""


class DocumentError(Exception):
    """The document cannot be read; the message names the line and, where known, the key."""


@dataclass
class Document:
    """A parsed configuration and the line of each of its values (1-based)."""

    content: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of the value at ``path``, or of the nearest enclosing one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def key_name(path: Path, content: Any) -> str:
    """Name a key the way an admin reads the file: ``targets[0] (chat).inbound.bearer_tokens``."""
    parts: list[str] = []
    node = content
    for step in path:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            label = f"[{step}]" + (f" ({name})" if isinstance(name, str) else "")
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts) or "(top level)"


def read_document(text: str, environ: Mapping[str, str], *, require_env: bool = True) -> Document:
    """Parse ``text`` as YAML (JSON is YAML) and substitute the environment in its strings.

    :param require_env: an unset variable is an error; if False (the commands that never
        call a vendor: ``mapping check`` and ``preview``, ``status``, ``outbox list``) it
        reads as ``unset-environment-variable-NAME``.
    :raises DocumentError: a YAML error (its position, never the text around it), a stray
        ``${`` (its line and key), or references to unset variables (all of them, each
        with its lines and keys).
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(None)
        document = Document(None)
        missing: list[_Missing] = []
        _substitute(root, (), environ, missing if require_env else None, document, set())
        document.content = loader.construct_document(root)
        if missing:
            raise DocumentError(unset_variables(missing, document.content))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DocumentError(
            f"not valid YAML or JSON: {where}{error.problem or error.context}"
        ) from None
    except yaml.YAMLError as error:
        raise DocumentError(f"not valid YAML or JSON: {type(error).__name__}") from None
    except _Unset as unset:
        assert root is not None  # only _substitute raises _Unset, and it runs on a node
        where = f"line {unset.line}, key {key_name(unset.path, _partial(root, loader))}"
        raise DocumentError(f"{where}: {unset.reason}") from None
    finally:
        loader.dispose()
    return document


class _Unset(Exception):
    def __init__(self, path: Path, line: int, reason: str):
        self.path, self.line, self.reason = path, line, reason


@dataclass(frozen=True)
class _Missing:
    """A reference to an unset variable: where it is, and the variable's name."""

    path: Path
    line: int
    name: str


def unset_variables(missing: list[_Missing], content: Any) -> str:
    """One message for every reference to an unset variable: a lone one as any other error
    of a line; several as their names, to export at once, then each reference's line and key."""
    if len(missing) == 1:
        [unset] = missing
        where = f"line {unset.line}, key {key_name(unset.path, content)}"
        return f"{where}: environment variable {unset.name} is not set"
    names = ", ".join(dict.fromkeys(unset.name for unset in missing))
    return f"environment variables not set: {names}" + "".join(
        f"\n  line {unset.line}, key {key_name(unset.path, content)}: {unset.name}"
        for unset in missing
    )


def _partial(root: Node, loader: yaml.SafeLoader) -> Any:
    """The document as far as it can be built, to name the keys of an error."""
    try:
        return loader.construct_document(root)
    except yaml.YAMLError:
        return None


def _substitute(
    node: Node,
    path: Path,
    environ: Mapping[str, str],
    missing: list[_Missing] | None,
    document: Document,
    seen: set[int],
) -> None:
    """Replace the references of every string scalar under ``node``, once per node: an alias
    (``*name``) shares its anchor's node, whose value must not be substituted twice.

    :param missing: where each reference to an unset variable is added; None: such a
        reference reads as ``unset-environment-variable-NAME``.
    """
    document.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key, value in node.value:
            step = key.value if isinstance(key, ScalarNode) else str(key.start_mark.line)
            _substitute(value, (*path, step), environ, missing, document, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _substitute(item, (*path, index), environ, missing, document, seen)
    elif isinstance(node, ScalarNode) and node.tag == STRING_TAG and "$" in node.value:
        node.value = _replaced(node.value, path, node.start_mark.line + 1, environ, missing)


def _replaced(
    value: str, path: Path, line: int, environ: Mapping[str, str], missing: list[_Missing] | None
) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if match.group() == "$${":
            return "${"
        if name is None:
            raise _Unset(
                path, line, "'${' starts no ${NAME} reference; write '$${' for a literal '${'"
            )
        if name in environ:
            return environ[name]
        if missing is not None:
            missing.append(_Missing(path, line, name))
        return UNSET + name

    return REFERENCE.sub(replace, value)
