"""Log lines: JSON objects carrying the request id from the SCIM write to the vendor call
it causes, naming the user by SCIM id and userName, and never a configured secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from captured_logs import CapturedLogs
from test_end_to_end import scim_user

from scimbridge.config import BridgeConfig
from scimbridge.observability.context import current_request_id
from scimbridge.observability.logs import configure_logging, log_fields, working_for
from scimbridge.testing.live import TOKEN, LiveBridge

Capture = Callable[..., CapturedLogs]


def post_user(live: LiveBridge, name: str, request_id: str) -> dict[str, Any]:
    response = live.http.post(
        f"{live.url}/scim/v2/{live.vendor}/Users",
        json=scim_user(name),
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/scim+json",
            "X-Request-Id": request_id,
        },
        timeout=30,
    )
    assert response.status_code == 201
    return response.json()


def sending(line: dict[str, Any]) -> bool:
    """The worker's line about the vendor call carrying a batch."""
    return line["logger"] == "scimbridge.delivery" and "user(s) to aria" in line["message"]


def test_the_vendor_call_log_line_carries_the_request_id_of_the_scim_write(
    aria: LiveBridge, capture_logs: Capture
) -> None:
    logs = capture_logs(aria)
    user = post_user(aria, "ada", "idp-write-0001")

    aria.drain()

    (line,) = logs.matching(sending)
    assert {
        key: line[key] for key in ("request_id", "target", "vendor", "scim_id", "user_name")
    } == {
        "request_id": "idp-write-0001",
        "target": "aria",
        "vendor": "aria",
        "scim_id": user["id"],
        "user_name": "ada@example.com",
    }


def test_the_vendor_http_calls_of_a_delivery_carry_its_request_id(
    aria: LiveBridge, capture_logs: Capture
) -> None:
    logs = capture_logs(aria)
    post_user(aria, "ada", "idp-write-0002")

    aria.drain()

    calls = logs.matching(lambda line: line["logger"] == "scimbridge.vendors.http")
    assert calls
    assert {line["request_id"] for line in calls} == {"idp-write-0002"}


def test_a_batch_of_several_writes_names_each_request_and_each_outcome_its_own(
    aria: LiveBridge, capture_logs: Capture
) -> None:
    logs = capture_logs(aria)
    ada = post_user(aria, "ada", "idp-write-ada")
    alan = post_user(aria, "alan", "idp-write-alan")

    aria.drain()

    (batch,) = logs.matching(sending)
    assert batch["request_ids"] == ["idp-write-ada", "idp-write-alan"]
    assert len(batch["seqs"]) == 2
    assert batch["request_id"] is None
    delivered = {
        line["scim_id"]: line["request_id"]
        for line in logs.matching(lambda line: "delivered" in line["message"])
    }
    assert delivered == {ada["id"]: "idp-write-ada", alan["id"]: "idp-write-alan"}


def test_the_scim_request_log_line_carries_its_request_id_and_target(
    aria: LiveBridge, capture_logs: Capture
) -> None:
    logs = capture_logs(aria)

    post_user(aria, "ada", "idp-write-0003")

    (line,) = logs.matching(lambda line: line["logger"] == "scimbridge.scim")
    assert (line["request_id"], line["target"], line["level"]) == ("idp-write-0003", "aria", "INFO")
    assert line["message"] == "aria POST /Users -> 201"


def test_a_sane_request_id_is_echoed_in_the_response(aria: LiveBridge) -> None:
    response = aria.http.get(f"{aria.url}/healthz", headers={"X-Request-Id": "lb-7f3a:42"})

    assert response.headers["X-Request-Id"] == "lb-7f3a:42"


@pytest.mark.parametrize(
    "header",
    ["x" * 65, "two words", 'quote"d', "new\u00e9", "-starts-with-a-dash"],
    ids=["too long", "space", "quote", "not ascii", "leading dash"],
)
def test_an_insane_request_id_is_replaced_by_a_new_one(aria: LiveBridge, header: str) -> None:
    response = aria.http.get(
        f"{aria.url}/healthz", headers={"X-Request-Id": header.encode("utf-8")}
    )

    echoed = response.headers["X-Request-Id"]
    assert echoed != header
    assert len(echoed) == 32 and echoed.isalnum()


def test_a_request_without_an_id_gets_a_new_one_each_time(aria: LiveBridge) -> None:
    first = aria.http.get(f"{aria.url}/healthz").headers["X-Request-Id"]
    second = aria.http.get(f"{aria.url}/healthz").headers["X-Request-Id"]

    assert first != second


def test_no_log_line_holds_a_configured_secret(aria: LiveBridge, capture_logs: Capture) -> None:
    logs = capture_logs(aria)
    secrets = [
        value for key, value in aria.emulator.credentials.items() if key in ("password",)
    ] + [TOKEN]
    assert len(secrets) == 2
    post_user(aria, "ada", "idp-write-0004")
    aria.emulator.expire_tokens()
    aria.http.get(f"{aria.url}/scim/v2/aria/Users", headers={"Authorization": f"Bearer {TOKEN}x"})

    aria.drain()
    logging.getLogger("scimbridge.test").warning("the token is %s and %s", *secrets)

    assert len(logs.lines()) > 5
    assert [secret for secret in secrets if secret in logs.text] == []
    assert logs.lines()[-1]["message"] == "the token is [redacted] and [redacted]"


def test_text_lines_are_for_a_person_and_carry_the_request_id(
    aria: LiveBridge, capture_logs: Capture
) -> None:
    logs = capture_logs(aria, "text")

    post_user(aria, "ada", "idp-write-0005")

    (line,) = [line for line in logs.text.splitlines() if "POST /Users" in line]
    assert line.endswith("INFO scimbridge.scim: aria POST /Users -> 201 [request idp-write-0005]")


def test_a_right_to_left_override_in_a_user_name_shows_escaped_in_a_text_line(
    aria: LiveBridge, capture_logs: Capture
) -> None:
    logs = capture_logs(aria, "text")
    user = {**scim_user("mallory"), "userName": "mallory\u202egro.elpmaxe@example.com"}
    assert aria.scim("POST", "/Users", user).status_code == 201

    aria.drain()

    (line,) = [line for line in logs.text.splitlines() if "delivered upsert" in line]
    assert "delivered upsert mallory\\u202egro.elpmaxe@example.com (outbox #1" in line
    assert "\u202e" not in logs.text


def logged(log_format: str, message: str, *args: object) -> str:
    """What the bridge's handler writes of one line logged with ``args``."""
    stream = io.StringIO()
    handler = configure_logging("INFO", log_format, stream=stream)  # type: ignore[arg-type]
    try:
        logging.getLogger("scimbridge.test").info(message, *args)
    finally:
        logging.getLogger().removeHandler(handler)
    return stream.getvalue()


def test_a_line_break_in_a_user_name_never_starts_a_text_line() -> None:
    text = logged("text", "delivered %s", "ada\n2026-01-01 INFO scimbridge: forged")

    (line,) = text.splitlines()
    assert line.endswith("delivered ada\\u000a2026-01-01 INFO scimbridge: forged")


def test_a_bidirectional_character_in_a_json_line_is_escaped_and_reads_back_as_sent() -> None:
    text = logged("json", "delivered %s", "mallory\u202e\u0085\u2067@example.com")

    assert "\\u202e\\u0085\\u2067" in text
    assert json.loads(text)["message"] == "delivered mallory\u202e\u0085\u2067@example.com"


def test_a_traceback_is_one_json_line() -> None:
    stream = io.StringIO()
    handler = configure_logging("INFO", "json", stream=stream)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            with log_fields(target="chat", seq=7):
                logging.getLogger("scimbridge.test").exception("it failed")
    finally:
        logging.getLogger().removeHandler(handler)

    (text,) = stream.getvalue().splitlines()
    line = json.loads(text)
    assert (line["message"], line["target"], line["seq"], line["request_id"]) == (
        "it failed",
        "chat",
        7,
        None,
    )
    assert "ValueError: boom" in line["exception"]


def test_working_for_sets_and_restores_the_request_id() -> None:
    with working_for("outer"):
        with working_for("inner"):
            assert current_request_id() == "inner"
        assert current_request_id() == "outer"
    assert current_request_id() is None


def test_json_is_the_default_log_format() -> None:
    assert BridgeConfig.model_fields["log_format"].default == "json"
