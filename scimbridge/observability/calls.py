"""How a vendor client reports its HTTP calls, without knowing about Prometheus or the worker.

The vendor clients sit below the delivery layer: they get an observer (the worker sets
``HttpVendorClient.calls`` to :class:`~scimbridge.observability.metrics.VendorCalls`) and
tell it the status and the time of every call.
"""

from __future__ import annotations

from typing import Protocol


def status_class(status: int | None) -> str:
    """``2xx``…``5xx``, or ``error`` for a call that got no answer (timeout, refused connection)."""
    return "error" if status is None else f"{status // 100}xx"


class CallObserver(Protocol):
    """Where a vendor client reports each HTTP call it made."""

    def answered(self, status: int | None, seconds: float) -> None:
        """One call took ``seconds`` and was answered ``status`` (None: no answer)."""


class NotObserved:
    """The observer of a client used outside a worker (``mapping preview``, tests): counts nothing."""

    def answered(self, status: int | None, seconds: float) -> None:
        return None
