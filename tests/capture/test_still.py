"""Still images: read once, emitted again and again with fresh stamps."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.capture import StillSource, load_image
from installation.errors import SourceError


@pytest.fixture
def photo_png(photo: np.ndarray, tmp_path: Path) -> Path:
    path = tmp_path / "astronaut.png"
    assert cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    return path


def test_still_emits_the_picture_with_fresh_stamps(photo: np.ndarray, photo_png: Path) -> None:
    source = StillSource(photo_png, fps=100.0)
    assert source.name == "astronaut.png"
    source.start()
    try:
        v1, f1 = source.read(timeout=10)
        _, f2 = source.read(after=v1, timeout=10)
    finally:
        source.stop()
    assert f1 is not None and f2 is not None
    np.testing.assert_array_equal(f1.image, photo)  # PNG is lossless; channels are RGB
    assert f1.t_capture < f2.t_capture <= time.monotonic()
    assert f1.image is not f2.image  # a fresh copy each time
    assert source.status == "still"


def test_large_images_are_shrunk_to_fit(photo_png: Path) -> None:
    image = load_image(photo_png, max_size=(256, 128))  # 512x512 → fits in 256x128
    assert image.shape == (128, 128, 3)
    assert load_image(photo_png, max_size=(4000, 4000)).shape == (512, 512, 3)  # never enlarged


def test_unreadable_images_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"gone\.png not found"):
        StillSource(tmp_path / "gone.png")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(SourceError, match=r"junk\.jpg cannot be read"):
        StillSource(junk)
