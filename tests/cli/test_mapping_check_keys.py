"""``scimbridge mapping check`` warns of a mapping that can give a user named in another script
an account key of punctuation alone, as Rocket.Chat's default once did (``山田太郎@例え.jp`` →
``-``); the mapping stays usable, so the exit status stays 0."""

from __future__ import annotations

import textwrap

from scimbridge.commands.mapping import mapping
from scimbridge.config import default_mapping

WARNING = "warning: "


def without_transliteration(tmp_path) -> str:
    """Rocket.Chat's default mapping as it was: cleaned, not transliterated, no fall-through."""
    shipped = default_mapping("rocketchat").read_text("utf-8")
    kept = [
        line
        for line in shipped.splitlines(keepends=True)
        if line.strip() not in ("- transliterate", "- {min_letters: 2}")
    ]
    path = tmp_path / "chat.yaml"
    path.write_text("".join(kept), encoding="utf-8")
    return str(path)


def test_check_warns_of_a_mapping_that_cleans_names_without_transliterating(runner, tmp_path):
    path = without_transliteration(tmp_path)

    result = runner.invoke(mapping, ["check", path])

    assert result.exit_code == 0, result.output
    assert f"ok: {path} (rocketchat)" in result.stdout
    assert f"{WARNING}{path}: a user named in another script" in result.stderr
    assert "  username '-' for 山田太郎@例え.jp (Japanese)\n" in result.stderr
    assert "  username '-.-' for иван.петров@пример.рф (Cyrillic)\n" in result.stderr
    assert "  username '-' for محمد@مثال.مصر (Arabic)\n" in result.stderr


def test_check_warns_of_a_mapping_that_refuses_a_name_in_another_script(runner, tmp_path):
    path = tmp_path / "chat.yaml"
    path.write_text(
        textwrap.dedent(
            """\
        vendor: rocketchat
        record:
          username:
            path: userName
            transform: [{replace: {pattern: "[^A-Za-z0-9._-]+", with: ""}}, {min_letters: 2}]
          emails: {path: emails.value, as: list}
          importIds: {value_of: bridge.stable_id, as: list}
        deprovision:
          on_deactivate: {action: disable, note: deactivated}
          on_reactivate: {action: import, note: re-activated}
          on_delete: {action: disable, note: deactivated}
        """
        ),
        encoding="utf-8",
    )

    result = runner.invoke(mapping, ["check", str(path)])

    assert result.exit_code == 0, result.output
    assert "  refuses 李小龙@例子.中国 (Chinese): userName is required by " in result.stderr


def test_the_shipped_mappings_give_every_script_a_usable_key(runner, monkeypatch):
    monkeypatch.delenv("SCIMBRIDGE_CONFIG", raising=False)

    result = runner.invoke(mapping, ["check"])

    assert result.exit_code == 0, result.output
    assert WARNING not in result.stderr
