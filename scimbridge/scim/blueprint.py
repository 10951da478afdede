"""The Flask side of the SCIM endpoints: ``/scim/v2/<target>/...`` to scim2-server and back.

Flask routes and reads the HTTP request; everything SCIM (validation,
filters, PATCH, Bulk, ETags, discovery, errors) is the library's
:class:`~scim2_server.handler.ScimHandler`, run by the target's
:class:`~scimbridge.scim.endpoint.ScimEndpoint`.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from scim2_models import NotFoundException
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse

from scimbridge.scim.endpoint import ScimEndpoint
from scimbridge.scim.throttle import client_address

PREFIX = "/scim/v2"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

scim = Blueprint("scim", __name__, url_prefix=PREFIX)


def to_flask(response: ScimResponse) -> Response:
    body = b"" if response.body is None else json.dumps(response.body).encode()
    return Response(body, status=response.status.value, headers=response.headers)


def read_request(endpoint: ScimEndpoint, origin: str, target: str, path: str) -> ScimRequest:
    """Build the framework-free request; the body is read up to one byte past the limit,
    so that the endpoint answers 413 instead of buffering an unbounded body.

    :param origin: where the client reached the bridge (:mod:`scimbridge.scim.locations`).
    """
    scim_request = ScimRequest(
        method=request.method,
        base_url=f"{origin}{PREFIX}/{target}",
        path=f"/{path}",
        query=request.args.to_dict(),
        headers=list(request.headers.items()),
    )
    limit = endpoint.body_limit(scim_request)
    scim_request.body = request.stream.read(limit + 1)
    return scim_request


@scim.route("/<target>", defaults={"path": ""}, methods=METHODS)
@scim.route("/<target>/<path:path>", methods=METHODS)
def serve(target: str, path: str) -> Response:
    bridge = current_app.extensions["scimbridge"]
    endpoints: dict[str, ScimEndpoint] = bridge.endpoints
    endpoint = endpoints.get(target)
    if endpoint is None:
        unknown = NotFoundException(detail=f"No target named {target!r} is configured")
        return to_flask(next(iter(endpoints.values())).service.error_response(unknown))
    origin = bridge.locations.origin(request)
    client = client_address(
        request.remote_addr,
        request.headers.getlist("X-Forwarded-For"),
        bridge.config.trusted_proxies,
        request.headers.getlist("Forwarded"),
    )
    return to_flask(endpoint.serve(read_request(endpoint, origin, target, path), client))
