"""The bridge as an identity team runs it: its own ``bridge.yaml`` in its own directory,
started from anywhere, from an installed wheel rather than this checkout."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from served import Served

REPOSITORY = Path(__file__).resolve().parents[2]
SECRETS = {
    "RC_USER_ID": "rc-user",
    "RC_TOKEN": 'rc"token\\with #all, "of: it',
    "CHAT_SCIM_TOKEN": 'scim"token\\t-0123", "second-token #comment',
    "OKTA_SCIM_PASSWORD": 'okta-pass"word\\ #0123456789',
}
USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "ada@example.com",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada@example.com", "type": "work", "primary": True}],
}

PIP = (sys.executable, "-m", "pip", "--quiet")
OUTSIDE_THE_PACKAGE = shutil.ignore_patterns(
    ".*", "build", "site", "*.egg-info", "__pycache__", "tests", "bench", "docs"
)
"""Left out of the copy the wheel is built from: a build in the checkout would leave a
``build/`` there, whose stale files a later wheel could pick up."""

pytestmark = pytest.mark.slow


def readme_config() -> str:
    """The ``bridge.yaml`` of the README's "Running it for real", verbatim."""
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("## Running it for real", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


@pytest.fixture
def readme_bridge(tmp_path):
    """The README's configuration in /etc-like directory, served from another one."""
    etc, elsewhere = tmp_path / "etc", tmp_path / "elsewhere"
    etc.mkdir()
    elsewhere.mkdir()
    (etc / "bridge.yaml").write_text(readme_config())
    served = Served(etc / "bridge.yaml", elsewhere, SECRETS)
    served.wait_until_serving()
    yield served, etc, elsewhere
    served.stop()


def test_the_readme_configuration_serves_from_another_directory(readme_bridge):
    served, etc, elsewhere = readme_bridge
    token = SECRETS["CHAT_SCIM_TOKEN"]
    created = requests.post(f"{served.url}/scim/v2/chat/Users", json=USER, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert (etc / "scimbridge.db").is_file()
    assert not (elsewhere / "scimbridge.db").exists()


@pytest.mark.parametrize(
    "token",
    ['scim"token\\t-0123', "second-token #comment", 'scim"token\\t-0123", "second-token'],
    ids=["before the quote-comma", "after it", "before the comment"],
)
def test_a_part_of_the_token_is_refused(readme_bridge, token):
    served, _, _ = readme_bridge
    response = requests.get(f"{served.url}/scim/v2/chat/Users", headers=bearer(token))
    assert response.status_code == 401


def test_the_basic_password_is_read_exactly(readme_bridge):
    served, _, _ = readme_bridge
    password = SECRETS["OKTA_SCIM_PASSWORD"]
    response = requests.get(f"{served.url}/scim/v2/chat/Users", headers=basic("okta", password))
    assert response.status_code == 200, response.text


def test_no_secret_is_ever_printed(readme_bridge):
    served, _, _ = readme_bridge
    requests.get(f"{served.url}/scim/v2/chat/Users", headers=bearer("wrong-token-0123456789"))
    requests.post(f"{served.url}/scim/v2/chat/Users", json=USER, headers=bearer("x" * 20))
    output = served.stop()
    for secret in SECRETS.values():
        assert secret not in output


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The package built as a wheel and installed on its own, away from this checkout."""
    source = tmp_path_factory.mktemp("source") / "scimbridge"
    shutil.copytree(REPOSITORY, source, ignore=OUTSIDE_THE_PACKAGE)
    built = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            *PIP,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(built),
            str(source),
        ],
        check=True,
    )
    [wheel_file] = built.glob("scimbridge-*.whl")
    installed = tmp_path_factory.mktemp("site")
    subprocess.run(
        [*PIP, "install", "--no-deps", "--target", str(installed), str(wheel_file)],
        check=True,
    )
    return installed


def run_installed(wheel: Path, cwd: Path, *arguments: str) -> str:
    """What ``python <arguments>`` prints, run from ``cwd`` with the installed wheel as the
    only scimbridge."""
    ran = subprocess.run(
        [sys.executable, *arguments],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(wheel)},
        capture_output=True,
        text=True,
        check=True,
    )
    return ran.stdout


def test_the_wheel_ships_every_default_mapping_from_the_top_level_mappings_directory(wheel):
    """The design card's layout: the files live in ``mappings/`` beside ``scimbridge/``, and
    the wheel carries them as package data (``[tool.setuptools.package-dir]``)."""
    shipped = {
        path.name: path.read_bytes()
        for path in (wheel / "scimbridge/vendors/mappings").glob("*.yaml")
    }
    assert sorted(shipped) == [
        "acc.yaml",
        "aria.yaml",
        "cloudshell.yaml",
        "confide.yaml",
        "rocketchat.yaml",
    ]
    assert shipped == {name: (REPOSITORY / "mappings" / name).read_bytes() for name in shipped}


def test_the_wheel_carries_every_file_of_the_package(wheel):
    """pyproject.toml lists the packages (setuptools' find cannot name the one built from
    ``mappings/``): a package left out of the list would be missing here."""

    def files(root: Path) -> set[str]:
        """The files below ``root``, but caches and hidden files (the copy built leaves them out)."""
        found = (path.relative_to(root) for path in root.rglob("*") if path.is_file())
        return {
            str(path)
            for path in found
            if not any(part == "__pycache__" or part.startswith(".") for part in path.parts)
        }

    assert files(REPOSITORY / "scimbridge") <= files(wheel / "scimbridge")


def test_an_installed_wheel_shows_its_packaged_default_mapping(wheel, tmp_path):
    shown = run_installed(wheel, tmp_path, "-m", "scimbridge", "mapping", "show", "rocketchat")
    found = run_installed(
        wheel,
        tmp_path,
        "-c",
        "from scimbridge.config import default_mapping as d; print(d('rocketchat'))",
    )

    assert shown == (REPOSITORY / "mappings" / "rocketchat.yaml").read_text("utf-8")
    assert found.strip() == str(wheel / "scimbridge/vendors/mappings/rocketchat.yaml")


def test_the_wheel_ships_the_record_schemas_and_registers_the_built_in_vendors(wheel):
    schemas = sorted(path.name for path in (wheel / "scimbridge/vendors/records").glob("*.json"))
    [entry_points] = wheel.glob("scimbridge-*.dist-info/entry_points.txt")

    assert len(schemas) == 5
    assert "[scimbridge.vendors]" in entry_points.read_text()


def test_the_wheel_carries_no_emulator_nor_the_example_plugin(wheel):
    """Production installs leave the emulators out: they are the ``emulators`` extra."""
    top_level = sorted(
        path.name
        for path in wheel.iterdir()
        if path.name != "bin" and not path.name.endswith("-info")
    )

    assert top_level == ["scimbridge"]


def test_an_installed_wheel_serves_a_target_without_a_mapping_key(wheel, tmp_path):
    (tmp_path / "bridge.yaml").write_text(
        "targets:\n"
        "  - name: lab\n"
        "    vendor: aria\n"
        "    base_url: http://127.0.0.1:9\n"
        "    credentials: {username: admin, password: aria-password}\n"
        "    options: {auth_source_id: directory}\n"
        '    credentials: {username: bridge, password: "${ARIA_PASSWORD}"}\n'
        '    inbound: {bearer_tokens: ["${SCIM_TOKEN}"]}\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "SCIM_TOKEN": "a-scim-token-0123456789",
        "ARIA_PASSWORD": "an-aria-password",
        "PYTHONPATH": str(wheel),
    }
    where = run_installed(wheel, elsewhere, "-c", "import scimbridge; print(scimbridge.__file__)")
    assert where.startswith(str(wheel))
    served = Served(tmp_path / "bridge.yaml", elsewhere, env)
    try:
        served.wait_until_serving()
        headers = bearer(env["SCIM_TOKEN"])
        created = requests.post(f"{served.url}/scim/v2/lab/Users", json=USER, headers=headers)
        assert created.status_code == 201, created.text
        unmappable = {**USER, "userName": "has a space"}
        refused = requests.post(f"{served.url}/scim/v2/lab/Users", json=unmappable, headers=headers)
        assert refused.status_code == 400
        assert "aria.yaml" in refused.json()["detail"]
    finally:
        served.stop()
