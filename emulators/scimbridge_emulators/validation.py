"""Request validation against the vendors' documented schemas (JSON Schema, as their OpenAPI files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator


@dataclass(frozen=True)
class Violation:
    path: str
    """Where in the document, e.g. ``users[3].products[0].key`` (empty for the whole body)."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def violations(schema: dict[str, Any], document: Any) -> list[Violation]:
    """Every way ``document`` breaks ``schema``, in document order."""
    errors = sorted(
        Draft202012Validator(schema).iter_errors(document),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    return [Violation(_path(error.absolute_path), error.message) for error in errors]


def string(max_length: int | None = None, **more: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **more}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


BOOLEAN = {"type": "boolean"}
STRINGS = {"type": "array", "items": {"type": "string"}}
