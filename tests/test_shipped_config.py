"""The shipped config.toml: it loads as it is, and so does every edit an operator makes by
uncommenting one of its commented `key = value` lines (a key commented under the wrong
table breaks start-up the moment someone uncomments it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from installation.show.loading import load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config.toml"

# A commented line that reads as a setting: `# key = value` (the value starts right after).
COMMENTED_KEY = re.compile(r"^(?P<indent>\s*)#\s?(?P<line>\s*[A-Za-z_][\w-]*\s*=\s*\S.*)$")

# Commented `key = value` lines that are deliberately not meant to be uncommented where they
# stand (an example of something else), each with the words its comment must carry to say
# so. None at present; one added here must say it in config.toml too.
EXAMPLES: dict[str, str] = {}


def commented_settings(text: str) -> list[tuple[int, str]]:
    """(line index, the line uncommented) for each commented `key = value` line."""
    found = []
    for i, line in enumerate(text.splitlines()):
        m = COMMENTED_KEY.match(line)
        if m:
            found.append((i, m["indent"] + m["line"]))
    return found


def test_the_shipped_config_loads() -> None:
    cfg = load_config(SHIPPED)
    assert cfg.scenes and cfg.first_scene == cfg.scenes[0].name


def test_the_pattern_finds_commented_settings_and_not_prose() -> None:
    text = ("# start_scene = \"eyes\"   # note\n#   fps = 30.0\n# layers: block (0..15) = w\n"
            "# Dreams. effect may be a list\nport = 8321  # x = 1\n")
    assert commented_settings(text) == [(0, 'start_scene = "eyes"   # note'),
                                        (1, "  fps = 30.0")]


SETTINGS = commented_settings(SHIPPED.read_text(encoding="utf-8"))


def test_there_are_commented_settings_to_check() -> None:
    assert any(line.startswith("start_scene") for _, line in SETTINGS)


@pytest.mark.parametrize(("index", "uncommented"), SETTINGS,
                         ids=[f"line{i + 1}" for i, _ in SETTINGS])
def test_uncommenting_any_commented_setting_still_loads(index: int, uncommented: str,
                                                        tmp_path: Path) -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    key = uncommented.split("=", 1)[0].strip()
    if key in EXAMPLES:
        assert EXAMPLES[key] in lines[index], f"line {index + 1}: say it is an example"
        return
    lines[index] = uncommented
    edited = tmp_path / "config.toml"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_config(edited)  # raises ConfigError (one line naming the key) when misplaced


def test_top_level_keys_come_before_any_table() -> None:
    """Where config.toml says top-level keys go, and `start_scene` is there."""
    text = SHIPPED.read_text(encoding="utf-8")
    first_table = text.index("\n[")
    assert "before the first [table]" in text[:first_table]
    assert "# start_scene = " in text[:first_table]
