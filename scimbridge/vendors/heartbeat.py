"""One thread per client renews the worker's lease while a vendor request is in flight.

A client sends its requests one after another, so one daemon thread, started with the first
request and kept until :meth:`Heartbeat.close`, serves them all: a thread started per request
cost a sixth of a one-user CloudShell call (issue 24), for a renewal that fires only when a
request outlasts :data:`~scimbridge.vendors.base.KEEP_ALIVE_SECONDS`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class _Flight:
    """One request in flight: what renews its lease, and when next."""

    renew: Callable[[], None]
    due: float
    renewing: bool = False
    lost: list[Exception] = field(default_factory=list)


class Heartbeat:
    """Calls a flight's ``renew`` every ``interval`` seconds while it lasts, from one thread.

    Guarantees, as a thread per request gave them: the first renewal comes ``interval`` after
    the request was sent, the next ``interval`` after the previous one returned; none runs once
    the request is done (:meth:`during` waits for a renewal under way); a renewal that raises
    ``lost`` (:class:`~scimbridge.vendors.base.Interrupted`) ends the renewals of that flight
    and is raised by :meth:`during`; any other error is logged and tried again.
    """

    def __init__(self, vendor: str, interval: float, lost: type[Exception]):
        self.vendor = vendor
        self.interval = interval
        self.lost = lost
        self._changed = threading.Condition()
        self._flight: _Flight | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @contextmanager
    def during(self, renew: Callable[[], None]) -> Iterator[None]:
        """Renew while the block runs.

        :raises lost: once the block is done, when a renewal found the lease lost
            (in place of whatever the block raised: the answer must not be settled).
        """
        flight = _Flight(renew, time.monotonic() + self.interval)
        with self._changed:
            self._flight = flight
            if self._thread is None:
                self._closed = False
                self._thread = threading.Thread(
                    target=self._beat, name=f"{self.vendor}-lease", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._flight = None
                self._changed.notify_all()
                while flight.renewing:
                    self._changed.wait()
            if flight.lost:
                raise flight.lost[0]

    def close(self) -> None:
        """Stop the thread; a later :meth:`during` starts another."""
        with self._changed:
            self._closed = True
            thread, self._thread = self._thread, None
            self._changed.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _beat(self) -> None:
        with self._changed:
            while not self._closed:
                flight = self._flight
                left = math.inf if flight is None else flight.due - time.monotonic()
                if flight is None or left > 0:
                    self._changed.wait(None if math.isinf(left) else left)
                    continue
                flight.renewing = True
                self._changed.release()
                try:
                    self._renew(flight)
                finally:
                    self._changed.acquire()
                    flight.renewing = False
                    self._changed.notify_all()

    def _renew(self, flight: _Flight) -> None:
        try:
            flight.renew()
        except self.lost as lost:
            flight.lost.append(lost)
            flight.due = math.inf
            return
        except Exception as error:
            log.warning(
                "%s: renewing the lease failed (%s); trying again",
                self.vendor,
                type(error).__name__,
            )
        flight.due = time.monotonic() + self.interval
