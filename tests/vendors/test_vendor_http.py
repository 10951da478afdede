"""The shared HTTP rules: reading a vendor's wait and words, isolating a bad user."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from scimbridge.config import Target
from scimbridge.vendors import client_for
from scimbridge.vendors.base import VendorUnavailable
from scimbridge.vendors.http import (
    VendorRejected,
    error_text,
    json_object,
    poll_waits,
    retry_after_seconds,
    send_isolating,
)

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)


def response(status: int = 200, body: object = None, **headers: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer.headers.update(headers)
    answer._content = (json.dumps(body) if body is not None else "").encode()
    return answer


def test_retry_after_in_seconds_is_read_as_is():
    assert retry_after_seconds(response(429, **{"Retry-After": "25"})) == 25.0


def test_retry_after_as_an_http_date_is_the_time_left_until_it():
    later = response(503, **{"Retry-After": "Wed, 25 Nov 2026 10:00:30 GMT"})

    assert retry_after_seconds(later, now=NOW) == 30.0


def test_retry_after_in_the_past_means_no_wait():
    earlier = response(503, **{"Retry-After": "Wed, 25 Nov 2026 09:59:00 GMT"})

    assert retry_after_seconds(earlier, now=NOW) == 0.0


@pytest.mark.parametrize("value", ["", "soon", "-5"])
def test_an_unreadable_retry_after_is_ignored(value):
    assert retry_after_seconds(response(429, **{"Retry-After": value})) is None


@pytest.mark.parametrize(
    "body",
    [
        {"traceId": "t", "error": "Invalid email format.", "statusCode": 400},
        {"message": "Invalid email format.", "httpStatusCode": 400},
        {"developerMessage": "Invalid email format."},
        {"Message": "Invalid email format."},
    ],
)
def test_error_text_is_the_vendors_own_message(body):
    assert error_text(response(400, body)) == "Invalid email format."


def test_error_text_falls_back_to_the_start_of_the_body():
    plain = response(400)
    plain._content = b"Bad Request: " + b"x" * 1000

    assert error_text(plain).startswith("Bad Request: x")
    assert len(error_text(plain)) <= 300


def test_an_answer_that_is_not_a_json_object_makes_the_vendor_unavailable():
    with pytest.raises(VendorUnavailable):
        json_object(response(200, ["not", "an", "object"]))


def refusing(bad: set[int], status: int = 400):
    """A vendor that refuses any batch holding one of ``bad``, and records what it was sent."""
    sent: list[list[int]] = []

    def send(batch: list[int]) -> str:
        sent.append(batch)
        if bad & set(batch):
            raise VendorRejected(status, f"refused {sorted(bad & set(batch))}")
        return f"accepted {batch}"

    return send, sent


def test_isolating_lets_every_good_item_through_and_names_the_bad_one():
    send, _ = refusing({3})

    isolated = send_isolating([1, 2, 3, 4, 5, 6], send)

    assert sorted(item for batch, _ in isolated.accepted for item in batch) == [1, 2, 4, 5, 6]
    assert [(item, str(error)) for item, error in isolated.rejected] == [(3, "refused [3]")]


def test_isolating_sends_a_good_batch_once():
    send, sent = refusing(set())

    isolated = send_isolating([1, 2, 3], send)

    assert sent == [[1, 2, 3]]
    assert isolated.accepted == [([1, 2, 3], "accepted [1, 2, 3]")]


def test_a_refusal_that_does_not_blame_the_payload_fails_the_batch_without_bisecting():
    send, sent = refusing({1}, status=404)

    isolated = send_isolating([1, 2, 3], send)

    assert sent == [[1, 2, 3]]
    assert [item for item, _ in isolated.rejected] == [1, 2, 3]


@pytest.mark.parametrize("value", ["2s", -1, True])
def test_a_bad_poll_option_is_refused_when_the_target_is_read(value):
    with pytest.raises(ValueError, match=r"options\.poll_interval_seconds\n.*must be"):
        Target.model_validate(
            {
                "name": "chat",
                "vendor": "rocketchat",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"user_id": "u", "auth_token": "t"},
                "options": {"poll_interval_seconds": value},
                "inbound": {"bearer_tokens": ["inbound-token-0123456789"]},
            }
        )


def chat_client(**options: object) -> Any:
    """A Rocket.Chat client of a vendor nobody listens for (port 9: every call fails)."""
    target = Target.model_validate(
        {
            "name": "chat",
            "vendor": "rocketchat",
            "base_url": "http://127.0.0.1:9",
            "credentials": {"user_id": "u", "auth_token": "t"},
            "options": options,
            "inbound": {"bearer_tokens": ["inbound-token-0123456789"]},
        }
    )
    return client_for(target)


def test_polls_wait_an_eighth_a_quarter_a_half_then_the_whole_interval():
    waits = poll_waits(2.0)

    assert [next(waits) for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_a_job_done_at_the_third_poll_has_waited_an_eighth_and_a_quarter_of_the_interval():
    client = chat_client(poll_interval_seconds=8)
    waited: list[float] = []
    client.wait = waited.append
    answers = iter(["running", "running", "done"])

    assert client.poll(lambda: next(answers), lambda state: state == "done") == "done"
    assert waited == [1.0, 2.0]


def test_a_write_whose_answer_was_not_read_forgets_the_runs_directory():
    client = chat_client()
    client.known.keep({"held": "directory"}, time.monotonic())

    with pytest.raises(VendorUnavailable):
        client.call("POST", "/api/v1/users.update", json={})

    assert client.known.fresh() is None


def test_a_read_that_failed_keeps_the_runs_directory():
    client = chat_client()
    client.known.keep({"held": "directory"}, time.monotonic())

    with pytest.raises(VendorUnavailable):
        client.call("GET", "/api/v1/users.list")

    assert client.known.fresh() == {"held": "directory"}


def test_a_directory_older_than_its_max_age_is_forgotten():
    client = chat_client(directory_max_age_seconds=60)
    client.known.keep({"held": "directory"}, time.monotonic() - 61)

    assert client.known.fresh() is None


def test_the_end_of_a_run_forgets_the_runs_directory():
    client = chat_client()
    client.known.keep({"held": "directory"}, time.monotonic())

    client.run_ended()

    assert client.known.fresh() is None
