"""The distance test: the clip shrunk into a corner reads as the same people."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.cli import main
from installation.models import ModelStore
from installation.perception.networks import load_networks
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loading import load_config
from installation.tools.gan_distance import background, distance_scenes, run_distance
from installation.tools.gan_study import perceiver_for
from installation.tools.study_sources import StudyClip, load_clip, looped, noisy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(ROOT / "config.toml")


def _clip() -> StudyClip:
    rng = np.random.default_rng(3)
    frames = [rng.integers(20, 235, (120, 200, 3), dtype=np.uint8) for _ in range(5)]
    return StudyClip("noise", frames, 10.0)


@pytest.mark.parametrize("corner", ["bottom-right", "top-left"])
def test_the_inset_is_the_clip_shrunk_into_its_corner(corner: str) -> None:
    clip = _clip()
    moving, held = distance_scenes(clip, 7, 0.25, "black", corner, noise=0.0)
    assert len(moving) == len(held) == 7
    frame = moving[3]
    assert frame.shape == (120, 200, 3)
    iw, ih = 50, 30  # a quarter per side
    x0, y0 = (150, 90) if corner == "bottom-right" else (0, 0)
    small = cv2.resize(clip.frames[3], (iw, ih), interpolation=cv2.INTER_AREA)
    assert np.array_equal(frame[y0:y0 + ih, x0:x0 + iw], small)
    rest = frame.copy()
    rest[y0:y0 + ih, x0:x0 + iw] = 0
    assert not rest.any()  # the rest of the picture is the (black) background
    first = cv2.resize(clip.frames[0], (iw, ih), interpolation=cv2.INTER_AREA)
    assert all(np.array_equal(f[y0:y0 + ih, x0:x0 + iw], first) for f in held)


def test_backgrounds_are_the_frame_size() -> None:
    first = _clip().frames[0]
    blurred = background("still", first)
    assert blurred.shape == first.shape and blurred.std() < first.std()  # blurred
    assert background("room", first).shape == first.shape
    assert not background("black", first).any()
    with pytest.raises(ValueError, match="black"):
        background("white", first)


def test_the_perceived_visitors_shrink_with_the_inset(cfg: Config, store: ModelStore) -> None:
    """People at half the size per side read half as tall, moving as many body heights
    per second."""
    clip = load_clip("synthetic:near@0:75", cfg, store)
    networks = load_networks(cfg.perception, store)
    near = noisy(looped(clip, 75), 2.0, 1)
    far, _ = distance_scenes(clip, 75, 0.5, "still", "bottom-right", 2.0)
    heights = []
    for frames in (near, far):
        perceiver = perceiver_for(cfg, networks)
        assert perceiver is not None
        for i in range(75):
            v = perceiver.update(frames[i], i / clip.fps)
        heights.append(max(x.height for x in v.visitors))
    assert heights[1] == pytest.approx(heights[0] / 2, rel=0.2)


def _args(**kw: object) -> argparse.Namespace:
    base = {"scene": None, "generator": None, "json": True, "noise": 2.0, "frames": None,
            "perception": None, "seconds": 3.0, "background": "still",
            "corner": "bottom-right", "check": False}
    return argparse.Namespace(**{**base, **kw})


def test_gan_distance_command(cfg: Config, store: ModelStore, cpu: Device,
                              capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(source="synthetic:walkers", scale=[0.5])
    assert run_distance(cfg, store, cpu, args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["perception"] == "on" and result["background"] == "still"
    row = result["sources"][0]
    assert set(row["original"]) == {"moving", "still", "ratio"}
    far = row["insets"][0]
    assert far["scale"] == 0.5
    assert {"moving", "still", "ratio", "energy_change", "energy_raw_change", "energy_ok",
            "ratio_ok", "pass"} <= set(far)
    assert far["moving"]["visitors"] > 0 and far["still"]["visitors"] == 0
    assert far["pass"] == (far["energy_ok"] and far["ratio_ok"])


def test_people_too_small_to_see_fail_the_test(cfg: Config, store: ModelStore, cpu: Device,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """At a twentieth per side the walkers are below the smallest visitor: no energy, and
    `--check` turns the failure into exit 1."""
    args = _args(source="synthetic:walkers", scale=[0.05], check=True, json=False)
    assert run_distance(cfg, store, cpu, args) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("synthetic:walkers") and out[-1].endswith("NO")


@pytest.mark.parametrize("argv", [
    ["gan-distance", "--scale", "0"],
    ["gan-distance", "--scale", "1"],
    ["gan-distance", "--scale", "0.25,x"],
    ["gan-distance", "--scale", "nan"],
    ["gan-distance", "--frames", "9:3"],
    ["gan-response", "--frames", "abc"],
    ["gan-response", "--frames", "-4:8"],
    ["gan-distance", "--background", "white"],
])
def test_bad_flags_are_one_line_exit_2(argv: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"error: {argv[1]}: ")


def test_a_range_outside_the_clip_is_one_line_exit_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gan-distance", "--source", "demo:carphone@100:400", "--seconds", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: --frames 100:400") and "120" in err
