"""Arbitrary style: painting vectors computed once and cached, sizes, crossfades, paintings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from skimage import data

from installation.effects import build_effect
from installation.effects.arbitrary import ArbitraryStyleEffect, StylePredictor, find_paintings
from installation.effects.config import StyleConfig
from installation.errors import UserError
from installation.models import ModelStore, sha256_file
from installation.runtime import Device, Network, OrtNetwork
from installation.show.config import SceneConfig


class CountingNetwork:
    """A thin wrapper around a real network that counts `run` calls."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.inputs = network.inputs
        self.calls = 0

    def run(self, feeds: Any) -> list[np.ndarray]:
        self.calls += 1
        return self.network.run(feeds)


@pytest.fixture(scope="module")
def sessions(store: ModelStore, cpu: Device) -> tuple[Network, Network]:
    return (OrtNetwork(store.require("arbitrary-predict"), cpu),
            OrtNetwork(store.require("arbitrary-transform"), cpu))


@pytest.fixture
def paintings(tmp_path: Path) -> list[Path]:
    """Three small pictures from scikit-image as paintings, in a fresh folder."""
    folder = tmp_path / "paintings"
    folder.mkdir()
    out = []
    for name in ("rocket", "coffee", "chelsea"):
        p = folder / f"{name}.png"
        cv2.imwrite(str(p), cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR))
        out.append(p)
    return sorted(out)


def scene(**kw: object) -> SceneConfig:
    return SceneConfig.model_validate(
        {"name": "test", "effect": "arbitrary", "size": (160, 90), **kw}
    )


def make(sessions: tuple[Any, Any], paintings: list[Path], cache_dir: Path | None = None,
         **kw: object) -> tuple[ArbitraryStyleEffect, CountingNetwork]:
    predict = CountingNetwork(sessions[0])
    effect = ArbitraryStyleEffect(predict, sessions[1], scene(**kw), paintings, 1.0,
                                  cache_dir=cache_dir)
    return effect, predict


def test_painting_vectors_are_computed_once(sessions: Any, paintings: list[Path],
                                            photo: np.ndarray) -> None:
    effect, predict = make(sessions, paintings)
    assert predict.calls == len(paintings)
    for i in range(7):
        effect(photo, i * 0.4)
        effect.step_style(+1, i * 0.4)
    assert predict.calls == len(paintings)  # strength 1: the camera's vector is never needed
    # The same file again costs nothing; a changed file is read again.
    assert effect.predictor.of_file(paintings[0]) is effect._vectors[0]
    os.utime(paintings[0], ns=(1, 1))
    effect.predictor.of_file(paintings[0])
    assert predict.calls == len(paintings) + 1


def test_disk_cache_is_used_by_the_next_start(sessions: Any, paintings: list[Path],
                                              tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, predict = make(sessions, paintings, cache)
    assert predict.calls == 3 and len(list(cache.glob("*.npy"))) == 3
    second, predict = make(sessions, paintings, cache)
    assert predict.calls == 0
    np.testing.assert_array_equal(first.fade.target, second.fade.target)
    # A corrupt cache file is recomputed, not trusted.
    for f in cache.glob("*.npy"):
        f.write_bytes(b"junk")
    _, predict = make(sessions, paintings, cache)
    assert predict.calls == 3


def test_content_vector_at_most_once_a_second(sessions: Any, paintings: list[Path],
                                              photo: np.ndarray) -> None:
    effect, predict = make(sessions, paintings, strength=0.5)
    start = predict.calls
    for t in (100.0, 100.3, 100.6, 100.9):
        effect(photo, t)
    assert predict.calls == start + 1
    effect(photo, 101.05)
    assert predict.calls == start + 2


def test_output_and_strength(sessions: Any, paintings: list[Path], photo: np.ndarray) -> None:
    full, _ = make(sessions, paintings)
    gentle, _ = make(sessions, paintings, strength=0.3)
    kept, _ = make(sessions, paintings, preserve_color=True)
    for shape in [(512, 512, 3), (90, 160, 3), (300, 120, 3)]:
        img = cv2.resize(photo, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        out = full(img, 0.0)
        assert out.shape == (90, 160, 3) and out.dtype == np.uint8
    camera = cv2.resize(photo, (160, 90), interpolation=cv2.INTER_AREA).astype(np.float32)
    a, b = full(photo, 0.0).astype(np.float32), gentle(photo, 0.0).astype(np.float32)
    assert np.abs(b - a).mean() > 2.0  # the content's own vector changed the picture
    assert kept(photo, 0.0).shape == (90, 160, 3)
    assert np.abs(camera - a).mean() > 2.0


def test_crossfade_mixes_vectors_and_describe(sessions: Any, paintings: list[Path],
                                              photo: np.ndarray) -> None:
    effect, _ = make(sessions, paintings)
    names = [p.stem for p in paintings]
    assert effect.describe() == names[0]
    effect.step_style(+1, 10.0)
    assert effect.describe() == f"{names[0]}→{names[1]}"
    mid = effect.fade.value(10.5)
    np.testing.assert_allclose(mid, (effect._vectors[0] + effect._vectors[1]) / 2, atol=1e-5)
    effect(photo, 11.5)
    assert effect.describe() == names[1]
    effect.step_style(-2, 12.0)
    effect(photo, 14.0)
    assert effect.describe() == names[2]


# -- finding paintings --------------------------------------------------------------------


def test_find_paintings(tmp_path: Path, paintings: list[Path]) -> None:
    mine = tmp_path / "styles"
    mine.mkdir()
    (mine / "Coffee.JPG").write_bytes(b"x")
    (mine / "notes.txt").write_text("not a picture")
    dirs = [str(mine), str(paintings[0].parent), str(tmp_path / "absent")]
    found = find_paintings(dirs, [])
    assert [p.name for p in found] == ["chelsea.png", "Coffee.JPG", "coffee.png", "rocket.png"]
    assert find_paintings(dirs, ["rocket.png", "chelsea"]) == [paintings[2], paintings[0]]
    assert find_paintings(["paintings"], [], root=tmp_path) == paintings
    with pytest.raises(UserError, match=r"painting 'monet.jpg' not found in .*styles"):
        find_paintings(dirs, ["monet.jpg"])


def test_no_paintings_says_where_to_add_them(tmp_path: Path) -> None:
    empty = tmp_path / "styles"
    empty.mkdir()
    with pytest.raises(UserError, match=r"no paintings found.*add pictures.*styles/"):
        find_paintings([str(empty), str(tmp_path / "absent")], [])


def test_unreadable_painting_stops_at_start(sessions: Any, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"broken\.png"):
        make(sessions, [bad])


def test_build_effect_finds_paintings(tmp_path: Path, store: ModelStore, cpu: Device,
                                      paintings: list[Path], photo: np.ndarray) -> None:
    cfg = StyleConfig(paintings_dirs=[str(paintings[0].parent)])
    # build_effect caches the vector under models/.style-cache: leave no file of ours there.
    cached = store.root / ".style-cache" / f"{sha256_file(paintings[1])}-v1.npy"
    existed, folder_existed = cached.exists(), cached.parent.exists()
    try:
        effect = build_effect(scene(paintings=["coffee"]), cfg, cpu, store)
        assert cached.exists()
    finally:
        if not existed:
            cached.unlink(missing_ok=True)
        if not folder_existed:
            cached.parent.rmdir()
    assert effect.name == "arbitrary" and effect.describe() == "coffee"
    assert effect(photo, 0.0).shape == (90, 160, 3)
    predictor = StylePredictor(OrtNetwork(store.require("arbitrary-predict"), cpu))
    assert predictor.of_file(paintings[1]).shape == (1, 1, 1, 100)
