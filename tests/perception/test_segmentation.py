"""Person segmentation (installation/perception/segmentation.py) on real photos: scikit-image's
astronaut is a person; its rocket, brick wall and deep-field stills hold none."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from installation.models import ModelStore, sha256_file
from installation.perception.segmentation import (
    LANDSCAPE,
    SQUARE,
    Segmenter,
    load_segmenter,
)


def test_marks_the_astronaut(segmenter: Segmenter, photo: np.ndarray) -> None:
    p = segmenter.probability(photo)
    assert p.shape == photo.shape[:2] and p.dtype == np.float32
    assert 0.35 < (p > 0.5).mean() < 0.75  # she fills about half the picture (measured 0.54)
    assert p[250:480, 60:300].mean() > 0.9  # her suit
    assert p[85:170, 185:265].mean() > 0.9  # her face
    assert p[0:60, 320:380].mean() < 0.05  # the backdrop above her shoulder
    assert p[0:250, 380:460].mean() < 0.05  # the shuttle model beside her


@pytest.mark.parametrize("name", ["rocket", "brick", "hubble_deep_field"])
def test_little_on_pictures_without_a_person(segmenter: Segmenter, name: str) -> None:
    picture = getattr(data, name)()
    if picture.ndim == 2:
        picture = np.dstack([picture] * 3)
    p = segmenter.probability(np.ascontiguousarray(picture))
    assert (p > 0.5).mean() < 0.05  # measured: 0, 0, 0.04


@pytest.mark.parametrize("height, width", [
    (512, 512), (360, 640), (1080, 1920), (480, 270), (100, 37), (7, 300), (1, 1),
])
def test_probability_at_the_pictures_size(segmenter: Segmenter, photo: np.ndarray,
                                          height: int, width: int) -> None:
    picture = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
    p = segmenter.probability(picture)
    assert p.shape == (height, width) and p.dtype == np.float32
    assert np.isfinite(p).all() and p.min() >= 0.0 and p.max() <= 1.0
    if min(height, width) >= 100:  # big enough to hold her: still about half the picture
        assert 0.35 < (p > 0.5).mean() < 0.75


def test_picks_the_network_by_shape(segmenter: Segmenter) -> None:
    assert segmenter.network_size(640, 360) == (256, 144)
    assert segmenter.network_size(1920, 1080) == (256, 144)
    assert segmenter.network_size(512, 512) == (256, 256)
    assert segmenter.network_size(600, 500) == (256, 256)  # 1.2:1 is nearer square
    assert segmenter.network_size(270, 480) == (256, 256)  # portrait


def test_fills_a_given_buffer(segmenter: Segmenter, photo: np.ndarray) -> None:
    wide = cv2.resize(photo, (640, 360))
    fresh = segmenter.probability(wide)
    buffer = np.full((360, 640), -1, np.float32)
    assert segmenter.probability(wide, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, fresh)
    with pytest.raises(ValueError, match="360x640 float32"):
        segmenter.probability(wide, out=np.empty((360, 640), np.float64))


@pytest.mark.parametrize("bad", [
    np.zeros((64, 64), np.uint8), np.zeros((64, 64, 4), np.uint8),
    np.zeros((64, 64, 3), np.float32), np.zeros((0, 64, 3), np.uint8),
])
def test_refuses_what_is_not_an_rgb_picture(segmenter: Segmenter, bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        segmenter.probability(bad)


def _scratch_store(store: ModelStore, root: Path, files: dict[str, bytes]) -> ModelStore:
    """A store under `root` with the project's manifest, holding only `files` (model name
    to bytes); a model given bytes is pinned to their hash so that it passes verification
    and reaches the runtime."""
    manifest = (store.root / "manifest.toml").read_text(encoding="utf-8")
    for name, content in files.items():
        spec = store.manifest.models[name]
        path = root / spec.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        manifest = manifest.replace(spec.sha256, sha256_file(path))
    (root / "manifest.toml").write_text(manifest, encoding="utf-8")
    return ModelStore(root)


def test_missing_network_is_one_line_not_an_exception(store: ModelStore,
                                                      tmp_path: Path) -> None:
    seg, why = load_segmenter(_scratch_store(store, tmp_path, {}), threads=2)
    assert seg is None
    assert "missing" in why and "python main.py models pull" in why and "\n" not in why


def test_broken_network_is_the_runtimes_error_in_one_line(store: ModelStore,
                                                          tmp_path: Path) -> None:
    good = store.path(LANDSCAPE).read_bytes()
    broken = {SQUARE: b"not a flatbuffer at all", LANDSCAPE: good}
    seg, why = load_segmenter(_scratch_store(store, tmp_path, broken), threads=2)
    assert seg is None
    assert "cannot be loaded" in why and "selfie_segmentation.tflite" in why
    assert "\n" not in why


def test_a_pulled_copy_loads(store: ModelStore, tmp_path: Path) -> None:
    """The scratch store itself is sound: with both files intact it loads."""
    files = {n: store.path(n).read_bytes() for n in (SQUARE, LANDSCAPE)}
    seg, why = load_segmenter(_scratch_store(store, tmp_path, files), threads=1)
    assert seg is not None, why
