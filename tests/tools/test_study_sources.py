"""The studies' clips: frame ranges, synthetic scenes, loops, noise, stills and shots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.errors import UserError
from installation.models import ModelStore
from installation.show.config import Config
from installation.show.loading import load_config
from installation.tools.study_sources import (
    SYNTHETIC,
    StudyClip,
    load_clip,
    looped,
    noisy,
    parse_range,
    shots,
    split_source,
    still,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(ROOT / "config.toml")


def test_ranges_and_sources_with_a_range() -> None:
    assert parse_range("187:242") == (187, 242)
    assert parse_range(":50") == (0, 50) and parse_range("10:") == (10, None)
    for bad in ("242:187", "5:5", "-1:4", "a:b", "12", ""):
        with pytest.raises(UserError, match="--frames"):
            parse_range(bad)
    assert split_source("demo:bikes@187:242") == ("demo:bikes", (187, 242))
    assert split_source("demo:bikes") == ("demo:bikes", None)
    assert split_source("clips/me@home.mp4") == ("clips/me@home.mp4", None)  # no range
    with pytest.raises(UserError, match="demo:bikes@9:3"):
        split_source("demo:bikes@9:3")


def test_a_frame_range_of_a_demo_clip(cfg: Config, store: ModelStore) -> None:
    whole = load_clip("demo:carphone", cfg, store)
    part = load_clip("demo:carphone@30:40", cfg, store)
    assert len(whole.frames) == 120 and len(part.frames) == 10 and part.start == 30
    assert np.array_equal(part.frames[0], whole.frames[30])
    assert np.array_equal(part.frames[-1], whole.frames[39])
    assert part.size == (176, 144) and part.fps == pytest.approx(29.97, abs=0.01)
    default = load_clip("demo:carphone", cfg, store, (100, None))
    assert len(default.frames) == 20 and default.start == 100
    big = load_clip("demo:bigbuckbunny@0:2", cfg, store)
    assert big.size == (640, 360)  # 1280x720 shrunk to a camera's width


def test_synthetic_scenes_are_clean_and_have_people(cfg: Config, store: ModelStore) -> None:
    for name in SYNTHETIC:
        clip = load_clip(f"synthetic:{name}", cfg, store)
        assert clip.fps == 15.0 and clip.size == (640, 360)
        a, b = clip.frames[40], clip.frames[40]
        assert np.array_equal(a, b)  # rendered the same each time, no noise of its own
        assert not np.array_equal(clip.frames[0], a)  # someone came in


def test_loops_noise_and_stills() -> None:
    frames = [np.full((4, 6, 3), 10 * i + 100, np.uint8) for i in range(4)]
    clip = StudyClip("x", frames, 10.0)
    loop = looped(clip, 9)
    assert [int(f[0, 0, 0]) for f in loop] == [100, 110, 120, 130, 120, 110, 100, 110, 120]
    grainy = noisy(loop, 2.0, seed=1)
    assert np.array_equal(grainy[3], grainy[3])  # the same noise for the same frame
    assert not np.array_equal(grainy[0], loop[0]) and abs(
        float(grainy[0].astype(float).mean()) - 100.0) < 1.0
    held = still(frames[2], 5, 10.0, 2.0, seed=2)
    assert len(held) == 5 and not np.array_equal(held[0], held[1])
    assert all(abs(float(f.astype(float).mean()) - 120.0) < 1.0 for f in held)


def test_shots_find_a_cut_and_a_moving_camera() -> None:
    rng = np.random.default_rng(0)
    room = (rng.uniform(0, 255, (90, 160, 3))).astype(np.uint8)
    other = (rng.uniform(0, 255, (90, 160, 3))).astype(np.uint8)
    fixed = [room] * 10
    panning = [np.roll(other, 2 * i, axis=1) for i in range(10)]  # 2 px per frame
    found = shots(fixed + panning, 25.0)
    assert [(s.start, s.stop) for s in found] == [(0, 10), (10, 20)]
    assert found[0].camera == 0.0
    assert found[1].camera == pytest.approx(2 * 25 / 160, rel=0.05)  # widths/s
