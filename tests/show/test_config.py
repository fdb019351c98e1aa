"""Every config error path names its key (and line), the value and what is allowed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import annotated_types
import pytest
from pydantic import BaseModel

from installation.effects.config import style_weights
from installation.errors import ConfigError
from installation.show.config import Config
from installation.show.loading import load_config

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
         "'raw' or 'gan'"),
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
        # Every value the config accepts is one the show can run: finite, bounded.
        ("[source]\nfps = nan\n", "source.fps", 2, "finite number"),
        ("[headless]\nduration_s = inf\n", "headless.duration_s", 2, "finite number"),
        ("[headless]\nduration_s = 1e308\n", "headless.duration_s", 2, "less than or equal"),
        ("[snapshots]\nmax_mb = 1e308\n", "snapshots.max_mb", 2, "less than or equal"),
        ("[[scenes]]\nname = 'a'\nstyles = [{3 = nan}]\n", "scenes[0].styles[0].3", 3,
         "finite number"),
        ("[[scenes]]\nname = 'a'\nstyles = [{3 = 1e308, 4 = 1e308}]\n", "scenes[0].styles", 3,
         "weights are 0..1000"),
        ("[[scenes]]\nname = 'a'\nstyles = [{3 = -inf}]\n", "scenes[0].styles[0].3", 3,
         "finite"),
        ("[[scenes]]\nname = 'a'\ndream = {layers = {'6' = inf}}\n",
         "scenes[0].dream.layers.6", 3, "finite number"),
        ("[[scenes]]\nname = 'a'\ndream = {layers = {'6' = 1e308}}\n",
         "scenes[0].dream.layers", 3, "0 < weight <= 100"),
        (f"{G}layers = [{{source = 'gan', placement = 'grid', grid = [0, 2]}}]\n",
         "scenes[0].layers[0].grid[0]", 4, "greater than or equal to 1"),
        (f"{G}layers = [{{source = 'gan', placement = 'grid', grid = [100000, 100000]}}]\n",
         "scenes[0].layers[0].grid[0]", 4, "less than or equal to 16"),
        ("[[scenes]]\nname = 'a'\nstyles = [" + "1, " * 65 + "]\n", "scenes[0].styles", 3,
         "at most 64"),
        ("[[scenes]]\nname = 'a'\neffect = [" + ", ".join(f"'fast-dream:n{i}'" for i in
                                                          range(9)) + "]\n",
         "scenes[0].effect", 3, "at most 8 effects"),
        ("[source]\nuri = '" + "x" * 5000 + "'\n", "source.uri", 2, "at most 4096"),
        ("[walk]\nmapping = [{signal = 'energy', axis = 1000}]\n", "walk.mapping[0].axis", 2,
         "less than or equal to 63"),
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


def test_a_scene_too_big_for_memory_is_refused_with_the_figure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("installation.show.config.memory_budget", lambda: 4 << 30)
    msg = _error(tmp_path, "[[scenes]]\nname = 'a'\n[[scenes]]\nname = 'b'\n"
                 "effect = 'dream'\nsize = [3840, 2160]\n")
    assert "config.toml:6:" in msg and "'scenes[1].size' = [3840, 2160]" in msg
    assert "dream at this size needs about 16.4 GB" in msg and "allows 4.0 GB" in msg
    path = tmp_path / "ok.toml"
    path.write_text("[[scenes]]\nname = 'a'\nsize = [1280, 720]\n")
    assert load_config(path).memory_bytes() < 4 << 30


@pytest.mark.parametrize(("data", "says"), [
    (b"", "is empty"),
    (b"  \n\t\n", "is empty"),
    ("[display]\nhud = true\n".encode("utf-16"), "UTF-16 text: save it as UTF-8"),
    ("# réglages\n[display]\n".encode("latin-1"), "config.toml:1: not UTF-8 text (byte 0xe9)"),
    (b"a = " + b"[\n" * 5000 + b"]\n" * 5000, "nested too deeply"),
    (b"a = " + b"[" * 9 + b"]" * 9, "nested more than 8 deep"),
    (b".".join([b"k"] * 100_000) + b" = 1\n", "a line of 200003 characters"),
    (b"#" * (2 << 20), "larger than 1024 kB"),
    (b'"a\\nb" = 1\n', "unknown key 'a\\nb'"),  # a newline in a key stays escaped
], ids=["empty", "blank", "utf-16", "latin-1", "deep", "depth-9", "dotted", "big", "nl-key"])
def test_any_bytes_are_one_line_naming_the_file(tmp_path: Path, data: bytes,
                                                says: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg and says in msg, msg


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf[display]\nhud = true\n")
    assert load_config(path).display.hud is True


def _bounded(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[str]:
    """Number fields of `model` and the sections inside it that lack a lower or upper bound."""
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        metadata = field.metadata
        has_low = any(isinstance(m, annotated_types.Ge | annotated_types.Gt) for m in metadata)
        has_high = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in metadata)
        if field.annotation in (int, float) and not (has_low and has_high):
            yield f"{model.__name__}.{name}"
        for inner in _models(field.annotation):
            yield from _bounded(inner, seen)


def _models(ann: object) -> Iterator[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        yield ann
    for arg in getattr(ann, "__args__", ()):
        yield from _models(arg)


def test_every_number_field_is_bounded() -> None:
    """Floats are finite in every section (the `Section` base); every int and float field
    also has both bounds, so no count, size or time is open-ended. (Sizes, grids, style and
    dream weights are tuples and tables, checked by their validators and above.)"""
    assert list(_bounded(Config, set())) == []
