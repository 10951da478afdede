"""SCIM filters and sorting (RFC 7644 §3.4.2.2, §3.4.2.3) translated into SQL on the search index.

The translation follows ``ScimFilter.match``, the library's evaluator, so the
database finds what the evaluator would:

- A comparison holds when some indexed value of the attribute satisfies it
  (a multi-valued attribute matches when any of its values does). ``ne`` is
  the negation of ``eq``: no value equals the operand.
- ``eq null`` holds when the attribute has no value; on a sub-attribute of a
  multi-valued attribute, also when one of its entries lacks it.
- Values are compared in their ``AttributeBinding.comparable`` form, which is
  how the index stores them, in a column per SCIM type: a string never equals
  a number, and ``co``/``sw``/``ew`` only apply to strings.
- A value filter (``emails[type eq "work" and value co "@x"]``) requires its
  whole inner filter of one entry: its conditions are correlated on the
  element index of that entry.
- An attribute the resource type does not declare matches none of its
  resources (RFC 7644 §3.4.2.1), so each resource type gets its own condition.
- A *derived* attribute, whose value the storage joins in from elsewhere rather
  than storing it (the bridge's delivery state), is compared on the SQL
  expression the storage gives for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from inspect import isclass
from typing import Any

from pydantic import BaseModel
from scim2_models import (
    AttributeBinding,
    InvalidFilterException,
    Resource,
    ScimFilter,
    SearchRequest,
)
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
    coerce_value,
)
from scim2_server.utils import parametrize
from sqlalchemy import (
    ColumnElement,
    FromClause,
    and_,
    case,
    exists,
    false,
    not_,
    null,
    or_,
    select,
    true,
)

from scimbridge.store.index import value_columns
from scimbridge.store.tables import TEXT_KEY_LENGTH, resources, search_index

Condition = ColumnElement[bool]
Derived = Mapping[str, ColumnElement[Any]]
"""Attribute URN to the SQL value of a derived attribute, correlated with ``resources``."""
RowCondition = Callable[[FromClause], Condition]
"""A condition on one row of the search index, given the alias the row is read through."""

ORDERINGS: dict[CompareOperator, Callable[[Any, Any], Condition]] = {
    CompareOperator.gt: lambda column, value: column > value,
    CompareOperator.ge: lambda column, value: column >= value,
    CompareOperator.lt: lambda column, value: column < value,
    CompareOperator.le: lambda column, value: column <= value,
}
SUBSTRINGS: dict[CompareOperator, Callable[[Any, str], Condition]] = {
    CompareOperator.co: lambda column, value: column.contains(value, autoescape=True),
    CompareOperator.sw: lambda column, value: column.startswith(value, autoescape=True),
    CompareOperator.ew: lambda column, value: column.endswith(value, autoescape=True),
}


def any_row(_row: FromClause) -> Condition:
    return true()


def equals(column: str, value: Any) -> RowCondition:
    """Equality on a value column; a string also matches on the indexed ``text_key``."""
    if column != "text":
        return lambda row: row.c[column] == value
    return lambda row: and_(row.c.text_key == value[:TEXT_KEY_LENGTH], row.c.text == value)


def row_condition(op: CompareOperator, column: str, value: Any) -> RowCondition | None:
    """``op`` applied to a value column; None when it cannot hold there (``co`` on a number)."""
    if op == CompareOperator.eq:
        return equals(column, value)
    if op in SUBSTRINGS:
        if column != "text":
            return None
        return lambda row: SUBSTRINGS[op](row.c.text, value)
    return lambda row: ORDERINGS[op](row.c[column], value)


class ResourceScope:
    """Conditions on whole resources: some row of the resource satisfies them."""

    def __init__(self, target: str, resource_type: str):
        self.target = target
        self.resource_type = resource_type

    def has(self, path: str, condition: RowCondition) -> Condition:
        row = search_index.alias()
        return resources.c.pk.in_(
            select(row.c.resource_pk).where(
                row.c.target == self.target,
                row.c.resource_type == self.resource_type,
                row.c.path == path,
                condition(row),
            )
        )


class ElementScope:
    """Conditions on one entry of a multi-valued attribute, seen through its marker row."""

    def __init__(self, marker: FromClause):
        self.marker = marker

    def has(self, path: str, condition: RowCondition) -> Condition:
        row = search_index.alias()
        return exists().where(
            row.c.resource_pk == self.marker.c.resource_pk,
            row.c.element == self.marker.c.element,
            row.c.path == path,
            condition(row),
        )


Scope = ResourceScope | ElementScope


class FilterCompiler(FilterVisitor[Condition]):
    """Translate a filter bound to one model into a condition on ``resources``.

    :param model: the resource model, or the entry model of a value filter.
    :param scope: where the rows are looked for.
    :param urn_prefix: the URN of the attribute a value filter selects from.
    """

    def __init__(
        self,
        model: type[BaseModel],
        scope: Scope,
        urn_prefix: str = "",
        derived: Derived | None = None,
    ):
        self.model = model
        self.scope = scope
        self.urn_prefix = urn_prefix
        self.derived = derived or {}
        self.resolver = parametrize(ScimFilter, model)

    def _resolve(self, attr_path: AttrPath, *, for_comparison: bool) -> AttributeBinding | None:
        bound = self.resolver(Present(attr_path))
        if for_comparison:
            return bound.resolve_comparison(attr_path, strict=False)
        return bound.resolve(attr_path, strict=False)

    def _path(self, binding: AttributeBinding) -> str:
        return f"{self.urn_prefix}.{binding.urn}" if self.urn_prefix else binding.urn

    def visit_comparison(self, node: Comparison) -> Condition:
        binding = self._resolve(node.attr_path, for_comparison=True)
        if binding is None:
            return false()
        expected = coerce_value(binding, node.value, node.op)
        if node.op == CompareOperator.ne:
            return not_(self._compare(binding, CompareOperator.eq, expected))
        return self._compare(binding, node.op, expected)

    def _compare(self, binding: AttributeBinding, op: CompareOperator, expected: Any) -> Condition:
        derived = self.derived.get(self._path(binding))
        if derived is not None:
            return derived_comparison(derived, op, expected)
        if expected is None:
            return self._missing(binding) if op == CompareOperator.eq else false()
        operand = value_columns(binding, expected)
        if not operand:
            return false()
        ((column, value),) = operand.items()
        condition = row_condition(op, column, value)
        if condition is None:
            return false()
        return self.scope.has(self._path(binding), condition)

    def _missing(self, binding: AttributeBinding) -> Condition:
        """``eq null``: no value, or an entry of a multi-valued attribute without the sub-attribute."""
        path = self._path(binding)
        absent = not_(self.scope.has(path, any_row))
        if not (binding.is_multivalued and binding.sub_field_name):
            return absent
        # The URN ends with ".<sub-attribute>"; what precedes is the attribute's.
        entries = path.rpartition(".")[0]
        return or_(
            absent,
            self.scope.has(entries, lambda marker: not_(ElementScope(marker).has(path, any_row))),
        )

    def visit_present(self, node: Present) -> Condition:
        binding = self._resolve(node.attr_path, for_comparison=False)
        if binding is None:
            return false()
        derived = self.derived.get(self._path(binding))
        if derived is not None:
            return and_(derived.is_not(None), derived != "")
        return self.scope.has(self._path(binding), lambda row: row.c.present.is_(True))

    def visit_not(self, node: Not) -> Condition:
        return not_(self.visit(node.expr))

    def visit_logical_expr(self, node: LogicalExpr) -> Condition:
        join = and_ if node.op == LogicalOperator.and_ else or_
        return join(*(self.visit(term) for term in node.terms))

    def visit_value_path(self, node: ValuePath) -> Condition:
        binding = self._resolve(node.attr_path, for_comparison=False)
        if binding is None:
            return false()
        entry_model = binding.field_type
        if isinstance(self.scope, ElementScope) or not binding.is_multivalued:
            raise InvalidFilterException(
                detail=f"'{node}' selects no values of a multi-valued attribute"
            )
        if not (isclass(entry_model) and issubclass(entry_model, BaseModel)):
            raise InvalidFilterException(
                detail=f"value filters on '{node.attr_path}' are not supported: its values are not complex"
            )
        path = self._path(binding)
        return self.scope.has(
            path,
            lambda marker: FilterCompiler(entry_model, ElementScope(marker), path).visit(
                node.val_filter
            ),
        )


def derived_comparison(value: ColumnElement[Any], op: CompareOperator, expected: Any) -> Condition:
    """``op`` on a derived attribute's SQL value, with the evaluator's semantics: ``eq null``
    holds when it has no value, a substring operator applies to strings only."""
    if expected is None:
        return value.is_(None) if op == CompareOperator.eq else false()
    if op in SUBSTRINGS:
        return SUBSTRINGS[op](value, expected) if isinstance(expected, str) else false()
    if op == CompareOperator.eq:
        return and_(value.is_not(None), value == expected)
    return ORDERINGS[op](value, expected)


def filter_condition(
    filter_ast: FilterNode,
    model: type[BaseModel],
    target: str,
    resource_type: str,
    derived: Derived | None = None,
) -> Condition:
    """The resources of one type (and target) that ``filter_ast`` keeps."""
    scope = ResourceScope(target, resource_type)
    return FilterCompiler(model, scope, derived=derived).visit(filter_ast)


def column_for(binding: AttributeBinding) -> str:
    """The value column holding an attribute's values, by its SCIM type."""
    kind = binding.target_type
    if isclass(kind) and issubclass(kind, bool):
        return "flag"
    if isclass(kind) and issubclass(kind, int | float | Decimal):
        return "number"
    if isclass(kind) and issubclass(kind, datetime):
        return "moment"
    return "text"


def sort_value(
    search_request: SearchRequest[Any], models: Mapping[str, type[Resource[Any]]]
) -> ColumnElement[Any] | None:
    """The value each resource sorts by, as ``SearchRequest.sort`` reads it, or None when unsorted.

    A multi-valued attribute sorts by its primary entry, else its first one:
    the index marks that entry ``representative``. Across resource types, the
    column is the one of the first type that declares the attribute; a type
    whose attribute is of another SCIM type sorts as missing.
    """
    if search_request.sort_by is None:
        return None
    bindings = {
        name: binding
        for name, model in models.items()
        if (binding := search_request.sort_binding(model)) is not None
    }
    if not bindings:
        return null()
    column = column_for(next(iter(bindings.values())))
    whens = [
        (resources.c.resource_type == name, _representative(binding.urn, column))
        for name, binding in bindings.items()
        if column_for(binding) == column
    ]
    return case(*whens, else_=null())


def _representative(path: str, column: str) -> ColumnElement[Any]:
    row = search_index.alias()
    return (
        select(row.c[column])
        .where(
            row.c.resource_pk == resources.c.pk,
            row.c.path == path,
            row.c.representative.is_(True),
        )
        .limit(1)
        .scalar_subquery()
    )
