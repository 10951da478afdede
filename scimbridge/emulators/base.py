"""What the five vendor emulators share: test controls, request handling, the Flask wiring.

A vendor module subclasses :class:`VendorEmulator`, states its facts as class
attributes (URL prefix, token lifetime, error body shape), keeps its end state,
and registers its routes. Everything else happens here, the same way for every
vendor, in this order for each request:

1. the request is logged (secrets redacted);
2. a queued fault for its path, if any, plays (delay, then the vendor's error);
3. the request takes the emulator's lock, so views never race each other or the
   test controls;
4. the vendor authenticates it, unless the route is one of its public routes;
5. the view runs; a :class:`Rejection` it raises becomes the vendor's error
   shape, and so does any other error (never a stack trace).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from scimbridge.emulators.state import (
    Fault,
    FaultQueue,
    LoggedRequest,
    RequestLog,
    TokenStore,
    redact,
)

log = logging.getLogger(__name__)

EXTENSION_KEY = "scimbridge_emulator"
"""Where a Flask app built by :func:`build_app` keeps its emulator."""


class Rejection(Exception):
    """The vendor refuses the request; rendered in the vendor's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}


class VendorEmulator(ABC):
    """One vendor's API: its state, its rules, and the controls tests use to misbehave it."""

    vendor: ClassVar[str]
    url_prefix: ClassVar[str] = ""
    """Path between the host and the API, part of the base URL a target configures."""
    token_ttl_seconds: ClassVar[float]
    sliding_tokens: ClassVar[bool] = False
    public_endpoints: ClassVar[frozenset[str]] = frozenset()
    """Views (by method name) that need no token: the token endpoints."""
    unsupported_media_status: ClassVar[int] = 415
    demo_credentials: ClassVar[dict[str, str]]
    demo_options: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        credentials: dict[str, str] | None = None,
        *,
        async_polls: int = 1,
        token_ttl_seconds: float | None = None,
    ):
        """:param async_polls: how many status polls answer "still running" before an
        asynchronous job (Confide task, Rocket.Chat import) reports its end."""
        self.credentials = dict(credentials if credentials is not None else self.demo_credentials)
        self.async_polls = async_polls
        self.lock = threading.RLock()
        self.tokens = TokenStore(token_ttl_seconds or self.token_ttl_seconds, self.sliding_tokens)
        self.faults = FaultQueue()
        self.log = RequestLog()
        self.rejected: set[str] = set()
        self.reset_state()

    # -- what a vendor module provides ---------------------------------------------------------

    @abstractmethod
    def reset_state(self) -> None:
        """Forget every vendor-side object (users, jobs, import operations)."""

    @abstractmethod
    def end_state(self) -> list[dict[str, Any]]:
        """The vendor's users as the vendor would list them."""

    @abstractmethod
    def register_routes(self, app: Flask) -> None:
        """Add the vendor's routes (with :attr:`url_prefix`) to the app."""

    @abstractmethod
    def authenticate(self) -> None:
        """Check the current request's credentials.

        :raises Rejection: with the vendor's status for a missing, unknown or expired token.
        """

    @abstractmethod
    def error_body(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        """The vendor's documented error document."""

    def rate_limit_headers(self, retry_after: float | None) -> dict[str, str]:
        """Headers of a 429; most vendors send ``Retry-After`` in seconds (RFC 9110 §10.2.3)."""
        if retry_after is None:
            return {}
        return {"Retry-After": str(math.ceil(retry_after))}

    # -- test controls -------------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.end_state())

    def requests(self, path_contains: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return self.log.matching(path_contains)

    def request_counts(self) -> dict[str, int]:
        with self.lock:
            return dict(self.log.counts())

    def fault(
        self,
        status: int | None = None,
        retry_after: float | None = None,
        times: int = 1,
        path: str | None = None,
        delay: float | None = None,
    ) -> None:
        with self.lock:
            self.faults.add(Fault(status, retry_after, delay, times, path))

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.expire_all()

    def reject_users(self, identities: Iterable[str]) -> None:
        """Make these users (by email or user name) fail one by one, as the vendor reports it."""
        with self.lock:
            self.rejected.update(identity.lower() for identity in identities)

    def reset(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.faults.clear()
            self.log.clear()
            self.rejected.clear()
            self.reset_state()

    # -- helpers for vendor views --------------------------------------------------------------

    def is_rejected(self, *identities: str | None) -> bool:
        return any(identity and identity.lower() in self.rejected for identity in identities)

    def route(self, app: Flask, rule: str, view: Callable[..., Any], methods: list[str]) -> None:
        app.add_url_rule(self.url_prefix + rule, view_func=view, methods=methods)

    def json_body(self) -> Any:
        """The request's JSON document, refusing another Content-Type as the vendor does."""
        if request.mimetype != "application/json":
            raise Rejection(self.unsupported_media_status, "Content-Type must be application/json")
        try:
            return json.loads(request.get_data(as_text=True))
        except ValueError:
            raise Rejection(400, "the request body is not valid JSON") from None

    def authorization(self, *schemes: str) -> str | None:
        """The credential after one of these ``Authorization`` schemes (case-insensitive)."""
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() in {name.lower() for name in schemes} and credential.strip():
            return credential.strip()
        return None

    def error_response(
        self,
        status: int,
        message: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        response = jsonify(self.error_body(status, message, extra or {}))
        response.status_code = status
        response.headers.update(headers or {})
        return response

    def fault_response(self, fault: Fault) -> Response:
        """The vendor's answer for an injected status: its rate-limit headers on a 429,
        ``Retry-After`` on any other status when one was asked for (a 503 may carry it)."""
        assert fault.status is not None
        if fault.status == 429:
            headers = self.rate_limit_headers(fault.retry_after)
        else:
            headers = VendorEmulator.rate_limit_headers(self, fault.retry_after)
        return self.error_response(fault.status, "injected fault", headers=headers)


CONTROL_BLUEPRINT = "emulator_control"


def current_emulator() -> VendorEmulator:
    return current_app.extensions[EXTENSION_KEY]


def _logged_json() -> Any:
    if not request.is_json:
        return None
    try:
        return redact(json.loads(request.get_data(as_text=True)))
    except ValueError:
        return None


def _before_request() -> Response | None:
    if request.blueprint == CONTROL_BLUEPRINT:
        return None
    emulator = current_emulator()
    rule = request.url_rule.rule if request.url_rule else "unrouted"
    g.logged = LoggedRequest(
        method=request.method,
        path=request.path,
        endpoint=f"{request.method} {rule}",
        query=request.args.to_dict(),
        json=_logged_json(),
    )
    with emulator.lock:
        fault = emulator.faults.take(request.path)
    if fault and fault.delay:
        time.sleep(fault.delay)
    if fault and fault.status:
        return emulator.fault_response(fault)
    emulator.lock.acquire()
    g.locked = True
    if request.url_rule is not None and request.endpoint not in emulator.public_endpoints:
        emulator.authenticate()
    return None


def _after_request(response: Response) -> Response:
    logged: LoggedRequest | None = g.pop("logged", None)
    if logged is not None:
        logged.status = response.status_code
        emulator = current_emulator()
        with emulator.lock:
            emulator.log.record(logged)
    return response


def _teardown_request(_error: BaseException | None) -> None:
    if g.pop("locked", False):
        current_emulator().lock.release()


def _rejection(rejection: Rejection) -> Response:
    return current_emulator().error_response(
        rejection.status, rejection.message, rejection.extra, rejection.headers
    )


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return current_emulator().error_response(status, error.name)


def _unexpected_error(error: Exception) -> Response:
    log.exception("emulator error while serving %s %s", request.method, request.path)
    return current_emulator().error_response(500, "Internal server error")


def build_app(emulator: VendorEmulator) -> Flask:
    """A Flask app serving the emulator's routes and the ``/_emulator/`` controls."""
    from scimbridge.emulators.control import control  # control builds on this module

    app = Flask(f"scimbridge.emulators.{emulator.vendor}")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = emulator
    emulator.register_routes(app)
    app.register_blueprint(control)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)
    app.register_error_handler(Rejection, _rejection)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app
