"""Fixtures of the emulator tests: one fresh emulator per test, signed in or served on loopback.

The helpers they use live in ``emulator_harness.py``, importable by the tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_harness import Emulated, signed_in
from scimbridge_emulators import RunningEmulator, run_in_thread


@pytest.fixture
def confide() -> Emulated:
    return signed_in("confide")


@pytest.fixture
def acc() -> Emulated:
    """ACC with imports applied at once: the tests of the asynchronous import build their own."""
    return signed_in("acc", import_delay_seconds=0)


@pytest.fixture
def aria() -> Emulated:
    return signed_in("aria")


@pytest.fixture
def rocketchat() -> Emulated:
    return signed_in("rocketchat")


@pytest.fixture
def cloudshell() -> Emulated:
    return signed_in("cloudshell")


@pytest.fixture
def served_acc() -> Iterator[RunningEmulator]:
    running = run_in_thread("acc")
    yield running
    running.stop()


@pytest.fixture
def served_acc_immediate() -> Iterator[RunningEmulator]:
    """A served ACC whose imports show at once, for faults that must show the write applied."""
    running = run_in_thread("acc", import_delay_seconds=0)
    yield running
    running.stop()
