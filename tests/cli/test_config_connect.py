"""``scimbridge config check --connect``: each target's vendor logged in to and read once,
one line per target, the exit status non-zero when any failed, no secret shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from scimbridge_emulators import RunningEmulator, demo_options, run_in_thread

from scimbridge.cli import main

TOKEN = "a-scim-token-0123456789"


@pytest.fixture(scope="module")
def emulators() -> Iterator[dict[str, RunningEmulator]]:
    running = {vendor: run_in_thread(vendor) for vendor in ("aria", "rocketchat", "confide")}
    yield running
    for emulator in running.values():
        emulator.stop()


def target(name: str, emulator: RunningEmulator, **credentials: str) -> dict[str, object]:
    vendor = emulator.emulator.vendor
    return {
        "name": name,
        "vendor": vendor,
        "base_url": emulator.url,
        "credentials": {**emulator.credentials, **credentials},
        "options": demo_options(vendor),
        "inbound": {"bearer_tokens": [TOKEN]},
    }


def connect(runner, tmp_path, *targets: dict[str, object]):
    config = tmp_path / "bridge.yaml"
    config.write_text(yaml.safe_dump({"targets": list(targets)}))
    return runner.invoke(main, ["config", "check", "--connect", "--config", str(config)])


def test_good_credentials_log_in_and_read_once(runner, tmp_path, emulators):
    result = connect(
        runner,
        tmp_path,
        target("ops", emulators["aria"]),
        target("chat", emulators["rocketchat"]),
        target("files", emulators["confide"]),
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ok: 3 target(s): ops, chat, files",
        "ops: ok: logged in to aria, read 0 account(s)",
        "chat: ok: logged in to rocketchat, read 0 account(s)",
        "files: ok: logged in to confide (it documents no read)",
    ]


def test_a_wrong_password_is_reported_for_its_target_and_fails_the_check(
    runner, tmp_path, emulators
):
    wrong = "not-the-aria-password-42"
    result = connect(
        runner,
        tmp_path,
        target("ops", emulators["aria"], password=wrong),
        target("chat", emulators["rocketchat"]),
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[1].startswith("ops: failed: aria: POST /api/auth/token/acquire answered HTTP 401")
    assert lines[2] == "chat: ok: logged in to rocketchat, read 0 account(s)"
    assert wrong not in result.output


def test_a_revoked_token_is_reported_without_the_token(runner, tmp_path, emulators):
    revoked = "revoked-personal-access-token-0123"
    result = connect(runner, tmp_path, target("chat", emulators["rocketchat"], auth_token=revoked))
    assert result.exit_code == 1
    assert "chat: failed: rocketchat: GET /api/v1/users.list answered HTTP 401" in result.output
    assert revoked not in result.output


def test_without_connect_no_vendor_is_called(runner, tmp_path, emulators):
    config = tmp_path / "bridge.yaml"
    config.write_text(yaml.safe_dump({"targets": [target("ops", emulators["aria"], password="x")]}))
    result = runner.invoke(main, ["config", "check", "--config", str(config)])
    assert (result.exit_code, result.output) == (0, "ok: 1 target(s): ops\n")
