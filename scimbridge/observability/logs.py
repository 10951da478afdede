"""Log lines as JSON objects (or text), each carrying the request id and what it is about.

A line's fields come from the context it is logged in, not from its call site: a SCIM
request binds its target (:func:`log_fields`) and its request id
(:mod:`scimbridge.observability.context`); the delivery worker binds the target and
vendor of a round, then the outbox entry (seq, the user's SCIM id and userName, the id
of the SCIM request that wrote it) while it maps and settles that entry, so the lines of
the settling, the vendor client and the worker all say whom they are about.

Every line goes through :class:`Redactor` before it is written: a configured secret
(vendor credentials, inbound tokens, the database password) is replaced wherever it
would appear, a traceback included. The vendor clients redact their own messages too
(``HttpVendorClient.redact``), including the tokens they obtain at run time.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, TextIO

from sqlalchemy.engine import make_url

from scimbridge.config import BridgeConfig
from scimbridge.observability.context import current_request_id, request_id
from scimbridge.observability.printable import printable

LogFormat = Literal["json", "text"]

ALWAYS = ("request_id", "target")
"""Fields every JSON line holds, null when the line is about no request or target."""
WHEN_SET = ("vendor", "seq", "scim_id", "user_name", "seqs", "request_ids")
"""Fields a JSON line holds when its context set them: ``seqs`` and ``request_ids`` name
the entries of a vendor call carrying several users."""
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MIN_SECRET_LENGTH = 4
"""Shorter values are not redacted (as ``HttpVendorClient.redact``): they would garble text."""

_fields: ContextVar[Mapping[str, Any]] = ContextVar(
    "scimbridge_log_fields", default=MappingProxyType({})
)


def bind_fields(**fields: Any) -> Token[Mapping[str, Any]]:
    """Add ``fields`` to every line logged from now on in this context, until
    :func:`unbind_fields`: for hooks that cannot wrap the work in a block (a Flask request's)."""
    return _fields.set({**_fields.get(), **fields})


def unbind_fields(token: Token[Mapping[str, Any]]) -> None:
    _fields.reset(token)


@contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every line logged in the block (inner blocks override outer ones)."""
    token = bind_fields(**fields)
    try:
        yield
    finally:
        unbind_fields(token)


@contextmanager
def working_for(request: str | None, **fields: Any) -> Iterator[None]:
    """The block works for the SCIM request ``request`` (an outbox entry it wrote):
    :func:`~scimbridge.observability.context.current_request_id` answers it, and the lines
    logged carry it with ``fields``."""
    token = request_id.set(request)
    try:
        with log_fields(**fields):
            yield
    finally:
        request_id.reset(token)


def configured_secrets(config: BridgeConfig) -> list[str]:
    """Every secret the configuration holds, for :class:`Redactor`."""
    secrets = config.secrets()
    password = make_url(config.database).password
    if password:
        secrets.append(str(password))
    return secrets


DATABASE_DETAIL = re.compile(
    r"DETAIL:(?:\s+Key \(.*?\)=\(.*?\) (?:already exists|conflicts with existing key)\."
    r"|(?:(?!\\n|\n).)*)",
    re.DOTALL,
)
"""PostgreSQL's ``DETAIL:`` line of an error, up to its end as written (a line break, or its
JSON escape): a unique violation's (``Key (userName)=(bjensen) already exists.``) carries
the value, which the engine's ``hide_parameters`` does not hide (it hides the SQL's)."""


class Redactor:
    """Replaces secrets in text, the longest first (so that none leaves a part of another),
    and the value-carrying ``DETAIL:`` of a database error (:data:`DATABASE_DETAIL`)."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted(
            {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH},
            key=len,
            reverse=True,
        )

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return DATABASE_DETAIL.sub("DETAIL: [hidden]", text)


class ContextFilter(logging.Filter):
    """Puts the request id and the context's fields on each record (a field the call site
    passed in ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        for name, value in _fields.get().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, target, and
    vendor, seq, scim_id, user_name, seqs, request_ids where set; ``exception`` holds a traceback."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ALWAYS:
            line[name] = getattr(record, name, None)
        for name in WHEN_SET:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # json escapes the C0 controls only: printable the rest (a U+202E, a C1 control)
        return printable(self.redact(json.dumps(line, default=str, ensure_ascii=False)))


class TextFormatter(logging.Formatter):
    """The human format (``log_format: text``, the demo's), with the request id when there is one.

    A line is :func:`~scimbridge.observability.printable.printable`: a line break or a
    U+202E in a userName shows as its escape, and never starts or reverses a line; a
    traceback keeps its lines, each escaped.
    """

    def __init__(self, redact: Redactor):
        super().__init__(TEXT_FORMAT)
        self.redact = redact

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(self.redact(super().formatMessage(record)))

    def format(self, record: logging.LogRecord) -> str:
        head, _, rest = super().format(record).partition("\n")
        request = getattr(record, "request_id", None)
        if request:
            head += f" [request {printable(str(request))}]"
        traceback = [printable(line) for line in self.redact(rest).split("\n")] if rest else []
        return "\n".join([head, *traceback])


class BridgeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure_logging` installs, told apart from others (pytest's)."""


def configure_logging(
    level: str = "INFO",
    log_format: LogFormat = "json",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log line to ``stream`` (standard error) in ``log_format``, secrets redacted.

    Calling it again replaces the handler it installed before, and leaves any other alone.
    """
    redact = Redactor(secrets)
    handler = BridgeHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter(redact) if log_format == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for old in [old for old in root.handlers if isinstance(old, BridgeHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler
