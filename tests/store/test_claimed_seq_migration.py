"""``0009_link_claimed_seq`` back-fills each user's newest claimed entry from the outbox: an
entry delivered, in flight or tried counts; one only ever pending, or superseded untried,
was never sent and does not (scimbridge.delivery.ordering)."""

from sqlalchemy import text

LINK = (
    "INSERT INTO links (id, target, user_name, delivered_once, status, created_at) "
    "VALUES (:id, 'chat', :name, false, 'pending', '2026-01-01T00:00:00Z')"
)
ENTRY = (
    "INSERT INTO outbox (seq, target, link_id, event, document, groups, state, attempts, "
    "failures, next_attempt_at, created_at, claimed_by, last_attempt_at) VALUES (:seq, 'chat', "
    ":link, 'upsert', '{}', '[]', :state, :attempts, 0, '2026-01-01T00:00:00Z', "
    "'2026-01-01T00:00:00Z', :claimed_by, :last_attempt_at)"
)


def entry(seq, link, state, attempts=0, claimed_by=None, last_attempt_at=None):
    return {
        "seq": seq,
        "link": link,
        "state": state,
        "attempts": attempts,
        "claimed_by": claimed_by,
        "last_attempt_at": last_attempt_at,
    }


def test_claimed_seq_is_the_newest_entry_delivered_in_flight_or_tried(empty_database):
    empty_database.upgrade("0008_chosen_values")
    with empty_database.engine.begin() as connection:
        for link in ("delivered", "in_flight", "retried", "never_claimed"):
            connection.execute(text(LINK), {"id": link, "name": f"{link}@example.com"})
        connection.execute(
            text(ENTRY),
            [
                entry(1, "delivered", "delivered", attempts=1),
                entry(2, "delivered", "superseded"),
                entry(3, "delivered", "pending"),
                entry(4, "in_flight", "pending", claimed_by="worker-1/1"),
                # queued again by `outbox retry`, which resets the count, not the last try
                entry(5, "retried", "pending", last_attempt_at="2026-01-01T00:00:00Z"),
                entry(6, "never_claimed", "held"),
            ],
        )

    empty_database.upgrade()

    with empty_database.engine.begin() as connection:
        claimed = dict(connection.execute(text("SELECT id, claimed_seq FROM links")).all())
    assert claimed == {"delivered": 1, "in_flight": 4, "retried": 5, "never_claimed": None}
