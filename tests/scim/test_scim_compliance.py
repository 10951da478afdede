"""The public compliance testers, run against a bridge serving on loopback.

scim2-tester (through the ``scim2`` command of scim2-cli) and scim-sanity's
strict probe are the "Done when" of the SCIM core. The target maps to
CloudShell, whose mapping needs only a ``userName``: the testers create users
with nothing else, which a vendor needing an email rightly refuses.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from werkzeug.serving import make_server

from scimbridge.app import create_app
from scimbridge.config import parse_config

TOKEN = "compliance-token-0123456789"
BIN = Path(sys.executable).parent

SCIM2_TESTER_CHECKS = 142
"""What scim2-tester 0.5.2 runs against this bridge: the scim2-server reference's
checks plus those of the enterprise and delivery extensions."""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("compliance") / "bridge.db"
    document = {
        "database": f"sqlite:///{database}",
        "targets": [
            {
                "name": "lab",
                "vendor": "cloudshell",
                "base_url": "http://127.0.0.1:9",
                "credentials": {"username": "admin", "password": "cloudshell-password"},
                "inbound": {"bearer_tokens": [TOKEN]},
            }
        ],
    }
    server = make_server(
        "127.0.0.1", 0, create_app(parse_config(yaml.safe_dump(document))), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/scim/v2/lab"
    server.shutdown()


def run(command: list[str]) -> str:
    if shutil.which(command[0], path=str(BIN)) is None:
        pytest.fail(f"{command[0]} is not installed: pip install -e '.[test]'")
    completed = subprocess.run(
        [str(BIN / command[0]), *command[1:]], capture_output=True, text=True, timeout=600
    )
    return completed.stdout + completed.stderr


@pytest.mark.slow
def test_scim2_tester_passes_every_check(base_url):
    output = run(["scim2", "-u", base_url, "-h", f"Authorization: Bearer {TOKEN}", "test"])
    assert not re.findall(r"^(?:ERROR|CRITICAL) .*", output, re.MULTILINE), output
    assert len(re.findall(r"^SUCCESS ", output, re.MULTILINE)) >= SCIM2_TESTER_CHECKS, output


@pytest.mark.slow
def test_scim_sanity_strict_probe_passes(base_url):
    output = run(
        ["scim-sanity", "probe", base_url, "--token", TOKEN, "--strict", "--i-accept-side-effects"]
    )
    assert re.search(r"(\d+) passed, \d+ skipped", output), output
    assert "[FAIL]" not in output
    assert "All tests passed" in output
