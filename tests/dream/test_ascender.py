"""The live dream's ascent as one network call: the same picture as the ascent itself, its
settings carried exactly, and anything else refused in one line (a server runs what
display machines send it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from installation.dream.ascender import (
    MAX_PIXELS,
    SEED,
    SETTINGS,
    DreamAscent,
    read_settings,
    settings_vector,
)
from installation.dream.ascent import dream
from installation.dream.backbone import EfficientNetLite0, load_backbone
from installation.dream.config import DreamConfig
from installation.models import ModelStore

ASCENT_FIELDS = ("layers", "steps", "step_size", "octaves", "octave_scale", "jitter_px")


@pytest.fixture(scope="module")
def net(store: ModelStore) -> EfficientNetLite0:
    return load_backbone(store)


def picture(h: int = 36, w: int = 52, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (1, 3, h, w)).astype(np.float32)


def test_the_call_is_the_ascent(net: EfficientNetLite0) -> None:
    cfg = DreamConfig(layers={"3": 1.0, "6": 0.5}, steps=2, step_size=5.0, octaves=2,
                      jitter_px=4)
    x = picture()
    (out,) = DreamAscent(net).run({"picture": x, "settings": settings_vector(cfg, 17)})
    want = dream(net, torch.from_numpy(x), {3: 1.0, 6: 0.5}, 2, 5.0, 2, 1.4, 4, seed=17)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_array_equal(out, want.numpy())
    assert np.abs(out - x).mean() > 1.0  # it dreamt


@pytest.mark.parametrize("seed", [0, 1, 2**31 + 5, 30 * 86400 * 60 + 7, 2**53 - 1])
@pytest.mark.parametrize("cfg", [
    DreamConfig(),
    DreamConfig(layers={"0": 0.25, "15": 100.0}, steps=50, step_size=0.5, octaves=6,
                octave_scale=3.0, jitter_px=0),
    DreamConfig(layers={"9": 1e-3}, steps=1, step_size=50.0, octave_scale=1.1, jitter_px=64),
])
def test_settings_travel_exactly(cfg: DreamConfig, seed: int) -> None:
    back, got_seed = read_settings(settings_vector(cfg, seed))
    assert got_seed == seed  # a frame count of weeks: exact, not rounded
    assert {f: getattr(back, f) for f in ASCENT_FIELDS} == {
        f: getattr(cfg, f) for f in ASCENT_FIELDS}


def changed(index: int, value: float) -> np.ndarray:
    vec = settings_vector(DreamConfig(), 3)
    vec[index] = value
    return vec


@pytest.mark.parametrize(("vec", "says"), [
    (np.zeros(SETTINGS - 1), "numbers"),
    (np.zeros(SETTINGS + 3), "numbers"),
    (changed(SEED, -1), "seed"),
    (changed(SEED, 2.5), "seed"),
    (changed(SEED, float("nan")), "seed"),
    (changed(SEED, float("inf")), "seed"),
    (changed(SEED, 2.0**60), "seed"),
    (changed(0, 0), "steps"),
    (changed(0, 1e9), "steps"),
    (changed(0, 2.5), "steps"),
    (changed(0, float("nan")), "steps"),
    (changed(1, 0), "step_size"),
    (changed(1, float("inf")), "step_size"),
    (changed(1, float("nan")), "step_size"),
    (changed(2, 7), "octaves"),
    (changed(3, 0.5), "octave_scale"),
    (changed(4, -1), "jitter_px"),
    (changed(4, 1e6), "jitter_px"),
    (np.concatenate([settings_vector(DreamConfig(), 3)[:SEED + 1], np.zeros(16)]), "block"),
    (changed(SEED + 1 + 6, float("nan")), "layers.6: .*finite"),
    (changed(SEED + 1 + 6, -1.0), "weight"),
    (changed(SEED + 1 + 2, 101.0), "weight"),
])
def test_settings_out_of_bounds_are_refused(vec: np.ndarray, says: str) -> None:
    with pytest.raises(ValueError, match=says) as refused:
        read_settings(vec)
    assert "\n" not in str(refused.value)  # one line, for the server's answer and the log


@pytest.mark.parametrize("bad", [
    picture().astype(np.float64),
    picture().astype(np.uint8),
    picture()[0],
    np.zeros((2, 3, 36, 52), np.float32),
    np.zeros((1, 4, 36, 52), np.float32),
    np.zeros((1, 3, 0, 52), np.float32),
    np.empty((1, 3, 2160, MAX_PIXELS // 2160 + 1), np.float32),  # never touched: refused first
])
def test_pictures_it_cannot_take_are_refused(net: EfficientNetLite0, bad: np.ndarray) -> None:
    settings = settings_vector(DreamConfig(steps=1), 1)
    with pytest.raises(ValueError, match="picture"):
        DreamAscent(net).run({"picture": bad, "settings": settings})


def test_it_describes_itself_as_a_network(net: EfficientNetLite0) -> None:
    ascent = DreamAscent(net)
    assert [p.name for p in ascent.inputs] == ["picture", "settings"]
    assert [p.name for p in ascent.outputs] == ["dream"]
    assert ascent.engine == "torch" and "live-dream" in ascent.describe()
