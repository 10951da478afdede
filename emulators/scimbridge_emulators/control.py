"""The ``/_emulator/`` endpoints: the test controls over HTTP, for an emulator started apart.

They mirror :class:`~scimbridge_emulators.server.RunningEmulator`'s methods, so
that ``scimbridge emulate acc`` can be driven with curl::

    curl -X POST localhost:9001/_emulator/faults -H 'Content-Type: application/json' \\
         -d '{"status": 429, "retry_after": 2, "times": 1, "path": "users:import"}'
    curl -X POST localhost:9001/_emulator/faults -H 'Content-Type: application/json' \\
         -d '{"after": "timeout", "delay": 5, "method": "POST", "path": "users:import"}'
    curl -X PATCH localhost:9001/_emulator/admin/accounts/ada@example.com \\
         -H 'Content-Type: application/json' -d '{"firstName": "Augusta"}'

They are neither logged, faulted nor authenticated.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from scimbridge_emulators.base import CONTROL_BLUEPRINT, current_emulator

control = Blueprint(CONTROL_BLUEPRINT, __name__, url_prefix="/_emulator")

FAULT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "status": int,
    "retry_after": (int, float),
    "times": int,
    "path": str,
    "delay": (int, float),
    "after": str,
    "method": str,
}


def _bad_request(message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), 400


def _json_object() -> dict[str, Any] | None:
    document = request.get_json(silent=True)
    return document if isinstance(document, dict) else None


@control.get("/state")
def state() -> Response:
    emulator = current_emulator()
    return jsonify(
        {"vendor": emulator.vendor, "users": emulator.users(), "counts": emulator.request_counts()}
    )


@control.get("/requests")
def requests_log() -> Response:
    return jsonify(current_emulator().requests(request.args.get("path_contains")))


@control.post("/faults")
def faults() -> tuple[Response, int]:
    document = _json_object()
    if document is None:
        return _bad_request(
            "send a JSON object with status, retry_after, times, method, path, delay or after"
        )
    unknown = set(document) - set(FAULT_FIELDS)
    if unknown:
        return _bad_request(f"unknown fault fields: {', '.join(sorted(unknown))}")
    for name, value in document.items():
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, FAULT_FIELDS[name])
        ):
            return _bad_request(f"{name} has the wrong type")
    try:
        current_emulator().fault(**document)
    except ValueError as error:
        return _bad_request(str(error))
    return jsonify({"queued": document}), 201


@control.post("/expire-tokens")
def expire_tokens() -> tuple[Response, int]:
    current_emulator().expire_tokens()
    return jsonify({}), 200


@control.post("/reject-users")
def reject_users() -> tuple[Response, int]:
    document = _json_object()
    users = document.get("users") if document else None
    if not isinstance(users, list) or not all(isinstance(user, str) for user in users):
        return _bad_request('send {"users": ["email or user name", ...]}')
    current_emulator().reject_users(users)
    return jsonify({"rejected": users}), 200


@control.post("/admin/accounts")
def admin_create() -> tuple[Response, int]:
    """Create an account as the vendor's admin would (fields as ``/state`` shows them)."""
    document = _json_object()
    if document is None:
        return _bad_request("send the account's fields as a JSON object")
    try:
        return jsonify(current_emulator().admin_create(document)), 201
    except (NotImplementedError, ValueError) as error:
        return _bad_request(str(error))


@control.patch("/admin/accounts/<path:name>")
def admin_change(name: str) -> tuple[Response, int]:
    """Change an account (by email or user name) as the vendor's admin would."""
    document = _json_object()
    if document is None:
        return _bad_request("send the fields to change as a JSON object")
    try:
        return jsonify(current_emulator().admin_change(name, document)), 200
    except KeyError:
        return jsonify({"error": f"no account named {name}"}), 404
    except (NotImplementedError, ValueError) as error:
        return _bad_request(str(error))


@control.post("/reset")
def reset() -> tuple[Response, int]:
    current_emulator().reset()
    return jsonify({}), 200
