"""The bridge's tweaks to the library's SCIM service, each one answering an IdP's expectation."""

from __future__ import annotations

import re
from typing import Any, Union

from scim2_models import (
    BulkRequest,
    BulkResponse,
    Context,
    Error,
    InvalidFilterException,
    ListResponse,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimProvider,
    SearchRequest,
)
from scim2_models.path import Comparison, FilterVisitor, LogicalExpr, Not, Present, ValuePath
from scim2_server.bulk import BulkPlan
from scim2_server.conditions import Conditions
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.storage import SearchPage
from scim2_server.utils import parametrize

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.scim import compat
from scimbridge.scim.bulk import BridgeBulkPlan
from scimbridge.scim.screening import filter_holds_nul

_PYDANTIC_NOISE = (
    re.compile(r"^\d+ validation errors? for .+\n", re.MULTILINE),
    re.compile(r"^\s*For further information visit \S+\n?", re.MULTILINE),
    re.compile(r" \[type=[^\]]*\]"),
)


def readable_detail(detail: str | None) -> str | None:
    """Turn a pydantic validation report into the sentence an admin reads in the IdP's log.

    ``"1 validation error for EnterpriseUser\\nmanager\\n  Input should be ... [type=...]"``
    becomes ``"manager: Input should be ..."`` (RFC 7644 §3.12: ``detail`` is human-readable).
    """
    if not detail:
        return detail
    for noise in _PYDANTIC_NOISE:
        detail = noise.sub("", detail)
    lines = [line.strip() for line in detail.strip().splitlines() if line.strip()]
    if len(lines) >= 2 and len(lines) % 2 == 0:
        pairs = [f"{lines[i]}: {lines[i + 1]}" for i in range(0, len(lines) - 1, 2)]
        return "; ".join(pairs)
    return " ".join(lines)


def _filter_key(payload: Any) -> str | None:
    """The key of a search's ``filter`` (attribute names are case-insensitive, RFC 7643 §2.1)."""
    if not isinstance(payload, dict):
        return None
    return next((key for key in payload if key.casefold() == "filter"), None)


def _ensure_no_nul(payload: Any) -> None:
    """:raises InvalidFilterException: for a filter holding a NUL, which PostgreSQL cannot compare."""
    key = _filter_key(payload)
    if key is not None and isinstance(payload[key], str) and filter_holds_nul(payload[key]):
        raise InvalidFilterException(
            detail="The filter contains a NUL character (U+0000), which no value may hold"
        )


def _with_bare_values_quoted(payload: Any) -> tuple[Any, bool]:
    """The search with its filter's unquoted values quoted, and whether that changed it."""
    key = _filter_key(payload)
    if key is None or not isinstance(payload[key], str):
        return payload, False
    quoted = compat.quote_bare_values(payload[key])
    return {**payload, key: quoted}, quoted != payload[key]


class TermCounter(FilterVisitor[int]):
    """The number of comparisons and presence tests of a filter, those inside a value
    selection (``emails[type eq "work" and value co "@x"]``) included."""

    def visit_comparison(self, node: Comparison) -> int:
        return 1

    def visit_present(self, node: Present) -> int:
        return 1

    def visit_not(self, node: Not) -> int:
        return self.visit(node.expr)

    def visit_logical_expr(self, node: LogicalExpr) -> int:
        return sum(self.visit(term) for term in node.terms)

    def visit_value_path(self, node: ValuePath) -> int:
        return self.visit(node.val_filter)


class BridgeService(ScimService):
    """A :class:`~scim2_server.service.ScimService` with the bridge's departures.

    - PATCH answers 200 with the resource. RFC 7644 §3.5.2 allows 204 when no
      attributes were requested, but Okta and Entra ID read the updated
      resource from the PATCH response, and scim-sanity's strict profile
      requires it.
    - A PUT that leaves out the delivery extension keeps its ``paused``.
    - A listing keeps the ``returned: request`` attributes its ``attributes``
      asked for.
    - A filter holds at most ``max_filter_terms`` terms.
    - A Bulk request is measured against maxPayloadSize as the client sent it.
    - Every operation of a circular Bulk reference is refused as circular.
    - A filter's unquoted values are read as strings where that is unambiguous.
    """

    def __init__(self, provider: ScimProvider, *, max_filter_terms: int):
        super().__init__(provider)
        self.max_filter_terms = max_filter_terms
        self._messages = self._message_models()

    def _message_models(self) -> dict[type[Any], type[Any]]:
        """The message models the library parametrises on every listing and Bulk request,
        built once and held here.

        pydantic keeps a parametrised generic (``ListResponse[Union[User, Group]]``) in a
        weak cache only: once a garbage collection frees it, the next request builds the
        class again, which costs 10-20 ms, and a GET with a filter was rebuilding it about
        one time in ten. A strong reference keeps the cached class alive.
        """
        resources: Any = Union[tuple(self.get_models())]  # noqa: UP007 (a runtime tuple of models)
        return {
            message: parametrize(message, resources)
            for message in (ListResponse, BulkRequest, BulkResponse)
        }

    def read_search(
        self, resource_types: list[ResourceType], payload: Any
    ) -> tuple[SearchRequest[Any], Any]:
        """The library's search request, refused with 400 ``invalidFilter`` (RFC 7644 §3.12)
        when its filter has more terms than ``max_filter_terms``.

        A filter the library refuses is read once more with its unquoted values quoted,
        where that is unambiguous (:func:`scimbridge.scim.compat.quote_bare_values`); a
        filter that still fails is refused with the error of the filter as sent. A filter
        holding a NUL character is refused before any of this (:mod:`scimbridge.scim.screening`).

        Both ``GET ?filter=`` and ``POST .search`` come through here. Each term is a
        condition of the SQL query: thousands of them take the database seconds, and
        SQLite refuses about a thousand ("Expression tree is too large") with a 500.
        """
        _ensure_no_nul(payload)
        try:
            search_request, position = super().read_search(resource_types, payload)
        except InvalidFilterException as as_sent:
            payload, quoted = _with_bare_values_quoted(payload)
            if not quoted:
                raise
            try:
                search_request, position = super().read_search(resource_types, payload)
            except InvalidFilterException:
                raise as_sent from None
        if search_request.filter is not None:
            terms = TermCounter().visit(search_request.filter.ast)
            if terms > self.max_filter_terms:
                raise InvalidFilterException(
                    detail=f"The filter has {terms} terms; at most {self.max_filter_terms} "
                    "comparisons and presence tests are accepted in one filter"
                )
        return search_request, position

    def read_bulk(self, body: bytes, content_type: str | None) -> BulkPlan:
        """The library's plan, as :class:`~scimbridge.scim.bulk.BridgeBulkPlan`: both (or
        all) operations of a circular reference are refused as circular."""
        plan = super().read_bulk(body, content_type)
        return BridgeBulkPlan(plan.operations, plan.fail_on_errors)

    def ensure_bulk_payload_size(self, size: int) -> None:
        """Measure nothing here: :meth:`ensure_sent_bulk_payload_size` measured the body.

        The library measures the body :meth:`read_bulk` is given, and the endpoint gives it
        the body brought to the RFC by :mod:`scimbridge.scim.compat` and encoded again,
        which is larger than the one sent (spaces after separators, non-ASCII escaped):
        a request under the announced maxPayloadSize would be refused. RFC 7644 §3.7.4
        limits the request as the client sent it.
        """

    def ensure_sent_bulk_payload_size(self, size: int) -> None:
        """Refuse with 413 a Bulk request body, as received, over maxPayloadSize
        (RFC 7644 §3.7.4)."""
        super().ensure_bulk_payload_size(size)

    @staticmethod
    def error_of(exception: Exception) -> Error:
        error = ScimService.error_of(exception)
        error.detail = readable_detail(error.detail)
        return error

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        published = self.publish(base_url, resource)
        return self.resource_response(
            published, Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters
        )

    def apply_replacement(
        self, current: Resource[Any], replacement: Resource[Any], conditions: Conditions
    ) -> Resource[Any] | None:
        """Keep the delivery extension a full-replace PUT leaves out.

        Okta replaces a user with what it knows of it, and no IdP knows the
        bridge's own extension: a PUT would otherwise resume a paused user's
        delivery behind the admin's back. RFC 7644 §3.5.1 lets the service
        provider "assign a default value" to an omitted readWrite attribute;
        the default is the current one.
        """
        extension = type(current).get_extension_model(DELIVERY_STATE)
        if extension is not None and replacement[extension] is None:
            replacement[extension] = current[extension]
        return super().apply_replacement(current, replacement, conditions)

    def search_response(
        self,
        base_url: str,
        resource_types: list[ResourceType],
        page: SearchPage,
        search_request: SearchRequest[Any],
    ) -> ScimResponse:
        """The library's listing, whose resources are dumped once with the request's parameters.

        scim2-server 0.8.3 dumps each resource with ``attributes`` applied, then
        validates and dumps the whole ListResponse again without them, which
        drops every ``returned: request`` attribute (RFC 7643 §7) that the
        request asked for: ``GET /Users?attributes=urn:…:delivery:2.0:User:status``
        answered no status.
        """
        response = super().search_response(base_url, resource_types, page, search_request)
        if search_request.attributes and response.body is not None and page.resources:
            response.body["Resources"] = [
                self.publish(base_url, resource).model_dump(
                    scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=search_request
                )
                for resource in page.resources
            ]
        return response

    def listing(
        self, total: int, search_request: SearchRequest[Any], resources: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A ListResponse (RFC 7644 §3.4.2) of resources already in their response form,
        as :meth:`search_response` writes it for a search paged by index."""
        envelope: dict[str, Any] = self._messages[ListResponse](
            total_results=total,
            items_per_page=len(resources),
            start_index=search_request.start_index,
        ).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        envelope["Resources"] = resources
        return envelope
