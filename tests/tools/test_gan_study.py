"""The offline studies: the GAN layer answers motion, and the contact sheet of a walk."""

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
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loading import load_config
from installation.tools.gan_study import (
    mean_change,
    pingpong,
    run_contact_sheet,
    run_response,
    simulate,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(ROOT / "config.toml")


def test_pingpong_never_jumps() -> None:
    frames = [np.full((1, 1, 3), i, np.uint8) for i in range(4)]
    values = [int(f[0, 0, 0]) for f in pingpong(frames, 10)]
    assert values == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]


def test_motion_makes_the_gan_layer_change_faster(cfg: Config, eyes: Generator) -> None:
    """A synthetic visitor crossing a noisy room against the same room empty, 30 frames/s
    for 4 s of simulated time: the walk runs faster, so the GAN picture changes faster."""
    scene, fps, n = Scene(seed=2), 30.0, 120
    span = scene.width - scene.side
    moving = [scene.picture(abs((150.0 * i / fps) % (2 * span) - span)) for i in range(n)]
    empty = [scene.picture(None) for _ in range(n)]
    eyes_scene = cfg.scenes[0]
    m_change, m_energy = mean_change(simulate(moving, fps, n, cfg, eyes_scene, eyes))
    s_change, s_energy = mean_change(simulate(empty, fps, n, cfg, eyes_scene, eyes))
    assert s_energy < 0.02 < m_energy
    assert 0 < s_change < m_change


def test_simulation_is_deterministic_and_never_still(cfg: Config, faces: Generator) -> None:
    a = [s.image for s in simulate(None, 30.0, 20, cfg, cfg.scenes[1], faces)]
    b = [s.image for s in simulate(None, 30.0, 20, cfg, cfg.scenes[1], faces)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert all(not np.array_equal(x, y) for x, y in itertools.pairwise(a))  # idle drift


def _args(**kw: object) -> argparse.Namespace:
    base = {"scene": None, "generator": None, "source": "demo:carphone", "json": True,
            "noise": 2.0}
    return argparse.Namespace(**{**base, **kw})


def test_gan_response_command(cfg: Config, store: ModelStore, cpu: Device,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run_response(cfg, store, cpu, _args(seconds=4.0)) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["generator"] == "eyes" and result["fps"] == pytest.approx(29.97)
    assert result["moving"]["energy"] > result["still"]["energy"]
    assert result["ratio"] > 1.0
    with pytest.raises(UserError, match="--seconds"):
        run_response(cfg, store, cpu, _args(seconds=1.0))
    with pytest.raises(UserError, match="no such video"):
        run_response(cfg, store, cpu, _args(seconds=4.0, source="nowhere.mp4"))


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
