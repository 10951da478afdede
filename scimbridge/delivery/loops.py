"""One delivery loop per target and slot, so that targets never wait on each other.

A vendor that answers slowly, hangs until the timeout or runs a long import holds the
loop that called it; with one loop visiting every target in turn, every other tenant's
deliveries would wait behind it. So each target gets loops of its own
(``delivery.concurrency``, default 1), each a thread that claims, sends and settles that
target's batches only. The database claims (a target's claims take turns, one user's
changes are claimed in order, leases) coordinate them with each other and with the loops
of other processes, as they did for whole workers.

The thread that runs :meth:`TargetLoops.run` watches them: a loop that died (an error
no round caught, the database gone) is logged, counted in
``scimbridge_delivery_loop_restarts_total`` and started again after a pause that doubles
while it keeps dying, so that a target is never silently left without delivery.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from scimbridge.config import Target

log = logging.getLogger("scimbridge.delivery")

WATCH_SECONDS = 0.5
"""How often the watching thread looks for a loop that died."""
LONGEST_RESTART_PAUSE_SECONDS = 60.0
"""The longest pause before a loop that keeps dying is started again."""
STEADY_SECONDS = 60.0
"""A loop that ran this long before it died starts again at once: it was no crash loop."""


@dataclass
class Slot:
    """One loop of one target: its thread, and how it has been dying."""

    target: Target
    number: int
    thread: threading.Thread | None = None
    started_at: float = 0.0
    deaths_in_a_row: int = 0
    restart_at: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.target.name}#{self.number}"


class TargetLoops:
    """Runs ``round(target, slot)`` over and over in a thread per target and slot.

    :param round: delivers one batch of the target; returns how many entries it settled
        (0: nothing was due, so the loop sleeps ``poll_seconds`` before it looks again).
    :param on_restart: told of each loop started again after it died (the metrics).
    :param on_running: told how many loops of a target run, whenever that changes.
    """

    def __init__(
        self,
        targets: list[Target],
        round: Callable[[Target, int], int],
        stopping: threading.Event,
        poll_seconds: float,
        on_restart: Callable[[Target], None] = lambda _: None,
        on_running: Callable[[Target, int], None] = lambda _target, _count: None,
    ):
        self.round = round
        self.stopping = stopping
        self.poll_seconds = poll_seconds
        self.on_restart = on_restart
        self.on_running = on_running
        self.slots = [
            Slot(target, number)
            for target in targets
            for number in range(target.delivery.concurrency)
        ]

    def run(self, every_watch: Callable[[], None] = lambda: None) -> None:
        """Start every loop, watch them until ``stopping`` is set, then wait for them.

        :param every_watch: run by the watching thread between its looks (the hourly purge).
        """
        for slot in self.slots:
            self._start(slot)
        self._count_running()
        while not self.stopping.wait(WATCH_SECONDS):
            self._restart_dead()
            every_watch()

    def join(self, seconds: float) -> None:
        """Wait up to ``seconds`` in all for the loops to finish their batch and exit."""
        deadline = time.monotonic() + seconds
        for slot in self.slots:
            if slot.thread is not None:
                slot.thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _start(self, slot: Slot) -> None:
        slot.started_at = time.monotonic()
        slot.thread = threading.Thread(
            target=self._loop, args=(slot,), name=f"delivery {slot.name}", daemon=True
        )
        slot.thread.start()

    def _loop(self, slot: Slot) -> None:
        try:
            while not self.stopping.is_set():
                if not self.round(slot.target, slot.number):
                    self.stopping.wait(self.poll_seconds)
        except Exception:
            log.exception("%s: the delivery loop %s died", slot.target.name, slot.name)

    def _restart_dead(self) -> None:
        now = time.monotonic()
        changed = False
        for slot in self.slots:
            if slot.thread is None or slot.thread.is_alive() or self.stopping.is_set():
                continue
            if slot.restart_at == 0.0:
                steady = now - slot.started_at >= STEADY_SECONDS
                slot.deaths_in_a_row = 1 if steady else slot.deaths_in_a_row + 1
                pause = min(
                    LONGEST_RESTART_PAUSE_SECONDS,
                    self.poll_seconds * 2 ** (slot.deaths_in_a_row - 1),
                )
                slot.restart_at = now + (0.0 if steady else pause)
                changed = True
                log.warning(
                    "%s: restarting the delivery loop %s in %.1f s (%d death(s) in a row)",
                    slot.target.name,
                    slot.name,
                    slot.restart_at - now,
                    slot.deaths_in_a_row,
                )
            if now >= slot.restart_at:
                slot.restart_at = 0.0
                self._start(slot)
                self.on_restart(slot.target)
                changed = True
        if changed:
            self._count_running()

    def _count_running(self) -> None:
        running: dict[str, int] = {}
        for slot in self.slots:
            alive = slot.thread is not None and slot.thread.is_alive()
            running[slot.target.name] = running.get(slot.target.name, 0) + alive
        for slot in self.slots:
            if slot.number == 0:
                self.on_running(slot.target, running[slot.target.name])
