"""The configuration file: validated before start-up, errors name the key (docs/architecture.md, "Targets and configuration")."""

from pathlib import Path

import pytest

from scimbridge.config import ConfigError, default_mapping, load_config, parse_config

VALID = """
database: sqlite:///bridge.db
targets:
  - name: chat
    vendor: rocketchat
    base_url: https://chat.example.com
    credentials: {user_id: "${RC_USER}", auth_token: "${RC_TOKEN}"}
    inbound:
      bearer_tokens: ["${CHAT_SCIM_TOKEN}"]
"""
ENV = {"RC_USER": "u1", "RC_TOKEN": "rc-secret", "CHAT_SCIM_TOKEN": "a-scim-token-of-some-length"}


def test_environment_references_are_substituted():
    config = parse_config(VALID, environ=ENV)
    target = config.target("chat")
    assert target.secret("auth_token") == "rc-secret"
    assert target.inbound.bearer_tokens[0].get_secret_value() == ENV["CHAT_SCIM_TOKEN"]


def test_a_missing_environment_variable_names_it_and_its_line():
    with pytest.raises(
        ConfigError,
        match=r"bridge.yaml, line 7, key targets\[0\] \(chat\)\.credentials\.auth_token: environment variable RC_TOKEN is not set",
    ):
        parse_config(VALID, "bridge.yaml", environ={"RC_USER": "u", "CHAT_SCIM_TOKEN": "t"})


def test_the_mapping_file_defaults_to_the_one_shipped_for_the_vendor():
    mapping = Path(parse_config(VALID, environ=ENV).target("chat").mapping_file)
    assert mapping == default_mapping("rocketchat")
    assert mapping.is_file()


def test_json_is_accepted_as_yaml():
    text = (
        '{"targets": [{"name": "a", "vendor": "acc", "base_url": "http://x",'
        ' "credentials": {"client_id": "c", "client_secret": "s", "user_id": "u"},'
        ' "options": {"project_id": "p"}, "inbound": {"bearer_tokens": ["0123456789abcdef"]}}]}'
    )
    assert parse_config(text).targets[0].vendor == "acc"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("vendor: rocketchat", "vendor: slack"),
            r"targets\[0\] \(chat\)\.vendor: Value error, no installed vendor plugin is called 'slack'; installed: .*rocketchat",
        ),
        (
            ("    inbound:", "    inbund: {}\n    inbound:"),
            r"targets\[0\] \(chat\)\.inbund: unknown key",
        ),
        (("https://chat.example.com", "chat.example.com"), r"targets\[0\] \(chat\)\.base_url"),
        (("name: chat", "name: 'a b'"), r"targets\[0\] \(a b\)\.name: Value error, a target name"),
        (
            ('["${CHAT_SCIM_TOKEN}"]', '["short"]'),
            r"targets\[0\] \(chat\)\.inbound\.bearer_tokens: Value error, a bearer token",
        ),
        (
            ("targets:", "max_filter_terms: 0\ntargets:"),
            r"max_filter_terms: Input should be greater than or equal to 1",
        ),
        (
            ("targets:", "public_base_url: idm.example.com\ntargets:"),
            r"public_base_url: Value error, the public base URL is http\(s\)://",
        ),
        (
            ("targets:", "public_base_url: https://idm.example.com/?x=1\ntargets:"),
            r"public_base_url: Value error",
        ),
        (
            ("targets:", "trusted_proxies: [10.0.0.1/8]\ntargets:"),
            r"trusted_proxies\[0\]: value is not a valid IPv4 or IPv6 network",
        ),
    ],
)
def test_an_invalid_value_names_the_file_and_the_key(change, message):
    with pytest.raises(ConfigError, match=r"^bridge\.yaml, line \d+, key " + message):
        parse_config(VALID.replace(*change), "bridge.yaml", environ=ENV)


def test_target_names_must_be_unique():
    targets = VALID.split("targets:\n")[1]
    with pytest.raises(ConfigError, match="repeated: chat"):
        parse_config(VALID + targets, environ=ENV)


def test_a_document_that_is_not_a_mapping_is_refused():
    with pytest.raises(ConfigError, match="must be a mapping"):
        parse_config("- just a list")


def test_the_config_path_falls_back_to_the_environment_variable(tmp_path, monkeypatch):
    file = tmp_path / "bridge.yaml"
    file.write_text(
        VALID.replace("${RC_USER}", "u")
        .replace("${RC_TOKEN}", "t")
        .replace("${CHAT_SCIM_TOKEN}", "0123456789abcdef")
    )
    monkeypatch.setenv("SCIMBRIDGE_CONFIG", str(file))
    assert load_config().target("chat").vendor == "rocketchat"


def test_an_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "missing.yaml")


def test_secrets_lists_every_credential_declared_secret_and_every_token():
    config = parse_config(VALID, environ=ENV)
    assert set(config.secrets()) == {"rc-secret", ENV["CHAT_SCIM_TOKEN"]}


def test_a_filter_holds_at_most_100_terms_by_default():
    assert parse_config(VALID, environ=ENV).max_filter_terms == 100


def test_the_public_base_url_is_kept_without_its_trailing_slash():
    text = "public_base_url: https://idm.example.com/identity/\n" + VALID
    assert parse_config(text, environ=ENV).public_base_url == "https://idm.example.com/identity"


def test_trusted_proxies_take_addresses_and_networks():
    text = "trusted_proxies: [10.0.0.7, 10.1.0.0/16, 'fd00::/8']\n" + VALID
    proxies = parse_config(text, environ=ENV).trusted_proxies
    assert [str(proxy) for proxy in proxies] == ["10.0.0.7/32", "10.1.0.0/16", "fd00::/8"]
