"""The offline studies: the GAN layer answers visitors, and the contact sheet of a walk."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from motion.scenes import Scene

from installation.errors import UserError
from installation.gan import Generator
from installation.models import ModelStore
from installation.perception.networks import load_networks
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loading import load_config
from installation.tools.gan_study import (
    measure,
    perceiver_for,
    pingpong,
    run_contact_sheet,
    run_response,
    simulate,
)
from installation.tools.study_sources import load_clip, looped, noisy, still

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(ROOT / "config.toml")


def test_pingpong_never_jumps() -> None:
    frames = [np.full((1, 1, 3), i, np.uint8) for i in range(4)]
    values = [int(f[0, 0, 0]) for f in pingpong(frames, 10)]
    assert values == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]


def test_motion_makes_the_gan_layer_change_faster(cfg: Config, eyes: Generator) -> None:
    """The whole-picture flow path (perception off): a synthetic visitor crossing a noisy
    room against the same room empty, 30 frames/s for 4 s of simulated time: the walk runs
    faster, so the GAN picture changes faster."""
    scene, fps, n = Scene(seed=2), 30.0, 120
    span = scene.width - scene.side
    moving = [scene.picture(abs((150.0 * i / fps) % (2 * span) - span)) for i in range(n)]
    empty = [scene.picture(None) for _ in range(n)]
    eyes_scene = cfg.scenes[0]
    m = measure(simulate(moving, fps, n, cfg, eyes_scene, eyes))
    s = measure(simulate(empty, fps, n, cfg, eyes_scene, eyes))
    assert s.energy < 0.02 < m.energy
    assert 0 < s.change < m.change and s.speed < m.speed
    assert m.energy_raw is None and m.visitors is None  # no visitors on this path


def test_visitors_make_the_walk_and_the_gan_layer_faster(cfg: Config, store: ModelStore,
                                                          eyes: Generator) -> None:
    """The perception path: three people walking through the synthetic room (a wide shot,
    0.12 to 0.3 of the frame's height) against the empty room, 4 s at 15 frames/s."""
    clip = load_clip("synthetic:walkers", cfg, store)
    n = 60
    networks = load_networks(cfg.perception, store)
    moving = noisy(looped(clip, n), 2.0, 1)
    empty = still(clip.frames[0], n, clip.fps, 2.0, 2)
    scene = cfg.scenes[0]
    m = measure(simulate(moving, clip.fps, n, cfg, scene, eyes, perceiver_for(cfg, networks)))
    s = measure(simulate(empty, clip.fps, n, cfg, scene, eyes, perceiver_for(cfg, networks)))
    assert m.visitors is not None and m.energy_raw is not None
    assert m.visitors >= 1.0 and s.visitors == 0.0
    assert m.energy_raw > 0.3 and s.energy_raw == 0.0 and s.energy == 0.0
    assert m.speed > 2 * s.speed and m.change > 2 * s.change


def test_simulation_is_deterministic_and_never_still(cfg: Config, faces: Generator) -> None:
    a = [s.image for s in simulate(None, 30.0, 20, cfg, cfg.scenes[1], faces)]
    b = [s.image for s in simulate(None, 30.0, 20, cfg, cfg.scenes[1], faces)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert all(not np.array_equal(x, y) for x, y in itertools.pairwise(a))  # idle drift


def _args(**kw: object) -> argparse.Namespace:
    base = {"scene": None, "generator": None, "source": "demo:carphone", "json": True,
            "noise": 2.0, "frames": None, "perception": None, "shots": False}
    return argparse.Namespace(**{**base, **kw})


FIELDS = {"change", "speed", "energy", "energy_raw", "visitors"}


def test_gan_response_command(cfg: Config, store: ModelStore, cpu: Device,
                              capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(seconds=3.0, source="demo:carphone@0:60,synthetic:walkers")
    assert run_response(cfg, store, cpu, args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["generator"] == "eyes" and result["perception"] == "on"
    carphone, walkers = result["sources"]
    assert carphone["fps"] == pytest.approx(29.97) and carphone["frames"] == [0, 60]
    assert walkers["fps"] == 15.0
    for row in (carphone, walkers):
        assert set(row["moving"]) == FIELDS and set(row["still"]) == FIELDS
        assert row["moving"]["energy_raw"] > row["still"]["energy_raw"]
        assert row["moving"]["speed"] > row["still"]["speed"]
        assert row["ratio"] > 1.0
    assert walkers["still"]["visitors"] == 0  # the empty room
    assert carphone["still"]["visitors"] >= 0.5  # he is there even when he holds still


def test_gan_response_without_perception(cfg: Config, store: ModelStore, cpu: Device,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(seconds=2.5, source="demo:carphone", frames=(10, 50), perception="off")
    assert run_response(cfg, store, cpu, args) == 0
    result = json.loads(capsys.readouterr().out)
    row = result["sources"][0]
    assert result["perception"] == "off" and row["frames"] == [10, 50]
    assert row["moving"]["energy_raw"] is None and row["moving"]["visitors"] is None
    assert row["moving"]["energy"] > row["still"]["energy"]


def test_gan_response_table(cfg: Config, store: ModelStore, cpu: Device,
                            capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(seconds=2.5, source="synthetic:walkers", json=False)
    assert run_response(cfg, store, cpu, args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "perception on" in out[0]
    assert out[-1].startswith("synthetic:walkers") and out[-1].count("x") >= 1


@pytest.mark.parametrize(("kw", "words"), [
    ({"seconds": 1.0}, "--seconds"),
    ({"seconds": 4.0, "source": "nowhere.mp4"}, "no such video"),
    ({"seconds": 4.0, "source": "synthetic:nobody"}, "synthetic:walkers"),
    ({"seconds": 4.0, "source": "demo:carphone@100:400"}, "120 frames"),
    ({"seconds": 4.0, "source": "demo:carphone@9:3"}, "START below STOP"),
    ({"seconds": 4.0, "frames": (500, None)}, "--frames"),
    ({"seconds": 4.0, "source": " , "}, "--source"),
])
def test_gan_response_refuses_in_one_line(cfg: Config, store: ModelStore, cpu: Device,
                                          kw: dict[str, object], words: str) -> None:
    with pytest.raises(UserError, match=words) as refused:
        run_response(cfg, store, cpu, _args(**kw))
    assert "\n" not in str(refused.value)


def test_shots_of_the_bikes_montage(cfg: Config, store: ModelStore, cpu: Device,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run_response(cfg, store, cpu, _args(seconds=4.0, source="demo:bikes",
                                                shots=True)) == 0
    found = json.loads(capsys.readouterr().out)["shots"]["demo:bikes"]
    spans = [(s["start"], s["stop"]) for s in found]
    assert spans == [(0, 30), (30, 76), (76, 137), (137, 187), (187, 242), (242, 250)]
    steadiest = min(found, key=lambda s: s["camera"])
    assert (steadiest["start"], steadiest["stop"]) == (137, 187)


def test_contact_sheet_command(tmp_path: Path, cfg: Config, store: ModelStore,
                               cpu: Device) -> None:
    out = tmp_path / "sheet.png"
    args = _args(out=out, seconds=2.0, cols=4, rows=2, tile=64, generator="faces")
    assert run_contact_sheet(cfg, store, cpu, args) == 0
    sheet = cv2.imread(str(out))
    assert sheet.shape == (2 * 64, 4 * 64, 3)
    tiles = [sheet[r * 64:(r + 1) * 64, c * 64:(c + 1) * 64] for r in range(2) for c in range(4)]
    assert all(t.std() > 5 for t in tiles)  # every tile is a picture
    assert not np.array_equal(tiles[0], tiles[-1])  # the walk went somewhere
    with pytest.raises(UserError, match="tiles"):
        run_contact_sheet(cfg, store, cpu, _args(out=out, seconds=0.1, cols=8, rows=8,
                                                 tile=64, source="none"))
