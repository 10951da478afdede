"""``${NAME}`` references: read inside string values after the YAML is parsed, so a secret's
characters are never YAML, and no error message ever shows a secret."""

from __future__ import annotations

import pytest

from scimbridge.config import ConfigError, parse_config

CONFIG = """\
# bridge.yaml — values may reference the environment as ${NAME}
targets:
  - name: chat
    vendor: rocketchat
    base_url: https://chat.example.com
    credentials:
      user_id: "${RC_USER}"
      auth_token: ${RC_TOKEN}
    inbound:
      bearer_tokens: ["${SCIM_TOKEN}"]
      basic: {username: okta, password: '${OKTA_PASSWORD}'}
"""

AWKWARD = {
    "quote": 'a"quote-inside-it-long',
    "backslash": "back\\slash\\t-not-a-tab",
    "comment": "starts-well #then-a-comment",
    "list": 'first-token-0000", "second-token-0000',
    "colon": "key: value, {flow}: [x]",
    "newline": "two\nlines-of-secret-xx",
    "dollar": "${NOT_A_REFERENCE}-left-as-is",
}


def environment(**values: str) -> dict[str, str]:
    return {
        "RC_USER": "u1",
        "RC_TOKEN": "rc-token",
        "SCIM_TOKEN": "scim-token-0123456789",
        "OKTA_PASSWORD": "okta-password-0123456789",
        **values,
    }


@pytest.mark.parametrize("secret", AWKWARD.values(), ids=AWKWARD.keys())
def test_a_secret_is_read_exactly_whatever_its_characters(secret):
    config = parse_config(CONFIG, environ=environment(SCIM_TOKEN=secret, OKTA_PASSWORD=secret))
    inbound = config.target("chat").inbound
    assert [token.get_secret_value() for token in inbound.bearer_tokens] == [secret]
    assert inbound.basic.password.get_secret_value() == secret


@pytest.mark.parametrize("secret", AWKWARD.values(), ids=AWKWARD.keys())
def test_an_unquoted_reference_is_read_exactly(secret):
    config = parse_config(CONFIG, environ=environment(RC_TOKEN=secret))
    assert config.target("chat").secret("auth_token") == secret


def test_a_reference_in_a_comment_is_never_read():
    assert parse_config(CONFIG, environ=environment()).target("chat").vendor == "rocketchat"


def test_a_value_stays_a_string_whatever_the_variable_holds():
    text = CONFIG.replace('user_id: "${RC_USER}"', "user_id: ${RC_USER}")
    assert text != CONFIG
    config = parse_config(text, environ=environment(RC_USER="12345"))
    assert config.target("chat").secret("user_id") == "12345"


def test_a_reference_inside_a_longer_string_is_replaced_in_place():
    text = CONFIG.replace("https://chat.example.com", "https://${RC_HOST}/api")
    config = parse_config(text, environ=environment(RC_HOST="chat.internal:3000"))
    assert config.target("chat").base_url == "https://chat.internal:3000/api"


def test_a_double_dollar_writes_a_literal_reference():
    text = CONFIG.replace('"${SCIM_TOKEN}"', '"$${SCIM_TOKEN}-is-literal"')
    [token] = parse_config(text, environ=environment()).target("chat").inbound.bearer_tokens
    assert token.get_secret_value() == "${SCIM_TOKEN}-is-literal"


def test_a_stray_reference_start_is_refused_naming_line_and_key():
    text = CONFIG.replace('"${SCIM_TOKEN}"', '"${scim token}"')
    with pytest.raises(ConfigError, match=r"bridge.yaml, line 10, key targets\[0\] \(chat\)"):
        parse_config(text, "bridge.yaml", environ=environment())


def test_a_missing_variable_names_the_line_and_key_of_the_reference():
    env = environment()
    del env["OKTA_PASSWORD"]
    with pytest.raises(ConfigError) as refused:
        parse_config(CONFIG, "bridge.yaml", environ=env)
    assert str(refused.value) == (
        "bridge.yaml, line 11, key targets[0] (chat).inbound.basic.password: "
        "environment variable OKTA_PASSWORD is not set"
    )


def test_every_missing_variable_is_named_in_one_message_with_its_line_and_key():
    env = environment()
    for name in ("RC_USER", "RC_TOKEN", "OKTA_PASSWORD"):
        del env[name]
    with pytest.raises(ConfigError) as refused:
        parse_config(CONFIG, "bridge.yaml", environ=env)
    assert str(refused.value) == (
        "bridge.yaml, environment variables not set: RC_USER, RC_TOKEN, OKTA_PASSWORD\n"
        "  line 7, key targets[0] (chat).credentials.user_id: RC_USER\n"
        "  line 8, key targets[0] (chat).credentials.auth_token: RC_TOKEN\n"
        "  line 11, key targets[0] (chat).inbound.basic.password: OKTA_PASSWORD"
    )


def test_an_invalid_value_from_the_environment_is_refused_without_showing_it():
    with pytest.raises(ConfigError) as refused:
        parse_config(CONFIG, "bridge.yaml", environ=environment(SCIM_TOKEN="short-secret"))
    assert "line 10, key targets[0] (chat).inbound.bearer_tokens" in str(refused.value)
    assert "short-secret" not in str(refused.value)


def test_a_yaml_error_names_its_position_without_quoting_the_line():
    text = CONFIG.replace("base_url: https://chat.example.com", 'base_url: "literal-secret')
    with pytest.raises(ConfigError) as refused:
        parse_config(text, "bridge.yaml", environ=environment())
    assert str(refused.value).startswith("bridge.yaml, not valid YAML or JSON: line ")
    assert "literal-secret" not in str(refused.value)


def test_unset_variables_read_as_placeholders_when_secrets_are_not_required():
    config = parse_config(CONFIG, environ={}, require_env=False)
    assert config.target("chat").secret("auth_token") == "unset-environment-variable-RC_TOKEN"


def test_an_alias_of_a_substituted_value_is_substituted_once():
    text = CONFIG.replace('["${SCIM_TOKEN}"]', '[&token "${SCIM_TOKEN}", *token]')
    secret = "$${SCIM_TOKEN}-from-the-environment"
    config = parse_config(text, environ=environment(SCIM_TOKEN=secret))
    tokens = config.target("chat").inbound.bearer_tokens
    assert [token.get_secret_value() for token in tokens] == [secret, secret]
