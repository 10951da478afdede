"""The applications ``bench_scim.py`` compares, and the users it loads into them.

gunicorn imports this module in its worker (``scim_apps:make_app()``), so each app
is built by :func:`make_app` from environment variables that ``bench_scim.py`` sets:

- ``BENCH_APP``: ``flask`` (the bare Flask ceiling), ``reference`` (scim2-server's own
  in-memory application) or ``bridge`` (scimbridge on the database of ``BENCH_CONFIG``);
- ``BENCH_USERS`` and ``BENCH_IDS`` for ``reference``: how many users to load into its
  memory when the worker starts, and the file to list their ids in.

The users of the bridge are loaded beforehand by the bench process, into the database
the worker then opens, so that the worker's memory is that of a bridge started on an
existing database and not of one that has just written it.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, Response, request
from scim2_models import ResourceType
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.storage import ScimStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import load_default_provider

TOKEN = "bench-bearer-token-0123456789"
"""Sent as ``Authorization: Bearer`` to every app (the bridge wants at least 16 characters)."""

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

DEPARTMENTS = ("Sales", "Engineering", "Finance", "Support", "Marketing", "Legal")
EXTERNAL_IDS = uuid.UUID("6f1c1a52-3d4e-4c1b-9a57-0bec00000000")
"""The namespace of the users' externalIds: the same user number always gets the same UUID."""

UNUSED_VENDOR = "http://127.0.0.1:9"
"""The vendor base URL: the discard port, never called since the bridge runs no worker."""
TARGET_A = "a"
TARGET_B = "b"
USERS_OF_B = 1000
"""Target B only serves the reads of the "reads during a Bulk" scenario."""

UserRow = tuple[str, str, str]
"""(id, userName, externalId) of a stored user: what a scenario needs to address one."""


def entra_user(n: int, prefix: str = "user") -> dict[str, Any]:
    """A user as Entra ID provisions it: work email, name, enterprise extension."""
    given, family = f"Given{n}", f"Family{n}"
    email = f"{prefix}{n}@example.com"
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": str(uuid.uuid5(EXTERNAL_IDS, f"{prefix}{n}")),
        "userName": email,
        "active": True,
        "displayName": f"{given} {family}",
        "name": {"formatted": f"{given} {family}", "givenName": given, "familyName": family},
        "emails": [{"value": email, "type": "work", "primary": True}],
        ENTERPRISE: {"employeeNumber": str(100000 + n), "department": DEPARTMENTS[n % 6]},
    }


def load_users(
    service: ScimService,
    storage: ScimStorage,
    count: int,
    *,
    batch: Callable[[], AbstractContextManager[Any]] = nullcontext,
    normalise: Callable[[Any], Any] = lambda body: body,
    batch_size: int = 1000,
) -> list[UserRow]:
    """Create ``count`` users the way the SCIM create handler does, minus HTTP.

    The body goes through the service's validation (``read_creation``) and the storage's
    ``create`` inside ``operation()``, as in ``ScimHandler.create``, so what is stored
    (with the bridge, outbox entries included) is what a POST /Users would store.
    ``batch`` wraps every ``batch_size`` creations, as one Bulk request's transaction does.
    """
    resource_type: ResourceType = service.resource_type_at("/Users")
    rows: list[UserRow] = []
    for start in range(0, count, batch_size):
        with batch(), service.provider:
            for n in range(start, min(start + batch_size, count)):
                body = json.dumps(normalise(entra_user(n))).encode()
                resource = service.read_creation(resource_type, body, "application/scim+json")
                with storage.operation():
                    created = storage.create(resource_type, resource)
                rows.append((str(created.id), str(created.user_name), str(created.external_id)))
    return rows


def write_rows(path: Path, rows: list[UserRow]) -> None:
    """List the users, one ``id<TAB>userName<TAB>externalId`` a line, for the load scripts.

    Written then renamed, so that a reader waiting for the file never reads half of it.
    """
    partial = path.with_suffix(".partial")
    partial.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    partial.replace(path)


# --- 1. The bare Flask ceiling --------------------------------------------------------


def bare_flask_app() -> Flask:
    """Fixed answers of the size of real ones: what HTTP, gunicorn and Flask cost alone.

    It checks the bearer token and parses the JSON bodies it is sent (as any SCIM server
    must), but stores nothing and validates nothing.
    """
    app = Flask("bare")
    user = {**entra_user(1), "id": "2819c223-7f76-453a-919d-413861904646"}
    user["meta"] = {"resourceType": "User", "version": 'W/"1"'}
    one_user = json.dumps(user).encode()
    listing = {"schemas": [LIST_RESPONSE], "startIndex": 1, "itemsPerPage": 1}
    one_result = json.dumps({**listing, "totalResults": 1, "Resources": [user]}).encode()
    page = json.dumps(
        {**listing, "totalResults": 100000, "itemsPerPage": 100, "Resources": [user] * 100}
    ).encode()
    scim = "application/scim+json"

    @app.before_request
    def authenticate() -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response(b'{"status": "401"}', status=401, mimetype=scim)
        return None

    @app.get("/scim/v2/Users/<user_id>")
    def get_user(user_id: str) -> Response:
        return Response(one_user, mimetype=scim)

    @app.get("/scim/v2/Users")
    def list_users() -> Response:
        return Response(one_result if "filter" in request.args else page, mimetype=scim)

    @app.post("/scim/v2/Users")
    def create_user() -> Response:
        request.get_json(force=True)
        return Response(one_user, status=201, mimetype=scim)

    @app.route("/scim/v2/Users/<user_id>", methods=["PUT", "PATCH"])
    def change_user(user_id: str) -> Response:
        request.get_json(force=True)
        return Response(one_user, mimetype=scim)

    @app.post("/scim/v2/Bulk")
    def bulk() -> Response:
        operations = request.get_json(force=True)["Operations"]
        answers = [
            {
                "method": operation["method"],
                "bulkId": operation.get("bulkId"),
                "location": f"/scim/v2/Users/{n}",
                "status": "201",
            }
            for n, operation in enumerate(operations)
        ]
        body = {"schemas": [BULK_RESPONSE], "Operations": answers}
        return Response(json.dumps(body).encode(), mimetype=scim)

    return app


# --- 2. The scim2-server reference ----------------------------------------------------


def reference_app(users: int, ids_file: Path) -> BearerTokenApplication:
    """scim2-server's own application, as its ``scim2-server`` command builds it.

    Default schemas, resource types (User with the enterprise extension, Group) and
    service provider configuration (Bulk up to 1,000 operations and 1 MiB), the bearer
    token scheme announced, over :class:`~scim2_server.memory.InMemoryStorage`. The
    users are loaded straight into the storage, then listed in ``ids_file``.
    """
    provider = load_default_provider()
    provider.config.authentication_schemes = [
        *(provider.config.authentication_schemes or []),
        BEARER_TOKEN_SCHEME,
    ]
    service = ScimService(provider)
    storage = InMemoryStorage()
    started = time.perf_counter()
    rows = load_users(service, storage, users)
    seconds = time.perf_counter() - started
    ids_file.with_suffix(".load.json").write_text(json.dumps({"load_seconds": seconds}))
    write_rows(ids_file, rows)
    return BearerTokenApplication(storage, provider, service=service, bearer_tokens=[TOKEN])


# --- 3, 4. scimbridge -----------------------------------------------------------------


def bridge_document(database: str) -> dict[str, Any]:
    """The bridge's configuration: two Confide targets, no delivery worker.

    Everything else keeps its default (payload and Bulk limits, log level), so the
    bridge is measured as it ships.
    """
    target = {
        "vendor": "confide",
        "base_url": UNUSED_VENDOR,
        "credentials": {"client_id": "bench", "client_secret": "bench-secret"},
        "inbound": {"bearer_tokens": [TOKEN]},
    }
    return {
        "database": database,
        "worker": False,
        "targets": [{"name": TARGET_A, **target}, {"name": TARGET_B, **target}],
    }


def write_bridge_config(path: Path, database: str) -> Path:
    path.write_text(yaml.safe_dump(bridge_document(database)), encoding="utf-8")
    return path


def load_bridge(config_file: Path, users: int) -> dict[str, list[UserRow]]:
    """Create the schema and the users of targets A (``users``) and B, in-process.

    One transaction per 1,000 users, each user in its savepoint, with the target's
    outbox listening: the rows a 1,000-operation Bulk request would write.
    """
    from scimbridge.app import Bridge
    from scimbridge.config import load_config
    from scimbridge.scim import compat

    bridge = Bridge(load_config(config_file))
    try:
        return {
            name: load_users(
                bridge.service,
                bridge.storages[name],
                count,
                batch=bridge.database.transaction,
                normalise=compat.normalise_resource,
            )
            for name, count in ((TARGET_A, users), (TARGET_B, USERS_OF_B))
        }
    finally:
        bridge.database.dispose()


def bridge_app(config_file: Path) -> Flask:
    from scimbridge.app import create_app

    return create_app(config_file)


# --- The gunicorn entry point ---------------------------------------------------------


def make_app() -> Any:
    """The WSGI application ``BENCH_APP`` names (gunicorn: ``scim_apps:make_app()``)."""
    kind = os.environ["BENCH_APP"]
    if kind == "flask":
        return bare_flask_app()
    if kind == "reference":
        return reference_app(int(os.environ["BENCH_USERS"]), Path(os.environ["BENCH_IDS"]))
    if kind == "bridge":
        return bridge_app(Path(os.environ["BENCH_CONFIG"]))
    raise ValueError(f"BENCH_APP={kind!r}: expected flask, reference or bridge")


def iter_rows(path: Path) -> Iterator[UserRow]:
    for line in path.read_text(encoding="utf-8").splitlines():
        user_id, user_name, external_id = line.split("\t")
        yield user_id, user_name, external_id
