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
no message built here ever holds a value read from the environment or the file.
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

    :param require_env: an unset variable is an error; if False (``mapping check`` and
        ``preview``, which never call a vendor) it reads as ``unset-environment-variable-NAME``.
    :raises DocumentError: a YAML error (its position, never the text around it), or a
        reference to an unset variable or a stray ``${`` (its line and key).
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(None)
        document = Document(None)
        _substitute(root, (), environ, require_env, document, set())
        document.content = loader.construct_document(root)
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
    require_env: bool,
    document: Document,
    seen: set[int],
) -> None:
    """Replace the references of every string scalar under ``node``, once per node: an alias
    (``*name``) shares its anchor's node, whose value must not be substituted twice."""
    document.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key, value in node.value:
            step = key.value if isinstance(key, ScalarNode) else str(key.start_mark.line)
            _substitute(value, (*path, step), environ, require_env, document, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _substitute(item, (*path, index), environ, require_env, document, seen)
    elif isinstance(node, ScalarNode) and node.tag == STRING_TAG and "$" in node.value:
        node.value = _replaced(node.value, path, node.start_mark.line + 1, environ, require_env)


def _replaced(
    value: str, path: Path, line: int, environ: Mapping[str, str], require_env: bool
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
        if require_env:
            raise _Unset(path, line, f"environment variable {name} is not set")
        return UNSET + name

    return REFERENCE.sub(replace, value)
