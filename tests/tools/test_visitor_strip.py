"""The strip of frames of the scenes that place things on visitors."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.errors import UserError
from installation.models import ModelStore
from installation.perception.networks import load_networks
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loading import load_config
from installation.tools.people_scenes import Clip
from installation.tools.study_sources import load_clip
from installation.tools.visitor_strip import Row, parse_rows, picks, run_strip

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(ROOT / "config.toml")


def test_rows_by_default_are_the_visitor_scenes_and_a_real_clip(cfg: Config) -> None:
    rows = [(scene.name, source) for scene, source in parse_rows(None, cfg)]
    visitor_scenes = [s.name for s in cfg.scenes if s.uses_visitors]
    assert len(visitor_scenes) >= 3
    assert rows[:-1] == [(name, "synthetic:near") for name in visitor_scenes]
    assert rows[-1][1].startswith("demo:")
    given = parse_rows("eyes=synthetic:walkers, masks=demo:bikes@187:242", cfg)
    assert [(s.name, src) for s, src in given] == [("eyes", "synthetic:walkers"),
                                                    ("masks", "demo:bikes@187:242")]
    for bad, words in (("eyes", "SCENE=SOURCE"), ("=demo", "SCENE=SOURCE"),
                       ("nobody=demo", "--scene")):
        with pytest.raises(UserError, match=words):
            parse_rows(bad, cfg)


def test_picks_spread_along_the_clip() -> None:
    assert picks(150, 15.0, 5) == [22, 54, 86, 117, 149]  # from 1.5 s to the end
    with pytest.raises(UserError, match="--cols"):
        picks(30, 15.0, 16)


def _args(out: Path, **kw: object) -> argparse.Namespace:
    return argparse.Namespace(**{"out": out, "rows": None, "cols": 2, "tile": 96,
                                 "colours": 0, **kw})


def test_the_strip_has_a_row_per_scene_and_a_tile_per_frame(
        tmp_path: Path, cfg: Config, store: ModelStore, cpu: Device) -> None:
    out = tmp_path / "strip.png"
    rows = "eyes=synthetic:near@0:60,portraits=synthetic:near@0:60"
    assert run_strip(cfg, store, cpu, _args(out, rows=rows, cols=3)) == 0
    strip = cv2.imread(str(out))
    th, tw = 54, 96  # the scenes' 16:9 at 96 px wide
    assert strip.shape == (2 * th, 3 * tw, 3)
    tiles = [strip[r * th:(r + 1) * th, c * tw:(c + 1) * tw] for r in range(2)
             for c in range(3)]
    assert all(t.std() > 10 for t in tiles)  # pictures, not blank
    assert not np.array_equal(tiles[0], tiles[2])  # the clip moved on
    assert not np.array_equal(tiles[2], tiles[5])  # two scenes, two pictures


def test_a_palette_strip_is_smaller(tmp_path: Path, cfg: Config, store: ModelStore,
                                    cpu: Device) -> None:
    full, small = tmp_path / "full.png", tmp_path / "small.png"
    rows = "portraits=synthetic:near@0:45"
    assert run_strip(cfg, store, cpu, _args(full, rows=rows)) == 0
    assert run_strip(cfg, store, cpu, _args(small, rows=rows, colours=64)) == 0
    assert small.stat().st_size < full.stat().st_size
    assert cv2.imread(str(small)).shape == cv2.imread(str(full)).shape
    with pytest.raises(UserError, match="--colours"):
        run_strip(cfg, store, cpu, _args(tmp_path / "s.jpg", rows=rows, colours=64))
    with pytest.raises(UserError, match="folder"):
        run_strip(cfg, store, cpu, _args(tmp_path / "no" / "s.png", rows=rows))


def test_portraits_paint_the_visitors_and_keep_the_room(cfg: Config, store: ModelStore,
                                                        cpu: Device) -> None:
    """The row runs the real pipeline: in `portraits` the room stays as captured and the
    visitors (where the synthetic scene put them) are painted."""
    clip = load_clip("synthetic:near", cfg, store)
    assert isinstance(clip.frames, Clip)
    row = Row(cfg, cfg.scene("portraits"), cpu, store, load_networks(cfg.perception, store),
              {}, {})
    tile = row.run(clip, [59])[0]
    assert tile.visitors >= 1 and tile.t == pytest.approx(59 / 15)
    w, h = cfg.scene("portraits").size
    raw = cv2.resize(clip.frames[59], (w, h), interpolation=cv2.INTER_AREA)
    change = np.abs(tile.picture.astype(np.int16) - raw).mean(axis=2)
    inside = np.zeros((h, w), bool)
    outside = np.ones((h, w), bool)
    for left, top, right, bottom in clip.frames.boxes(59):
        x0, x1 = round(left * w), round(right * w)
        y0, y1 = round(top * h), round(bottom * h)
        cx, cy, rx, ry = (x0 + x1) // 2, (y0 + y1) // 2, (x1 - x0) // 6, (y1 - y0) // 6
        inside[max(cy - ry, 0):cy + ry, max(cx - rx, 0):cx + rx] = True  # her middle
        outside[max(y0 - 12, 0):y1 + 12, max(x0 - 12, 0):x1 + 12] = False
    assert inside.any() and outside.mean() > 0.2
    assert change[inside].mean() > 20  # painted
    assert change[outside].mean() < 5  # the room as captured (sensor noise, resizing)
