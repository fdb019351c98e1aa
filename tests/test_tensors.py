"""The tensor ends and filters of the on-device paths against the OpenCV/numpy steps
they stand in for."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from installation.effects.style import to_uint8
from installation.tensors import (
    download,
    gaussian_blur,
    grey_levels,
    levels,
    quantise,
    reflect_101,
    upload,
)

SIZES = [(96, 160), (7, 5), (2, 3), (1, 9), (13, 1)]  # (H, W): wide, odd, tiny, one-wide


def as_tensor(picture: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(picture.transpose(2, 0, 1)[None]))


@pytest.mark.parametrize(("h", "w"), SIZES)
def test_grey_levels_are_opencvs(h: int, w: int) -> None:
    rgb = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    got = grey_levels(upload(rgb, "cpu", 1.0)).numpy()
    assert np.array_equal(got, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 16])
@pytest.mark.parametrize("pad", [0, 1, 4, 9])
def test_reflect_101_is_opencvs_border(n: int, pad: int) -> None:
    want = [cv2.borderInterpolate(p, n, cv2.BORDER_REFLECT_101) for p in range(-pad, n + pad)]
    assert reflect_101(n, pad, torch.device("cpu")).tolist() == want


@pytest.mark.parametrize("sigma", [1.0, 1.5, 3.0])
@pytest.mark.parametrize(("h", "w"), SIZES)
def test_gaussian_blur_is_opencvs(sigma: float, h: int, w: int) -> None:
    rng = np.random.default_rng(int(sigma * 10) + h)
    picture = (rng.random((h, w, 3), dtype=np.float32) * 255.0 - 60.0).astype(np.float32)
    want = cv2.GaussianBlur(picture, (0, 0), sigma).reshape(h, w, 3)
    got = gaussian_blur(as_tensor(picture), sigma)[0].numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(got, want, atol=2e-4)


def test_levels_quantise_and_download_equal_to_uint8_and_refuse_nan() -> None:
    rng = np.random.default_rng(2)
    x = (rng.random((1, 3, 20, 30), dtype=np.float32) * 1.4 - 0.2)
    x[0, 0, 0, :4] = [0.5 / 255, 1.5 / 255, 254.5 / 255, 1.0]  # the rounding edges
    expected = to_uint8(x[0].transpose(1, 2, 0).copy())
    got = quantise(torch.from_numpy(x)).numpy()
    assert got.dtype == np.uint8 and np.array_equal(got, expected)
    assert np.array_equal(download(levels(torch.from_numpy(x))), expected)
    x[0, 1, 5, 5] = np.nan
    for refuses in (quantise, levels):
        with pytest.raises(ValueError, match="not finite"):
            refuses(torch.from_numpy(x))


def test_upload_scales_and_keeps_the_caller_array() -> None:
    rgb = np.random.default_rng(3).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    before = rgb.copy()
    unit, whole = upload(rgb, "cpu"), upload(rgb, "cpu", 1.0)
    assert unit.shape == whole.shape == (1, 3, 4, 6) and unit.dtype == torch.float32
    np.testing.assert_allclose(unit.numpy() * 255.0, whole.numpy(), atol=1e-4)
    assert np.array_equal(download(whole), rgb) and np.array_equal(rgb, before)
