"""Every config error path names its key (and line), the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.effects.config import style_weights
from installation.errors import ConfigError
from installation.show.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]
G = "[[scenes]]\nname = 'a'\ngenerator = 'eyes'\n"  # a scene with a generator, lines 1-3


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
        ("[[scenes]]\nname = 'a'\neffect = 'dreamy'\n", "scenes[0].effect", 3, "'style'"),
        # Effect chains and the dream table.
        ("[[scenes]]\nname = 'a'\neffect = ['style', 'arbitrary']\n", "scenes[0].effect", 3,
         "one painting effect"),
        ("[[scenes]]\nname = 'a'\neffect = ['none', 'dream']\n", "scenes[0].effect", 3,
         "'none' stands alone"),
        ("[[scenes]]\nname = 'a'\neffect = ['dream', 'dream']\n", "scenes[0].effect", 3,
         "appears twice"),
        ("[[scenes]]\nname = 'a'\neffect = 'fast-dream:My Net'\n", "scenes[0].effect", 3,
         "NAME: a-z"),
        ("[[scenes]]\nname = 'a'\neffect = []\n", "scenes[0].effect", 3, "a list of them"),
        ("[[scenes]]\nname = 'a'\ndream = {layers = {'16' = 1.0}}\n",
         "scenes[0].dream.layers", 3, "allowed 0..15"),
        ("[[scenes]]\nname = 'a'\ndream = {steps = 0}\n", "scenes[0].dream.steps", 3,
         "greater than or equal to 1"),
        ("[[scenes]]\nname = 'a'\ndream = {depth = 3}\n", "scenes[0].dream.depth", 3,
         "allowed keys here: feedback, jitter_px, layers"),
        ("[[scenes]]\nname = 'a'\neffect = 'dream'\npaint_gan = true\n", "scenes[0].paint_gan",
         4, "painting effect"),
        ("[[scenes]]\nname = 'a'\ncolour = 1\n", "scenes[0].colour", 3, "preserve_color"),
        # Temporal stabilisation.
        ("[[scenes]]\nname = 'a'\ntemporal = {strength = 1.0}\n",
         "scenes[0].temporal.strength", 3, "less than or equal to 0.98"),
        ("[[scenes]]\nname = 'a'\ntemporal = {flow = 'best'}\n", "scenes[0].temporal.flow",
         3, "'fast' or 'medium'"),
        ("[[scenes]]\nname = 'a'\neffect = 'none'\ntemporal = {enabled = true}\n",
         "scenes[0].temporal", 4, "not repainted"),
        ("[[scenes]]\nname = 'a'\n[[scenes]]\nname = 'a'\n", "scenes", 0, "repeated: a"),
        ("scenes = []\n", "scenes", 1, "at least 1"),
        ("start_scene = 'b'\n[[scenes]]\nname = 'a'\n", "start_scene", 1, "scenes: a"),
        # Scenes with generated imagery: layers, generators, mappings.
        ("[[scenes]]\nname = 'a'\nlayers = [{source = 'gan'}]\n", "scenes[0].layers", 3,
         "generator = 'none'"),
        ("[[scenes]]\nname = 'a'\ngenerator = 'cats'\n", "scenes[0].generator", 3,
         "'eyes' or 'faces'"),
        (f"{G}layers = [{{source = 'gan', blend = 'burn'}}]\n", "scenes[0].layers[0].blend", 4,
         "'screen'"),
        (f"{G}layers = [{{source = 'gan', opacity = 1.5}}]\n", "scenes[0].layers[0].opacity",
         4, "less than or equal to 1"),
        (f"{G}layers = [{{source = 'gan', placement = 'sky'}}]\n",
         "scenes[0].layers[0].placement", 4, "'motion'"),
        (f"{G}layers = [{{source = 'gan', colour = 1}}]\n", "scenes[0].layers[0].colour", 4,
         "allowed keys here: blend, drift_speed, grid"),
        (f"{G}layers = [{{source = 'video'}}]\n", "scenes[0].layers[0].source", 4,
         "'camera' or 'gan'"),
        (f"{G}layers = []\n", "scenes[0].layers", 4, "at least 1"),
        (f"{G}mapping = [{{signal = 'nose', axis = 0}}]\n", "scenes[0].mapping[0].signal", 4,
         "'centroid_x'"),
        (f"{G}mapping = [{{signal = 'energy', axis = 4}}]\n", "scenes[0].mapping[0].axis", 4,
         "allowed 0..3 (walk.axes = 4)"),
        (f"[walk]\naxes = 2\n{G}mapping = [{{signal = 'energy', axis = 2}}]\n",
         "scenes[0].mapping[0].axis", 6, "allowed 0..1"),
        (f"{G}effect = 'none'\npaint_gan = true\n", "scenes[0].paint_gan", 5, "'style'"),
        ("[walk]\nlabels = 8\n", "walk.labels", 2, "come from the generator"),
        ("[walk]\nmapping = [{signal = 'energy', axis = 9}]\n", "walk.mapping", 2, "0..3"),
        ("[walk]\nidle_speed = 0\n", "walk.idle_speed", 2, "greater than 0"),
        ("[motion]\nwidth = 8\n", "motion.width", 2, "greater than or equal to 32"),
        ("[attract]\nafter_s = 0.5\n", "attract.after_s", 2, "greater than or equal to 1"),
        ("[attract]\nfade_out_s = 3\n", "attract.fade_out_s", 2, "less than or equal to 1"),
        ("[attract]\nabsent_below = 0.5\narrive_above = 0.3\n", "attract.arrive_above", 3,
         "at least absent_below"),
        ("[attract]\ngenerator = 'none'\n", "attract.generator", 2, "'eyes' or 'faces'"),
        ("[attract]\nlayers = [{source = 'gan', blend = 'x'}]\n", "attract.layers[0].blend",
         2, "'normal'"),
        ("[compositor]\nscene_fade_s = -1\n", "compositor.scene_fade_s", 2, "0"),
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


def test_scene_layers_and_walk_per_scene(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[walk]\nseed = 5\n"
        "[[scenes]]\nname = 'plain'\n"
        "[[scenes]]\nname = 'eyes'\ngenerator = 'eyes'\n"
        "mapping = [{signal = 'energy', axis = 3, gain = 2.0, mode = 'velocity'}]\n"
        "layers = [{source = 'camera'}, {source = 'gan', blend = 'screen', "
        "placement = 'motion'}]\n"
    )
    cfg = load_config(path)
    plain, eyes = cfg.scenes
    assert not plain.has_gan and eyes.has_gan
    assert [ly.source for ly in eyes.layers] == ["camera", "gan"]
    walk = cfg.walk_for(eyes, labels=8)
    assert walk.seed == 5 and walk.labels == 8 and walk.mapping == eyes.mapping
    assert cfg.walk_for(plain, labels=0).mapping == cfg.walk.mapping  # [walk]'s own
    assert cfg.interactive  # attract is on by default
    off = load_config(None).model_copy(
        update={"attract": cfg.attract.model_copy(update={"enabled": False})})
    assert not off.interactive  # no GAN layer, no attract: no motion analysis at all


def test_effect_chains_and_dream_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[[scenes]]\nname = 'a'\neffect = ['style', 'fast-dream:deep']\n"
                    "[[scenes]]\nname = 'b'\neffect = 'dream'\n"
                    "dream = {layers = {'6' = 1.0, '9' = 0.5}, steps = 3}\n")
    a, b = load_config(path).scenes
    assert a.chain == ("style", "fast-dream:deep") and a.painter == "style"
    assert b.chain == ("dream",) and b.painter is None
    assert b.dream.weights() == {6: 1.0, 9: 0.5} and b.dream.steps == 3


@pytest.mark.parametrize(("text", "key", "says"), [
    ("[adaptive]\ntarget_fps = -1.0\n", "adaptive.target_fps", "greater than or equal to 0"),
    ("[adaptive]\nmin_scale = 0.05\n", "adaptive.min_scale", "greater than or equal to 0.1"),
    ("[adaptive]\nfloor = 0.5\n", "adaptive.floor", "allowed keys here: down_after_s"),
])
def test_adaptive_settings_are_checked(text: str, key: str, says: str, tmp_path: Path) -> None:
    msg = _error(tmp_path, text)
    assert f"'{key}'" in msg and says in msg
