"""Relative paths in a configuration file are read from the file's directory, so that the
bridge finds the same mapping and the same database wherever it is started from."""

from __future__ import annotations

from pathlib import Path

import pytest

from scimbridge.config import default_mapping, load_config

CONFIG = """\
{database}
targets:
  - name: chat
    vendor: rocketchat
    {mapping}
    base_url: https://chat.example.com
    credentials: {{user_id: u1, auth_token: rc-token}}
    inbound: {{bearer_tokens: ["a-scim-token-0123456789"]}}
"""


def written(directory: Path, database: str = "", mapping: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bridge.yaml"
    path.write_text(CONFIG.format(database=database, mapping=mapping))
    return path


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """The process starts in a directory other than the configuration's."""
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


def test_a_relative_mapping_is_read_beside_the_configuration(tmp_path, elsewhere):
    config = load_config(written(tmp_path / "etc", mapping="mapping: maps/chat.yaml"))
    assert config.target("chat").mapping_file == str(tmp_path / "etc" / "maps" / "chat.yaml")


def test_an_absolute_mapping_is_kept(tmp_path, elsewhere):
    config = load_config(written(tmp_path / "etc", mapping="mapping: /srv/chat.yaml"))
    assert config.target("chat").mapping_file == "/srv/chat.yaml"


def test_without_a_mapping_key_the_vendor_default_is_used(tmp_path, elsewhere):
    config = load_config(written(tmp_path / "etc"))
    assert config.target("chat").mapping_file == str(default_mapping("rocketchat"))


def test_a_relative_sqlite_path_is_read_beside_the_configuration(tmp_path, elsewhere):
    config = load_config(written(tmp_path / "etc", database="database: sqlite:///data/b.db"))
    assert config.database == f"sqlite:///{tmp_path / 'etc' / 'data' / 'b.db'}"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/scimbridge/scimbridge.db",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql+psycopg://bridge@db.internal/scimbridge",
    ],
)
def test_other_database_urls_are_kept_as_written(tmp_path, elsewhere, url):
    assert load_config(written(tmp_path / "etc", database=f"database: '{url}'")).database == url


def test_without_a_database_key_the_database_is_in_the_working_directory(
    tmp_path, elsewhere, monkeypatch
):
    monkeypatch.delenv("SCIMBRIDGE_DATABASE", raising=False)
    database = load_config(written(tmp_path / "etc")).database
    assert database == "sqlite:///scimbridge.db"


def test_without_a_database_key_the_environment_may_name_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIMBRIDGE_DATABASE", "sqlite:////var/lib/scimbridge/scimbridge.db")
    database = load_config(written(tmp_path / "etc")).database
    assert database == "sqlite:////var/lib/scimbridge/scimbridge.db"


def test_a_database_key_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIMBRIDGE_DATABASE", "sqlite:////var/lib/scimbridge/scimbridge.db")
    config = load_config(written(tmp_path / "etc", database="database: sqlite:////srv/b.db"))
    assert config.database == "sqlite:////srv/b.db"
