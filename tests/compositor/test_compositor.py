"""Blend modes on known values; placements; masks; layers skipped until their picture exists."""

from __future__ import annotations

import numpy as np
import pytest

from installation.compositor import (
    MODES,
    LayerConfig,
    blend,
    compose,
    compose_errors,
    grid,
    soft_mask,
)
from installation.pictures import cover

A, B = 0.25, 0.5  # base and top values, with known results per mode
EXPECTED = {
    "normal": B, "add": A + B, "screen": 1 - (1 - A) * (1 - B), "multiply": A * B,
    "overlay": 2 * A * B, "lighten": max(A, B), "difference": abs(A - B),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_blend_modes_and_opacity(mode: str) -> None:
    base = np.full((2, 2, 3), A, np.float32)
    top = np.full((2, 2, 3), B, np.float32)
    assert blend(base, top, mode, 1.0) == pytest.approx(np.full((2, 2, 3), EXPECTED[mode]))
    half = blend(base, top, mode, 0.5)
    assert half == pytest.approx(np.full((2, 2, 3), A + (EXPECTED[mode] - A) / 2))
    np.testing.assert_allclose(blend(base, top, mode, 0.0), base)


def test_mask_limits_the_layer() -> None:
    base = np.zeros((2, 2, 3), np.float32)
    top = np.ones((2, 2, 3), np.float32)
    mask = np.array([[1, 0], [0, 0.5]], np.float32)
    out = blend(base, top, "normal", 1.0, mask)
    assert out[0, 0, 0] == 1 and out[0, 1, 0] == 0 and out[1, 1, 0] == pytest.approx(0.5)


def test_cover_and_grid_geometry() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, 32:] = 255  # right half white
    assert cover(img, (160, 90)).shape == (90, 160, 3)
    g0 = grid(img, (120, 60), 3, 2, shift=0.0)
    assert g0.shape == (60, 120, 3)
    # Three tiles across: white in the right half of each 40 px tile.
    assert g0[10, 30, 0] == 255 and g0[10, 10, 0] == 0 and g0[10, 70, 0] == 255
    shifted = grid(img, (120, 60), 3, 2, shift=0.25)  # a quarter width = 30 px
    np.testing.assert_array_equal(shifted, np.roll(g0, 30, axis=1))
    assert grid(img, (120, 60), 3, 2, shift=1.0) == pytest.approx(g0)  # wraps around


def test_soft_mask_resizes_and_stays_in_range() -> None:
    m = np.zeros((9, 16), np.float32)
    m[3:6, 6:10] = 1
    out = soft_mask(m, (160, 90), 9)
    assert out.shape == (90, 160) and out.min() >= 0 and out.max() <= 1
    assert out[45, 80] > 0.9 and out[5, 5] < 0.01


def test_compose_layers_in_order() -> None:
    camera = np.full((90, 160, 3), 100, np.uint8)
    gan = np.full((64, 64, 3), 200, np.uint8)
    layers = [LayerConfig(), LayerConfig(source="gan", blend="normal", opacity=0.5)]
    out = compose(layers, camera, gan, None, 0.0)
    assert out.shape == camera.shape and out.dtype == np.uint8
    assert abs(int(out[0, 0, 0]) - 150) <= 1
    # No GAN picture yet: the camera alone.
    np.testing.assert_array_equal(compose(layers, camera, None, None, 0.0), camera)


def test_motion_placement_shows_the_gan_where_visitors_move() -> None:
    camera = np.zeros((90, 160, 3), np.uint8)
    gan = np.full((64, 64, 3), 255, np.uint8)
    mask = np.zeros((45, 80), np.float32)
    mask[:, 40:] = 1  # motion on the right half
    layers = [LayerConfig(), LayerConfig(source="gan", placement="motion", mask_softness_px=0)]
    out = compose(layers, camera, gan, mask, 0.0)
    assert out[45, 150, 0] == 255 and out[45, 10, 0] == 0
    # No mask yet: the motion layer waits.
    np.testing.assert_array_equal(compose(layers, camera, gan, None, 0.0), camera)


def test_camera_alone_is_passed_through_and_intensity_scales_gan_layers() -> None:
    camera = np.full((4, 6, 3), 100, np.uint8)
    gan = np.full((4, 4, 3), 200, np.uint8)
    assert compose([LayerConfig()], camera, gan, None, 0.0) is camera  # nothing to blend
    layers = [LayerConfig(), LayerConfig(source="gan", opacity=0.8)]
    full = compose(layers, camera, gan, None, 0.0)
    assert np.all(full == 180)  # 100 + 0.8 × (200 − 100)
    dim = compose(layers, camera, gan, None, 0.0, gan_opacity=0.5)
    assert np.all(dim == 140)  # the walk's intensity halves the GAN layer's opacity


@pytest.mark.parametrize("gain", [float("inf"), float("nan"), 1e308])
def test_a_composition_that_is_not_finite_shows_the_camera_and_is_counted(gain: float) -> None:
    camera = np.full((36, 64, 3), 90, np.uint8)
    gan = np.full((16, 16, 3), 200, np.uint8)
    layers = [LayerConfig(source="camera"), LayerConfig(source="gan", blend="add")]
    before = compose_errors()
    out = compose(layers, camera, gan, None, 0.0, gan_opacity=gain)
    assert out is camera
    assert compose_errors() == before + 1
    fine = compose(layers, camera, gan, None, 0.0, gan_opacity=0.5)
    assert fine is not camera and compose_errors() == before + 1
