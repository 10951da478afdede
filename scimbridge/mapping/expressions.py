"""Field expressions: the right-hand sides of a mapping file, compiled once into small evaluators.

Every expression answers ``evaluate(resource, groups, context)`` with a value,
or None when the user has nothing to give; an empty string or list counts as
nothing, so that ``fallback`` and ``default`` take over. One exception: a
``from_groups`` field with ``as: list`` answers ``[]`` when no listed group
matches, so that the record states the revocation (docs/architecture.md, "External IDs
and re-import": "leaving a group revokes what it granted"). The forms are
documented, with examples, in docs/mapping.md.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from scimbridge.comparison import group_name_key
from scimbridge.mapping.context import MappingContext
from scimbridge.mapping.paths import InvalidSourcePath, SourcePath
from scimbridge.mapping.source import Location
from scimbridge.mapping.transforms import Transform, TransformError, compile_transforms

Groups = frozenset[str]
"""The display names of the user's groups as compared (:func:`~scimbridge.comparison.group_name_key`)."""

BRIDGE_PREFIX = "bridge."
BRIDGE_FACTS = ("stable_id", "vendor_id", "first_import")
SOURCES = ("path", "const", "template", "value_of", "from_groups", "object", "first_available")
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
NEEDS_DEFAULT = (
    "from_groups needs a default: the value a user in none of these groups gets, "
    "so that leaving a group revokes what it granted"
)
LIST_TAKES_NO = (
    "a from_groups list manages exactly the values of its table, and revokes them when the "
    "user leaves the group: write each value as the vendor wants it, without {key}"
)


class ExpressionError(ValueError):
    """A field expression that cannot be compiled, with the location of the key at fault."""

    def __init__(self, location: Location, message: str):
        super().__init__(message)
        self.location = location
        self.message = message


def is_nothing(value: Any) -> bool:
    """None, "", [] or {}: what a mapping treats as "the user has none" (not False, not 0)."""
    if value:  # the common case, answered without building an empty list and dict
        return False
    return value is None or value == "" or value == [] or value == {}


class Expression(ABC):
    """One compiled right-hand side."""

    __slots__ = ()

    @abstractmethod
    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        """The value for this user, or None."""

    @property
    @abstractmethod
    def source(self) -> str:
        """What the value comes from, in the admin's words, for error messages."""

    @property
    def managed(self) -> tuple[Any, ...] | None:
        """Every value this expression manages in a vendor list, or None if it manages no list.

        Only a ``from_groups`` list manages values: the vendor client replaces
        those and keeps the values the vendor owns (docs/architecture.md, "External IDs
        and re-import").
        """
        return None


class Constant(Expression):
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        return fresh_copy(self.value)

    @property
    def source(self) -> str:
        return "a constant"


class Attribute(Expression):
    """A SCIM attribute path such as ``emails[type eq "work"].value``."""

    __slots__ = ("path",)

    def __init__(self, path: SourcePath):
        self.path = path

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        return self.path.read(resource)

    @property
    def source(self) -> str:
        return self.path.text


class BridgeFact(Expression):
    """``bridge.stable_id``, ``bridge.vendor_id`` or ``bridge.first_import`` (see MappingContext)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        return getattr(context, self.name)

    @property
    def source(self) -> str:
        return BRIDGE_PREFIX + self.name


class Template(Expression):
    """A composed string; it gives nothing when any attribute it names is missing."""

    __slots__ = ("parts", "text")

    def __init__(self, text: str, parts: list[str | Expression]):
        self.text = text
        self.parts = parts

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        pieces = []
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = part.evaluate(resource, groups, context)
            if type(value) is str and value:  # the common case: one check, not four
                pieces.append(value)
                continue
            if isinstance(value, list):
                value = value[0]
            if is_nothing(value) or isinstance(value, dict):
                return None
            pieces.append(str(value).lower() if isinstance(value, bool) else str(value))
        return "".join(pieces)

    @property
    def source(self) -> str:
        return ", ".join(part.source for part in self.parts if isinstance(part, Expression))


class FromGroups(Expression):
    """Values chosen by group membership: the first listed group the user is in, or all of them."""

    __slots__ = ("choices", "collect", "table_values")

    def __init__(self, choices: dict[str, Any], collect: bool):
        self.choices = [(group_name_key(name), value) for name, value in choices.items()]
        self.collect = collect
        self.table_values = tuple(_distinct(choices.values()))
        """Every value of the table, list values flattened, once each, in file order."""

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        granted = (value for name, value in self.choices if name in groups)
        if not self.collect:
            return fresh_copy(next(granted, None))
        return _distinct(granted) or None

    @property
    def source(self) -> str:
        return "membership of a group"


def _distinct(values: Iterable[Any]) -> list[Any]:
    """The values, a list contributing each of its items, once each, in order, as fresh copies.

    Compared by equality, not hashing: Aria's role permissions are objects.
    """
    found: list[Any] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if item not in found:
                found.append(fresh_copy(item))
    return found


class Candidates:
    """The values a ``first_available`` field may take, in order, worked out as they are
    asked for (:meth:`at`): the record carries the first, and the delivery asks for the
    next only when the vendor holds the one before, as Entra's SelectUniqueValue tries its
    rules in order. A candidate that gives nothing, or a value an earlier one gave, is
    passed over; so is a value ``accepts`` refuses (the vendor's record shape), kept in
    :attr:`refused` for the failure that names it."""

    __slots__ = ("_accepts", "_context", "_groups", "_pending", "_resource", "refused", "values")

    def __init__(
        self,
        expressions: Iterable[Expression],
        resource: dict[str, Any],
        groups: Groups,
        context: MappingContext,
        accepts: Callable[[str], bool] | None = None,
    ):
        self._pending = iter(expressions)
        self._resource = resource
        self._groups = groups
        self._context = context
        self._accepts = accepts
        self.values: list[str] = []
        """The candidates worked out so far."""
        self.refused: list[str] = []
        """The values ``accepts`` refused so far."""

    def at(self, position: int) -> str | None:
        """The candidate at ``position`` (from 0), or None when there are fewer."""
        while len(self.values) <= position:
            if not self._next():
                return None
        return self.values[position]

    def all(self) -> list[str]:
        """Every candidate (``mapping preview``, and the failure that names them)."""
        while self._next():
            pass
        return self.values

    def _next(self) -> bool:
        for expression in self._pending:
            value = expression.evaluate(self._resource, self._groups, self._context)
            if not isinstance(value, str) or not value or value in self.values:
                continue
            if self._accepts is None or self._accepts(value):
                self.values.append(value)
                return True
            if value not in self.refused:
                self.refused.append(value)
        return False


class FirstAvailable(Expression):
    """Entra's SelectUniqueValue: candidate values, of which the vendor takes the first it
    does not hold yet. Only the vendor knows, so :meth:`evaluate` gives the candidates and
    the delivery chooses; the choice is remembered with the user (``MappingContext.chosen``)
    and never made again, whatever the candidates give later (docs/mapping.md)."""

    __slots__ = ("accepts", "candidates", "field")

    def __init__(
        self,
        field: str,
        candidates: list[Expression],
        accepts: Callable[[str], bool] | None = None,
    ):
        self.field = field
        """The record field it fills: the key of its value in ``MappingContext.chosen``."""
        self.candidates = candidates
        self.accepts = accepts
        """Whether the vendor's record shape takes a value of the field (the mapping's)."""

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        """The value chosen before, else the candidates, none worked out yet."""
        if self.field in context.chosen:
            return context.chosen[self.field]
        return Candidates(self.candidates, resource, groups, context, self.accepts)

    @property
    def source(self) -> str:
        return ", ".join(candidate.source for candidate in self.candidates)


class ObjectOf(Expression):
    """A nested object, e.g. one ``{key, access}`` product of an ACC user."""

    __slots__ = ("fields",)

    def __init__(self, fields: list[tuple[str, Expression]]):
        self.fields = fields

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        built = evaluate_fields(self.fields, resource, groups, context)
        return built or None

    @property
    def source(self) -> str:
        return ", ".join(expression.source for _, expression in self.fields)


class ListOf(Expression):
    """A list written item by item; items that give nothing are left out."""

    __slots__ = ("items",)

    def __init__(self, items: list[Expression]):
        self.items = items

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        values = []
        for item in self.items:
            value = item.evaluate(resource, groups, context)
            if not is_nothing(value):
                values.append(value)
        return values or None

    @property
    def source(self) -> str:
        return ", ".join(item.source for item in self.items)


class Shaped(Expression):
    """A form with its modifiers: ``when``/``unless``, ``fallback``, ``transform``, ``default``, ``as``.

    Order: the conditions decide whether the field exists at all; then the
    source, else the fallback; the transforms; the default; finally the
    shape: ``as: list`` makes a list, otherwise a list gives its first value.
    A ``from_groups`` list that still has nothing is ``[]``, never left out:
    that empty list is what revokes the values of a group the user left.
    """

    __slots__ = (
        "_managed", "as_list", "default", "fallback", "inner", "transform_names", "transforms",
        "unless", "when",
    )  # fmt: skip

    def __init__(
        self,
        inner: Expression,
        *,
        fallback: Expression | None = None,
        transforms: list[Transform] | None = None,
        transform_names: list[str] | None = None,
        default: Any = None,
        as_list: bool = False,
        when: Expression | None = None,
        unless: Expression | None = None,
    ):
        self.inner = inner
        self.fallback = fallback
        self.transforms = transforms or []
        self.transform_names = transform_names or [
            f"transform {n}" for n in range(1, len(self.transforms) + 1)
        ]
        """How ``mapping preview --explain`` names each transform (as the file writes it)."""
        self.default = default
        self.as_list = as_list
        self.when = when
        self.unless = unless
        self._managed = inner.table_values if as_list and isinstance(inner, FromGroups) else None
        """The table of a ``from_groups`` list, not its ``default``: the default is the
        baseline a user outside every group gets, which joining a group does not take away."""

    def evaluate(self, resource: dict[str, Any], groups: Groups, context: MappingContext) -> Any:
        if self.when is not None and not holds(self.when.evaluate(resource, groups, context)):
            return None
        if self.unless is not None and holds(self.unless.evaluate(resource, groups, context)):
            return None
        # `not value and is_nothing(value)`: a value present, the common case, costs no call
        value = self.inner.evaluate(resource, groups, context)
        if not value and self.fallback is not None and is_nothing(value):
            value = self.fallback.evaluate(resource, groups, context)
        for transform in self.transforms:
            if not value and is_nothing(value):
                break
            value = transform(value)
        if not value and is_nothing(value):
            value = fresh_copy(self.default)
        if not self.as_list and isinstance(value, list):
            value = value[0] if value else None
        if not value and is_nothing(value):
            return [] if self._managed is not None else None
        return [value] if self.as_list and not isinstance(value, list) else value

    @property
    def source(self) -> str:
        return self.inner.source

    @property
    def managed(self) -> tuple[Any, ...] | None:
        return self._managed


def holds(value: Any) -> bool:
    return not is_nothing(value) and value is not False


def evaluate_fields(
    fields: Iterable[tuple[str, Expression]],
    resource: dict[str, Any],
    groups: Groups,
    context: MappingContext,
) -> dict[str, Any]:
    """The object the fields describe; a field that gives nothing (None) is left out.

    A ``from_groups`` list gives ``[]`` rather than nothing, so it stays (see Shaped).
    """
    built = {}
    for name, expression in fields:
        value = expression.evaluate(resource, groups, context)
        if value is not None:
            built[name] = value
    return built


class ExpressionCompiler:
    """Compiles the (schema-validated) expressions of one mapping file."""

    def fields(self, spec: dict[str, Any], location: Location) -> list[tuple[str, Expression]]:
        return [(name, self.expression(value, (*location, name))) for name, value in spec.items()]

    def expression(self, spec: Any, location: Location) -> Expression:
        if isinstance(spec, str):
            return Shaped(self.reference(spec, location))
        if isinstance(spec, list):
            return ListOf([self.expression(item, (*location, i)) for i, item in enumerate(spec)])
        if isinstance(spec, dict):
            return self.form(spec, location)
        return Constant(spec)

    def reference(self, text: str, location: Location) -> Expression:
        """A bare string: ``bridge.<fact>`` or a SCIM attribute path."""
        if text.startswith(BRIDGE_PREFIX):
            name = text.removeprefix(BRIDGE_PREFIX)
            if name not in BRIDGE_FACTS:
                known = ", ".join(BRIDGE_PREFIX + fact for fact in BRIDGE_FACTS)
                raise ExpressionError(location, f"unknown bridge fact {text!r}; known: {known}")
            return BridgeFact(name)
        try:
            return Attribute(SourcePath(text))
        except InvalidSourcePath as error:
            raise ExpressionError(location, str(error)) from None

    def form(self, spec: dict[str, Any], location: Location) -> Expression:
        named = [key for key in SOURCES if key in spec]
        if len(named) != 1:
            raise ExpressionError(
                location,
                f"give exactly one of {', '.join(SOURCES)} (found {', '.join(named) or 'none'})",
            )
        if named[0] == "first_available":
            return self.first_available(spec, location)
        if named[0] == "from_groups":
            _check_revocable(spec, location)
        inner = self._source(named[0], spec, location)
        try:
            transforms = compile_transforms(spec.get("transform", []), (*location, "transform"))
        except TransformError as error:
            raise ExpressionError(error.location, error.message) from None
        return Shaped(
            inner,
            fallback=self._fallback(spec, location),
            transforms=transforms,
            transform_names=_transform_names(spec.get("transform", [])),
            default=spec.get("default"),
            as_list=spec.get("as") == "list",
            when=self._condition(spec, "when", location),
            unless=self._condition(spec, "unless", location),
        )

    def _source(self, key: str, spec: dict[str, Any], location: Location) -> Expression:
        value = spec[key]
        here = (*location, key)
        if key == "path":
            if value.startswith(BRIDGE_PREFIX):
                raise ExpressionError(here, f"{value!r} is a bridge fact: write value_of: {value}")
            return self.reference(value, here)
        if key == "value_of":
            return self.reference(value, here)
        if key == "template":
            return self.template(value, here)
        if key == "from_groups":
            return FromGroups(value, collect=spec.get("as") == "list")
        if key == "object":
            return ObjectOf(self.fields(value, here))
        return Constant(value)

    def _fallback(self, spec: dict[str, Any], location: Location) -> Expression | None:
        """The fallback; a bare path keeps all its values, for the form's own ``as`` to shape."""
        if "fallback" not in spec:
            return None
        fallback, here = spec["fallback"], (*location, "fallback")
        if isinstance(fallback, str):
            return self.reference(fallback, here)
        return self.expression(fallback, here)

    def _condition(self, spec: dict[str, Any], key: str, location: Location) -> Expression | None:
        return self.reference(spec[key], (*location, key)) if key in spec else None

    def first_available(self, spec: dict[str, Any], location: Location) -> FirstAvailable:
        """``{first_available: [candidate, …]}``: a record field of its own, each candidate a
        full expression (its transforms included), since the vendor is asked about the
        value exactly as it would be sent."""
        others = sorted(set(spec) - {"first_available"})
        if others:
            raise ExpressionError(
                (*location, others[0]),
                "first_available takes no modifiers: give each candidate its own transform",
            )
        if len(location) != 2 or location[0] != "record":
            raise ExpressionError(
                location, "first_available chooses a field of the record itself, not a nested one"
            )
        here = (*location, "first_available")
        return FirstAvailable(
            str(location[1]),
            [self.expression(item, (*here, i)) for i, item in enumerate(spec["first_available"])],
        )

    def template(self, text: str, location: Location) -> Template:
        """``"{name.givenName} {name.familyName}"``: each ``{…}`` is a reference; ``{{``/``}}`` escape braces."""
        parts: list[str | Expression] = []
        position = 0
        for match in PLACEHOLDER.finditer(text):
            parts.append(text[position : match.start()])
            position = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                parts.append(token[0])
            elif not match.group(1).strip():
                raise ExpressionError(location, "a template placeholder {} names no attribute")
            else:
                parts.append(self.reference(match.group(1).strip(), location))
        parts.append(text[position:])
        if not any(isinstance(part, Expression) for part in parts):
            raise ExpressionError(
                location, "a template names no attribute: write a constant instead"
            )
        return Template(text, [part for part in parts if part != ""])


def _transform_names(spec: Any) -> list[str]:
    """Each transform as the file writes it: ``lower``, ``replace {"pattern": …}``."""
    return [
        item
        if isinstance(item, str)
        else " ".join(f"{key} {json.dumps(arg)}" for key, arg in item.items())
        for item in (spec if isinstance(spec, list) else [spec])
    ]


def _check_revocable(spec: dict[str, Any], location: Location) -> None:
    """Refuse a ``from_groups`` form that could not revoke what a group granted.

    A single value needs a ``default`` (what a user outside every listed group
    gets); a list gives ``[]`` then, and manages the values of its table, so a
    ``fallback`` or ``transform`` would send values the bridge could never
    revoke (docs/architecture.md, "External IDs and re-import").
    """
    if spec.get("as") != "list":
        if is_nothing(spec.get("default")):
            raise ExpressionError(location, NEEDS_DEFAULT)
        return
    for key in ("fallback", "transform"):
        if key in spec:
            raise ExpressionError((*location, key), LIST_TAKES_NO.format(key=key))


def fresh_copy(value: Any) -> Any:
    """A copy of a literal from the file, so no record shares a list or object with another."""
    if isinstance(value, dict):
        return {key: fresh_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fresh_copy(item) for item in value]
    return value
