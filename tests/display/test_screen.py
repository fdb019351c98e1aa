"""ScreenFitter: fit vs fill geometry, black bars, mirror, buffer reuse."""

from __future__ import annotations

import numpy as np
import pytest

from installation.display.screen import ScreenFitter


def quadrants(w: int, h: int) -> np.ndarray:
    """A picture whose four quadrants are red, green, blue and white (easy to locate)."""
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2] = (255, 0, 0)
    img[: h // 2, w // 2 :] = (0, 255, 0)
    img[h // 2 :, : w // 2] = (0, 0, 255)
    img[h // 2 :, w // 2 :] = (255, 255, 255)
    return img


def test_fit_shows_whole_picture_with_black_bars() -> None:
    fitter = ScreenFitter((160, 90), "fit")
    out = fitter.apply(quadrants(40, 30))  # 4:3 → 120x90 picture, 20 px bars each side
    assert out.shape == (90, 160, 3)
    assert out.dtype == np.uint8
    assert not out[:, :20].any() and not out[:, 140:].any()
    # All four corners of the picture are inside the output.
    assert tuple(out[5, 25]) == (255, 0, 0)
    assert tuple(out[5, 135]) == (0, 255, 0)
    assert tuple(out[85, 25]) == (0, 0, 255)
    assert tuple(out[85, 135]) == (255, 255, 255)


def test_fill_covers_output_and_crops() -> None:
    img = quadrants(40, 30)
    img[:3] = (9, 9, 9)  # a top band the 16:9 crop must cut away
    out = ScreenFitter((160, 90), "fill").apply(img)
    assert out.shape == (90, 160, 3)
    assert (out.max(axis=2) > 0).all()  # no black bars anywhere
    assert not (out == 9).all(axis=2).any()  # the cropped band is gone
    assert tuple(out[2, 2]) == (255, 0, 0)
    assert tuple(out[87, 157]) == (255, 255, 255)


def test_shrink_and_identity() -> None:
    big = quadrants(640, 360)
    out = ScreenFitter((64, 36), "fill").apply(big)
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[35, 63]) == (255, 255, 255)
    same = ScreenFitter((640, 360), "fit").apply(big)
    assert np.array_equal(same, big)


def test_mirror_flips_horizontally() -> None:
    img = quadrants(40, 30)
    plain = ScreenFitter((160, 90), "fit").apply(img).copy()
    mirrored = ScreenFitter((160, 90), "fit", mirror=True).apply(img)
    assert np.array_equal(mirrored, plain[:, ::-1])
    assert tuple(mirrored[5, 25]) == (0, 255, 0)


def test_buffer_reused_while_sizes_stay() -> None:
    fitter = ScreenFitter((160, 90), "fit")
    first = fitter.apply(quadrants(40, 30))
    second = fitter.apply(np.full((30, 40, 3), 77, np.uint8))
    assert second is first
    assert second[45, 80, 0] == 77 and not second[:, :20].any()
    fitter.mode = "fill"
    fitter.mirror = True
    assert fitter.apply(quadrants(40, 30)) is first
    fitter.size = (80, 60)
    resized = fitter.apply(quadrants(40, 30))
    assert resized is not first and resized.shape == (60, 80, 3)


def test_bars_cleared_when_picture_shape_changes() -> None:
    fitter = ScreenFitter((160, 90), "fit")
    fitter.apply(np.full((90, 160, 3), 200, np.uint8))  # fills the whole buffer
    out = fitter.apply(np.full((30, 40, 3), 200, np.uint8))  # now 4:3: bars must be black
    assert not out[:, :20].any() and not out[:, 140:].any()


def test_mirror_leaves_no_stale_column_with_odd_bars() -> None:
    fitter = ScreenFitter((161, 90), "fit", mirror=True)  # 41 px of bars: 20 + 21
    fitter.apply(np.full((30, 40, 3), 255, np.uint8))
    out = fitter.apply(np.full((30, 40, 3), 255, np.uint8))
    assert int((out[0] > 0).all(axis=1).sum()) == 120


def test_rejects_bad_input() -> None:
    fitter = ScreenFitter((16, 9))
    with pytest.raises(ValueError):
        fitter.apply(np.zeros((9, 16), np.uint8))
    with pytest.raises(ValueError):
        fitter.apply(np.zeros((9, 16, 3), np.float32))
    with pytest.raises(ValueError):
        fitter.mode = "stretch"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        fitter.size = (0, 9)
