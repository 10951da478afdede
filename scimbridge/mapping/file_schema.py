"""Validation of a mapping file against the JSON Schema shipped beside this module."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from scimbridge.mapping.errors import MappingFileError
from scimbridge.mapping.source import MappingSource


@cache
def mapping_file_validator() -> Draft202012Validator:
    text = resources.files(__package__).joinpath("mapping-file.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def _unknown_keys(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    allowed = schema.get("properties", {})
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [key for key in instance if key not in allowed]


def validate_mapping_document(source: MappingSource) -> None:
    """Raise MappingFileError naming the line and key of the most relevant problem.

    An unknown key is reported at the key itself, with the keys allowed there,
    since a misspelt key is the mistake an admin makes most.
    """
    if not isinstance(source.document, dict):
        raise MappingFileError(
            source.label,
            1,
            "(top level)",
            "a mapping file is a YAML mapping with vendor, record and deprovision",
        )
    error = best_match(mapping_file_validator().iter_errors(source.document))
    if error is None:
        return
    location: tuple[Any, ...] = tuple(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties" and isinstance(
        error.schema.get("properties"), dict
    ):
        unknown = _unknown_keys(error)
        if unknown:
            location = (*location, unknown[0])
            allowed = ", ".join(error.schema["properties"])
            message = f"unknown key {unknown[0]!r}; allowed here: {allowed}"
    raise source.error(location, message)
