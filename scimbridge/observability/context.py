"""The request id that follows a SCIM write to the vendor call it causes.

A SCIM request sets it (from a sane ``X-Request-Id`` header, or a new one); the outbox
stores it on every entry the write enqueues, and the worker sets it again while it
delivers that entry, so one id joins the log lines of both processes.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("scimbridge_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or the delivery) this thread is working for, if any."""
    return request_id.get()
