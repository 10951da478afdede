"""What a vendor client reads from its target: each credential and option, declared.

A target's ``credentials`` and ``options`` are free-form in the configuration file; the
vendor's client says which keys it reads (:attr:`VendorClient.settings
<scimbridge.vendors.base.VendorClient.settings>`), so that

- a misspelt key (``client_secert``) is refused when the configuration is read, naming
  the file, the line, the key and the declared name nearest to it, rather than sending
  no secret and being refused by the vendor for days;
- a missing required key and a value of the wrong type are refused the same way;
- every key declared ``secret`` is redacted from every message and log line, whatever
  its name (:meth:`Settings.secret_values`);
- ``scimbridge config schema`` tells an editor each vendor's keys.

This module checks values already read from the file; it never talks to a vendor.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

SettingType = (
    type[str] | type[int] | type[float] | type[bool] | type[list[Any]] | type[dict[str, Any]]
)
Section = Literal["credentials", "options"]

JSON_TYPES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}
TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
}


@dataclass(frozen=True)
class Setting:
    """One key of a target's ``credentials`` or ``options``."""

    name: str
    description: str
    type: SettingType = str
    """What the value must be; a ``float`` setting also takes a whole number, no setting
    takes ``true`` for a number. A credential is a string (the configuration reads every
    ``credentials`` value as one, from ``${NAME}``)."""
    required: bool = False
    default: Any = None
    """The value the client uses when the key is absent, for people and the JSON Schema
    (None: nothing, or a value the description names)."""
    secret: bool = False
    """Never shown: redacted from every message, log line and error the bridge writes."""
    minimum: float | None = None
    """The smallest value a number may take."""

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be this setting's, or None."""
        if self.type is float:
            fits = isinstance(value, int | float) and not isinstance(value, bool)
        elif self.type is int:
            fits = isinstance(value, int) and not isinstance(value, bool)
        else:
            fits = isinstance(value, self.type)
        if not fits:
            return f"must be {TYPE_NAMES[self.type]}"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}"
        return None

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": JSON_TYPES[self.type], "description": self.description}
        if self.default is not None:
            schema["default"] = self.default
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.secret:
            schema["writeOnly"] = True
        return schema


@dataclass(frozen=True)
class Problem:
    """One refused key: ``section.key`` and why (never its value)."""

    section: Section
    key: str
    message: str


@dataclass(frozen=True)
class Settings:
    """Every credential and option a client reads. ``a + b`` is ``a`` with ``b``'s
    settings added, a setting of ``b`` replacing ``a``'s of the same name: a vendor
    extends its flavour's declaration (and may change a default) without repeating it."""

    credentials: tuple[Setting, ...] = ()
    options: tuple[Setting, ...] = ()

    def __add__(self, other: Settings) -> Settings:
        return Settings(
            _merged(self.credentials, other.credentials), _merged(self.options, other.options)
        )

    def section(self, section: Section) -> tuple[Setting, ...]:
        return self.credentials if section == "credentials" else self.options

    def default(self, section: Section, name: str) -> Any:
        """The declared default of ``section.name``.

        :raises KeyError: when the client does not declare it.
        """
        for setting in self.section(section):
            if setting.name == name:
                return setting.default
        raise KeyError(f"{section}.{name} is not declared")

    def problems(self, section: Section, values: Mapping[str, Any]) -> list[Problem]:
        """What is wrong with a target's ``section``: unknown keys (with the nearest declared
        name), missing required ones, values of the wrong type."""
        declared = {setting.name: setting for setting in self.section(section)}
        found: list[Problem] = []
        for key, value in values.items():
            setting = declared.get(key)
            if setting is None:
                found.append(Problem(section, key, self._unknown(section, key)))
            elif setting.required and value == "":
                found.append(Problem(section, key, "required, empty"))
            elif (problem := setting.problem(value)) is not None:
                found.append(Problem(section, key, problem))
        found += [
            Problem(section, name, "required, not set")
            for name, setting in declared.items()
            if setting.required and name not in values
        ]
        return found

    def _unknown(self, section: Section, key: str) -> str:
        other: Section = "options" if section == "credentials" else "credentials"
        if any(setting.name == key for setting in self.section(other)):
            return f"unknown key; {key} belongs in {other}"
        names = [setting.name for setting in self.section(section)]
        nearest = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        if nearest:
            return f"unknown key; did you mean {nearest[0]}?"
        return f"unknown key; known: {', '.join(names) or 'none'}"

    def secret_values(
        self, credentials: Mapping[str, str], options: Mapping[str, Any]
    ) -> list[str]:
        """The values of the keys declared secret in a target's ``credentials`` and
        ``options``: the one rule for what is redacted."""
        given = {"credentials": credentials, "options": options}
        return [
            str(given[section][setting.name])
            for section in SECTIONS
            for setting in self.section(section)
            if setting.secret and given[section].get(setting.name) not in (None, "")
        ]

    def json_schema(self) -> dict[str, Any]:
        """``credentials`` and ``options`` as JSON Schema objects (draft 2020-12)."""
        return {section: _object_schema(self.section(section)) for section in SECTIONS}


SECTIONS: tuple[Section, ...] = ("credentials", "options")


def _merged(base: Iterable[Setting], added: Iterable[Setting]) -> tuple[Setting, ...]:
    merged = {setting.name: setting for setting in base}
    merged.update((setting.name, setting) for setting in added)
    return tuple(merged.values())


def _object_schema(settings: tuple[Setting, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {setting.name: setting.json_schema() for setting in settings},
        "additionalProperties": False,
    }
    required = [setting.name for setting in settings if setting.required]
    if required:
        schema["required"] = required
    return schema


__all__ = ["SECTIONS", "Problem", "Section", "Setting", "Settings"]
