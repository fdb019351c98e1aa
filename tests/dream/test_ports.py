"""What the live dream's ascent call carries: its settings exactly (a frame-count seed of
weeks too), and anything out of a scene's bounds refused in one line before any work (a
server runs what display machines send it)."""

from __future__ import annotations

import numpy as np
import pytest

from installation.dream.config import DreamConfig
from installation.dream.ports import (
    MAX_SIDES,
    SEED,
    SETTINGS,
    check_picture,
    read_settings,
    settings_vector,
)

ASCENT_FIELDS = ("layers", "steps", "step_size", "octaves", "octave_scale", "jitter_px")
W, H = MAX_SIDES


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


@pytest.mark.parametrize("shape", [(1, 3, 1, 1), (1, 3, 36, 52), (1, 3, H, W)])
def test_pictures_within_a_scene_s_bounds_are_taken(shape: tuple[int, ...]) -> None:
    check_picture(np.empty(shape, np.float32))  # never touched: only its shape is read


@pytest.mark.parametrize("bad", [
    np.zeros((1, 3, 36, 52), np.float64),
    np.zeros((1, 3, 36, 52), np.uint8),
    np.zeros((3, 36, 52), np.float32),
    np.zeros((2, 3, 36, 52), np.float32),
    np.zeros((1, 4, 36, 52), np.float32),
    np.zeros((1, 3, 0, 52), np.float32),
    np.empty((1, 3, H + 1, 16), np.float32),
    np.empty((1, 3, 16, W + 1), np.float32),
    # Few pixels, but each octave is dreamt at 32 px a side at least: 32 times its size.
    np.empty((1, 3, 1, W * H), np.float32),
])
def test_pictures_it_cannot_take_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="picture"):
        check_picture(bad)
