"""One target's SCIM endpoint: authentication, dialect normalisation, one transaction per request.

A request either commits everything it wrote or nothing: the handler runs
inside one database transaction that an exception rolls back (Bulk operations
each get a savepoint from the storage, so one failed operation does not undo
the others, as RFC 7644 §3.7 wants).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from scim2_models import (
    Context,
    InvalidSyntaxException,
    PayloadTooLargeException,
    SCIMException,
)
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation

from scimbridge.config import Target
from scimbridge.scim import compat, screening
from scimbridge.scim.auth import Authenticator, refusal_headers
from scimbridge.scim.handler import BridgeHandler
from scimbridge.scim.provider import authentication_schemes
from scimbridge.scim.service import BridgeService
from scimbridge.store import Database, SqlStorage

log = logging.getLogger("scimbridge.scim")

NORMALISED = {Operation.create, Operation.replace, Operation.patch, Operation.bulk}
"""The operations whose bodies :mod:`scimbridge.scim.compat` brings to the RFC."""

WRITES = {Operation.create, Operation.replace, Operation.patch, Operation.delete, Operation.bulk}
"""The operations that may write; every other one runs in a reading transaction, which on
SQLite never waits for the write lock (see :meth:`scimbridge.store.Database.transaction`)."""

UNAUTHENTICATED = {Operation.service_provider_config}
"""RFC 7644 §4: the service provider configuration is readable without credentials."""


class ScimEndpoint:
    def __init__(
        self,
        target: Target,
        service: BridgeService,
        storage: SqlStorage,
        database: Database,
        max_body_bytes: int,
    ):
        self.target = target
        self.service = service
        self.database = database
        self.handler = BridgeHandler(service, storage)
        self.max_body_bytes = max_body_bytes
        self.authenticator = Authenticator(target.name, target.inbound)
        self.authentication_schemes = [
            scheme.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
            for scheme in authentication_schemes(target.inbound)
        ]
        """The schemes this target's ServiceProviderConfig announces: the ones it accepts
        (the configuration the targets share names those of every target)."""

    def body_limit(self, request: ScimRequest) -> int:
        """The largest body accepted: Bulk's announced maxPayloadSize, else the configured maximum."""
        bulk_limit = self.service.max_body_size(request)
        return self.max_body_bytes if bulk_limit is None else bulk_limit

    def serve(self, request: ScimRequest, client: str | None = None) -> ScimResponse:
        """:param client: the client's address, for the failure throttle (scim/throttle.py)."""
        try:
            response = self._dispatch(request, client)
        except SCIMException as exception:
            response = self.service.error_response(exception)
            response.headers.update(refusal_headers(exception))
        except Exception as exception:
            # Method, path and the exception only: neither the query string (a filter holds
            # user values) nor a traceback at ERROR. The database's messages carry the SQL,
            # without its parameters (``hide_parameters``, scimbridge.store.database).
            log.error(
                "%s unexpected error on %s %s: %s: %s",
                self.target.name,
                request.method,
                request.path,
                type(exception).__name__,
                exception,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            response = self.service.error_response(exception)
        response.headers.setdefault("Cache-Control", "no-cache")
        log.info(
            "%s %s %s -> %s",
            self.target.name,
            request.method,
            request.path,
            response.status.value,
        )
        return response

    def _dispatch(self, request: ScimRequest, client: str | None) -> ScimResponse:
        operation = self.service.match(request).operation
        if operation not in UNAUTHENTICATED:
            request.subject = self.authenticator.authenticate(
                request.header("Authorization"), client=client, writing=operation in WRITES
            )
        if operation is Operation.bulk:
            self.service.ensure_sent_bulk_payload_size(len(request.body))
        elif len(request.body) > self.max_body_bytes:
            raise PayloadTooLargeException(
                detail=f"The request body exceeds {self.max_body_bytes} bytes"
            )
        screening.screen(request.body, request.path, request.query)
        request.body = self._normalise(operation, request)
        with self.database.transaction(writing=operation in WRITES):
            response = self.handler.handle(request)
        if operation is Operation.service_provider_config and response.body is not None:
            response.body["authenticationSchemes"] = self.authentication_schemes
        return response

    @staticmethod
    def _normalise(operation: Operation, request: ScimRequest) -> bytes:
        """Bring request bodies to RFC 7644 (see :mod:`scimbridge.scim.compat`).

        A body that is not JSON is passed on as is, for the library to refuse.

        :raises InvalidSyntaxException: for a body without ``schemas``, which
            RFC 7643 §3 and RFC 7644 §3.5.2 make REQUIRED but scim2-models
            accepts.
        """
        if operation not in NORMALISED or not request.body:
            return request.body
        try:
            body = json.loads(request.body)
        except ValueError:
            return request.body
        if isinstance(body, dict) and not body.get("schemas"):
            raise InvalidSyntaxException(
                detail="The request body has no 'schemas' attribute, which SCIM requires"
            )
        if operation is Operation.bulk:
            _require_operation_schemas(body)
        if operation is Operation.bulk:
            body = compat.normalise_bulk(body)
        elif operation is Operation.patch:
            body = compat.normalise_patch(request.path.strip("/").split("/")[0], body)
        else:
            body = compat.normalise_resource(body)
        return json.dumps(body).encode()


def _require_operation_schemas(body: Any) -> None:
    """Refuse a Bulk request whose POST, PUT or PATCH data has no ``schemas``.

    scim2-models accepts such data, so without this check one operation of a
    Bulk request could write what the same request alone is refused for.

    :raises InvalidSyntaxException: naming the operation.
    """
    operations = body.get("Operations") if isinstance(body, dict) else None
    for index, operation in enumerate(operations if isinstance(operations, list) else []):
        if not isinstance(operation, dict):
            continue
        data = operation.get("data")
        if isinstance(data, dict) and not data.get("schemas"):
            raise InvalidSyntaxException(
                detail=f"Operations[{index}] ({operation.get('method')} {operation.get('path')}): "
                "its data has no 'schemas' attribute, which SCIM requires"
            )
