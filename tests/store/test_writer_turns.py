"""SQLite writers of one process take the write lock in turn (Database._turn, issue 24):
a writer that commits and begins again at once, as back-to-back SCIM Bulk requests do,
never keeps the delivery worker's claims waiting until it stops."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from scimbridge.store import Database
from scimbridge.store.database import Turns

BUSY_WRITER_SECONDS = 1.5


def test_a_writer_in_a_tight_loop_lets_another_writer_in_between_its_transactions(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'turns.db'}")
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE commits (writer TEXT)"))
    busy_until = time.monotonic() + BUSY_WRITER_SECONDS

    def busy_writer() -> None:
        while time.monotonic() < busy_until:
            with database.transaction() as session:
                session.execute(text("INSERT INTO commits VALUES ('bulk')"))
                time.sleep(0.01)

    writer = threading.Thread(target=busy_writer)
    writer.start()
    time.sleep(0.1)
    for _ in range(3):
        with database.transaction() as session:
            session.execute(text("INSERT INTO commits VALUES ('worker')"))
    worker_done = time.monotonic()
    writer.join()
    database.dispose()

    assert worker_done < busy_until


def test_turns_are_given_in_the_order_they_were_asked_for():
    turns = Turns()
    assert turns.acquire(timeout=1)
    order: list[int] = []

    def wait_for_turn(number: int) -> None:
        assert turns.acquire(timeout=5)
        order.append(number)
        turns.release()

    waiting = []
    for number in range(5):
        thread = threading.Thread(target=wait_for_turn, args=(number,))
        thread.start()
        waiting.append(thread)
        time.sleep(0.02)
    turns.release()
    for thread in waiting:
        thread.join()

    assert order == [0, 1, 2, 3, 4]


def test_a_turn_not_given_within_the_timeout_is_given_up():
    turns = Turns()
    assert turns.acquire(timeout=1)

    assert turns.acquire(timeout=0.05) is False
    turns.release()
    assert turns.acquire(timeout=0.05) is True
