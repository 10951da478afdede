"""What the five vendor emulators share: test controls, request handling, the Flask wiring.

A vendor module subclasses :class:`VendorEmulator`, states its facts as class
attributes (URL prefix, token lifetime, error body shape), keeps its end state,
and registers its routes. Everything else happens here, the same way for every
vendor, in this order for each request:

1. the request is logged (secrets redacted), with when it arrived and, once answered,
   its status and the rate-limit headers of the answer;
2. a queued fault for its path (and method), if any, plays (delay, then the vendor's error);
3. the request takes the emulator's lock, so views never race each other or the
   test controls, and time-driven vendor state catches up (:meth:`VendorEmulator.catch_up`);
4. the vendor authenticates it, unless the route is one of its public routes,
   then counts it against the vendor's rate limit, if it documents one
   (:meth:`VendorEmulator.rate_limit_bucket`); over the limit it is a 429;
5. the view runs; a :class:`Rejection` it raises becomes the vendor's error
   shape, and so does any other error (never a stack trace);
6. a fault played ``after`` the request holds the answer back or drops the
   connection, outside the lock (:class:`AfterFaults`).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from scimbridge_emulators.state import (
    RATE_LIMIT_HEADERS,
    Fault,
    FaultQueue,
    LoggedRequest,
    Quota,
    QuotaCheck,
    RateLimiter,
    RequestLog,
    TokenStatus,
    TokenStore,
    redact,
    same_secret,
)

log = logging.getLogger(__name__)

EXTENSION_KEY = "scimbridge_emulator"
"""Where a Flask app built by :func:`build_app` keeps its emulator."""
AFTER_FAULT_KEY = "scimbridge.emulator.after_fault"
"""Where a request's WSGI environ carries the fault to play once it was served."""


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


@dataclass(frozen=True)
class Bucket:
    """The rate-limit counter a call draws on (``key``) and the vendor's limit for it."""

    key: str
    quota: Quota


class VendorEmulator(ABC):
    """One vendor's API: its state, its rules, and the controls tests use to misbehave it."""

    vendor: ClassVar[str]
    url_prefix: ClassVar[str] = ""
    """Path between the host and the API, part of the base URL a target configures."""
    token_ttl_seconds: ClassVar[float | None] = None
    """How long a token the vendor issues lives (the constructor option of that name scales it
    down for tests); None for a vendor that issues none (a static key on every call)."""
    sliding_tokens: ClassVar[bool] = False
    public_endpoints: ClassVar[frozenset[str]] = frozenset()
    """Views (by method name) that need no token: the token endpoints."""
    unsupported_media_status: ClassVar[int] = 415
    demo_credentials: ClassVar[dict[str, str]]
    demo_options: ClassVar[dict[str, Any]] = {}
    demo_port: ClassVar[int | None] = None
    """Where ``scimbridge demo`` serves this emulator (the built-in vendors use 9101-9105,
    which the quick start names); None: any free port."""
    rate_limit_options: ClassVar[tuple[str, str] | None] = None
    """The constructor options that scale the vendor's documented rate limit, calls and
    window in seconds (``scimbridge emulate --rate-limit CALLS/SECONDS``); None when the
    vendor documents no limit."""

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
        self.limiter = RateLimiter()
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

    def stored_account(self, name: str) -> dict[str, Any] | None:
        """The stored, mutable account whose email or user name is ``name`` (any case), as
        :meth:`end_state` shows its fields; None when there is none. Vendors whose admin
        console can change accounts override it (:meth:`admin_change`)."""
        raise NotImplementedError(f"the {self.vendor} emulator plays no admin")

    def create_account(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create an account as an admin would in the product (not through the import API),
        with ``fields`` as :meth:`end_state` shows them; the vendor fills in its own id and
        defaults. Returns the account as :meth:`end_state` shows it."""
        raise NotImplementedError(f"the {self.vendor} emulator plays no admin")

    def rate_limit_headers(self, retry_after: float | None) -> dict[str, str]:
        """Headers of an injected 429; most vendors send ``Retry-After`` in seconds
        (RFC 9110 §10.2.3), and none when the fault gives no ``retry_after``."""
        if retry_after is None:
            return {}
        return {"Retry-After": str(math.ceil(retry_after))}

    def rate_limit_bucket(self) -> Bucket | None:
        """The vendor's rate limit for the current authenticated request; None: not limited."""
        return None

    def quota_headers(self, check: QuotaCheck) -> dict[str, str]:
        """Headers of any answer to a counted call: by default ``Retry-After`` on a refusal."""
        if check.allowed:
            return {}
        return {"Retry-After": str(math.ceil(check.wait_seconds))}

    def too_many_requests(self, wait_seconds: float | None) -> str:
        """The message of a 429, whether the limiter or a fault refused the call."""
        return "Too many requests"

    def catch_up(self) -> None:
        """Bring time-driven vendor state (an asynchronous import coming due) up to now.

        Called under the lock before every request and every test control that
        reads state, so the emulator needs no background thread. Nothing to do by default.
        """
        return None

    # -- test controls -------------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        with self.lock:
            self.catch_up()
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
        after: str | None = None,
        method: str | None = None,
    ) -> None:
        """Queue a misbehaviour (see :class:`~scimbridge_emulators.state.Fault`).

        :raises ValueError: for a fault that cannot be played as asked.
        """
        with self.lock:
            self.faults.add(Fault(status, retry_after, delay, times, path, after, method))

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.expire_all()

    def reject_users(self, identities: Iterable[str]) -> None:
        """Make these users (by email or user name) fail one by one, as the vendor reports it."""
        with self.lock:
            self.rejected.update(identity.lower() for identity in identities)

    def admin_change(self, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change the account ``name`` (email or user name) as an admin would in the product:
        rename it, disable or enable it, grant a role. ``changes`` are fields as
        :meth:`end_state` shows them, each replacing the field's value. Returns the account
        as it then is.

        :raises KeyError: no account has that name.
        """
        with self.lock:
            self.catch_up()
            account = self.stored_account(name)
            if account is None:
                raise KeyError(name)
            account.update(copy.deepcopy(changes))
            return copy.deepcopy(account)

    def admin_create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create an account unrelated to the bridge, as an admin would in the product."""
        with self.lock:
            self.catch_up()
            return copy.deepcopy(self.create_account(copy.deepcopy(fields)))

    def reset(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.faults.clear()
            self.limiter.clear()
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
        """The vendor's answer for an injected status: its rate-limit headers and message
        on a 429, ``Retry-After`` on any other status when one was asked for (a 503 may
        carry it)."""
        assert fault.status is not None
        if fault.status == 429:
            return self.error_response(
                429,
                self.too_many_requests(fault.retry_after),
                headers=self.rate_limit_headers(fault.retry_after),
            )
        headers = VendorEmulator.rate_limit_headers(self, fault.retry_after)
        return self.error_response(fault.status, "injected fault", headers=headers)

    def enforce_rate_limit(self) -> None:
        """Count the current request against its bucket, if any; the answer, whatever
        it is, carries the vendor's rate-limit headers.

        :raises Rejection: 429 over the limit.
        """
        bucket = self.rate_limit_bucket()
        if bucket is None:
            return
        check = self.limiter.hit(bucket.key, bucket.quota)
        g.quota_headers = self.quota_headers(check)
        if not check.allowed:
            raise Rejection(429, self.too_many_requests(check.wait_seconds))


CONTROL_BLUEPRINT = "emulator_control"


def current_emulator() -> VendorEmulator:
    return cast(VendorEmulator, current_app.extensions[EXTENSION_KEY])  # set by build_app


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
        fault = emulator.faults.take(request.method, request.path)
    if fault and fault.after:
        request.environ[AFTER_FAULT_KEY] = fault
    elif fault and fault.delay:
        time.sleep(fault.delay)
    if fault and fault.status:
        return emulator.fault_response(fault)
    emulator.lock.acquire()
    g.locked = True
    emulator.catch_up()
    if request.url_rule is not None and request.endpoint not in emulator.public_endpoints:
        emulator.authenticate()
        emulator.enforce_rate_limit()
    return None


def _after_request(response: Response) -> Response:
    response.headers.update(g.pop("quota_headers", {}))
    logged: LoggedRequest | None = g.pop("logged", None)
    if logged is not None:
        logged.status = response.status_code
        logged.limit_headers = {
            name: response.headers[name] for name in RATE_LIMIT_HEADERS if name in response.headers
        }
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


class AfterFaults:
    """WSGI middleware playing a fault ``after`` the request was served.

    It sits outside Flask, so by the time it runs the view has applied its write,
    the lock is released and the request is logged, but not a byte of the answer
    has reached the socket yet (werkzeug writes on the first body chunk).
    """

    def __init__(self, wsgi_app: Callable[..., Any]):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        answer = self.wsgi_app(environ, start_response)
        fault: Fault | None = environ.get(AFTER_FAULT_KEY)
        if fault is None:
            return answer
        if fault.delay:
            time.sleep(fault.delay)
        if fault.after == "disconnect":
            self.disconnect(environ)
        return answer

    @staticmethod
    def disconnect(environ: dict[str, Any]) -> None:
        """Shut the client's connection both ways, so it reads an end of stream where
        the answer should be; werkzeug's own write then fails quietly (a dropped
        connection). Without a socket (Flask's test client) the drop is raised."""
        connection = environ.get("werkzeug.socket")
        if connection is None:
            raise ConnectionAbortedError(
                "the emulator dropped the connection (fault after=disconnect)"
            )
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            log.debug("the client had already closed the connection")


def build_app(emulator: VendorEmulator) -> Flask:
    """A Flask app serving the emulator's routes and the ``/_emulator/`` controls."""
    from scimbridge_emulators.control import control  # control builds on this module

    app = Flask(f"scimbridge_emulators.{emulator.vendor}")
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
    app.wsgi_app = AfterFaults(app.wsgi_app)  # type: ignore[method-assign]
    return app


__all__ = [
    "EXTENSION_KEY",
    "Bucket",
    "Quota",
    "QuotaCheck",
    "Rejection",
    "TokenStatus",
    "VendorEmulator",
    "build_app",
    "same_secret",
]
