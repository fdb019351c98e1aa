"""Every config error path names its key (and line), the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.config import Config, load_config, style_weights
from installation.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _error(tmp_path: Path, text: str, **overrides: object) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path, overrides)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_shipped_config_is_valid() -> None:
    cfg = load_config(ROOT / "config.toml")
    assert cfg.first_scene == cfg.scenes[0].name
    assert cfg.display.mirror is True


def test_defaults_without_a_file() -> None:
    assert load_config(None) == Config()


@pytest.mark.parametrize(
    ("text", "key", "line", "hint"),
    [
        ("[display]\nvsnc = true\n", "display.vsnc", 2, "allowed keys here: display, fit"),
        ("speed = 3\n", "speed", 1, "allowed keys here:"),
        ("[display]\nfit = 'zoom'\n", "display.fit", 2, "'fit' or 'fill'"),
        ("[source]\n\nfps = 'fast'\n", "source.fps", 3, "valid number"),
        ("[display]\nfullscreen = 'yes'\n", "display.fullscreen", 2, "valid boolean"),
        ("[display]\nwidth = '640'\n", "display.width", 2, "valid integer"),
        ("[source]\nfps = 1000\n", "source.fps", 2, "less than or equal to 240"),
        ("[source]\non_missing = 'crash'\n", "source.on_missing", 2, "'demo' or 'exit'"),
        ("[source]\nreconnect_max_s = 0.1\n", "source.reconnect_max_s", 2, "reconnect_min_s"),
        ("[recording]\ncrf = 60\n", "recording.crf", 2, "less than or equal to 51"),
        ("[runtime]\ndevice = 'tpu'\n", "runtime.device", 2, "'auto', 'cpu' or 'cuda'"),
        ("[logging]\nlevel = 'loud'\n", "logging.level", 2, "'debug'"),
        ("[[scenes]]\nname = 'a'\nstrength = 1.5\n", "scenes[0].strength", 3, "1"),
        ("[[scenes]]\nname = 'a'\n[[scenes]]\nname = 'b'\nsize = [10, 10]\n",
         "scenes[1].size", 5, "32..3840"),
        ("[[scenes]]\nname = 'a'\nstyles = [30]\n", "scenes[0].styles", 3, "0..25"),
        ("[[scenes]]\nname = 'a'\nstyles = [{3 = -1.0}]\n", "scenes[0].styles", 3, ">= 0"),
        ("[[scenes]]\nname = 'a'\neffect = 'dream'\n", "scenes[0].effect", 3, "'style'"),
        ("[[scenes]]\nname = 'a'\ncolour = 1\n", "scenes[0].colour", 3, "preserve_color"),
        ("[[scenes]]\nname = 'a'\n[[scenes]]\nname = 'a'\n", "scenes", 0, "repeated: a"),
        ("scenes = []\n", "scenes", 1, "at least 1"),
        ("start_scene = 'b'\n[[scenes]]\nname = 'a'\n", "start_scene", 1, "scenes: a"),
    ],
)
def test_bad_value_names_key_line_and_allowed(
    tmp_path: Path, text: str, key: str, line: int, hint: str
) -> None:
    msg = _error(tmp_path, text)
    assert f"'{key}'" in msg
    if line:
        assert f"config.toml:{line}:" in msg
    assert hint in msg


def test_flag_against_a_plain_value_is_refused(tmp_path: Path) -> None:
    msg = _error(tmp_path, "source = 'x'\n", **{"source.uri": "demo"})
    assert "must be a [source] section" in msg


def test_not_toml(tmp_path: Path) -> None:
    assert "not valid TOML" in _error(tmp_path, "[display\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found: pass --config"):
        load_config(tmp_path / "nope.toml")


def test_flags_override_and_are_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[[scenes]]\nname = 'a'\n[[scenes]]\nname = 'b'\n")
    cfg = load_config(path, {"source.uri": "demo", "start_scene": "b"})
    assert cfg.source.uri == "demo" and cfg.first_scene == "b"
    msg = _error(tmp_path, "[[scenes]]\nname = 'a'\n", start_scene="zzz")
    assert msg.startswith("--scene:") and "'zzz'" in msg


def test_style_weights_blend_normalised() -> None:
    w = style_weights({"3": 1.0, "12": 3.0})
    assert len(w) == 26 and abs(sum(w) - 1) < 1e-9
    assert w[3] == pytest.approx(0.25) and w[12] == pytest.approx(0.75)
    assert style_weights(7)[7] == 1.0
    with pytest.raises(ValueError, match="all zero"):
        style_weights({"3": 0.0})
