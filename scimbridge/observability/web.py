"""What the bridge's Flask application shows an operator: request ids, metrics, health.

- every request gets a request id: the client's ``X-Request-Id`` when it is sane (at most
  64 characters of letters, digits and ``._:/+=@-``, so it is safe in a log line and fits
  the outbox column), else a new one; it is set in
  :data:`scimbridge.observability.context.request_id` for the request, and answered in
  ``X-Request-Id``;
- every SCIM request to a configured target is counted and timed
  (:class:`~scimbridge.observability.metrics.ScimMetrics`);
- ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics`` (Prometheus), and
  ``/scim/v2/<target>/Status``, a target's delivery status for the holders of its inbound
  credentials (an IdP administrator sees their target, and only theirs).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, g, jsonify, request
from scim2_models import NotFoundException, SCIMException

from scimbridge.observability.context import request_id
from scimbridge.observability.health import delivery_status, readiness
from scimbridge.observability.logs import bind_fields, unbind_fields
from scimbridge.scim.auth import refusal_headers
from scimbridge.scim.blueprint import PREFIX, to_flask
from scimbridge.scim.throttle import client_address

if TYPE_CHECKING:
    from scimbridge.app import Bridge

REQUEST_ID_HEADER = "X-Request-Id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,63}")
"""A client's request id kept as is: short and printable, nothing a log reader could be
fooled by (no spaces, quotes or control characters)."""


def request_id_of(header: str | None) -> str:
    """The client's request id when it is sane, else a new one."""
    if header is not None and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def install(app: Flask) -> None:
    """Add the request hooks and the operator's endpoints to the bridge's application (the
    views find the bridge in ``app.extensions``, as the SCIM blueprint does)."""
    app.before_request(_begin)
    app.after_request(_answer)
    app.teardown_request(_end)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/metrics", "metrics", metrics)
    app.add_url_rule(f"{PREFIX}/<target>/Status", "target_status", target_status)


def _bridge() -> Bridge:
    bridge: Bridge = current_app.extensions["scimbridge"]
    return bridge


def _scim_target() -> str | None:
    """The configured target a SCIM request is for; None for another request or an unknown
    target (whose name, chosen by the client, must not become a metric label)."""
    target = (request.view_args or {}).get("target")
    return target if request.blueprint == "scim" and target in _bridge().endpoints else None


def _begin() -> None:
    g.scimbridge_started = time.perf_counter()
    g.scimbridge_request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER))
    g.scimbridge_request_token = request_id.set(g.scimbridge_request_id)
    g.scimbridge_fields_token = bind_fields(target=_scim_target())


def _answer(response: Response) -> Response:
    """Answer the request id; count and time a SCIM request (``_begin`` ran for any request
    that gets here: Flask runs the app's ``before_request`` hooks first)."""
    response.headers[REQUEST_ID_HEADER] = g.scimbridge_request_id
    target = _scim_target()
    if target is not None:
        seconds = time.perf_counter() - g.scimbridge_started
        _bridge().metrics.scim.answered(target, request.method, response.status_code, seconds)
    return response


def _end(_error: BaseException | None) -> None:
    """Unbind the request's id and fields: the server's thread serves other requests next."""
    fields = g.pop("scimbridge_fields_token", None)
    if fields is not None:
        unbind_fields(fields)
    token = g.pop("scimbridge_request_token", None)
    if token is not None:
        request_id.reset(token)


def healthz() -> Response:
    """Liveness: the process answers. Asks nothing else, so a database outage never gets
    the bridge restarted (``/readyz`` reports it)."""
    return jsonify(status="ok")


def readyz() -> tuple[Response, int]:
    """Readiness: 200 when the database answers at the expected schema and the mappings are
    loaded; 503 naming each check that failed. ``targets`` names each target in a state an
    operator must act on (``credentials refused``), when there is one; it leaves the bridge
    ready."""
    bridge = _bridge()
    verdict = readiness(bridge.database, bridge.config.targets, bridge.mappings)
    status = "ready" if verdict.ready else "not ready"
    named = {"targets": verdict.targets} if verdict.targets else {}
    body = jsonify(status=status, checks=verdict.checks, **named)
    return body, 200 if verdict.ready else 503


def metrics() -> Response:
    body, content_type = _bridge().metrics.exposition()
    return Response(body, content_type=content_type)


def target_status(target: str) -> Response:
    """The delivery status of one target, for a client holding that target's inbound
    credentials (checked by its SCIM endpoint's authenticator, failure throttle included)."""
    bridge = _bridge()
    endpoint = bridge.endpoints.get(target)
    try:
        if endpoint is None:
            raise NotFoundException(detail=f"No target named {target!r} is configured")
        client = client_address(
            request.remote_addr,
            request.headers.getlist("X-Forwarded-For"),
            bridge.config.trusted_proxies,
            request.headers.getlist("Forwarded"),
        )
        endpoint.authenticator.authenticate(request.headers.get("Authorization"), client=client)
    except SCIMException as refusal:
        service = endpoint.service if endpoint else next(iter(bridge.endpoints.values())).service
        error = service.error_response(refusal)
        error.headers.update(refusal_headers(refusal))
        return to_flask(error)
    changes = {target: bridge.changes_of(endpoint.target)}
    (status,) = delivery_status(bridge.database, [endpoint.target], changes)
    response = jsonify(status.as_json())
    response.headers["Cache-Control"] = "no-cache"
    return response
