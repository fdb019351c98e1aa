"""Dense Farneback optical flow on a small grey picture: the one set-up that the motion
stage and the live dream share.

    picture ──small_grey──► grey uint8 at the working size ──farneback(a, b)──► HxWx2 px/frame

The settings are the `[motion]` section's (`MotionConfig`); this ground module only names
the ones the flow reads (`FarnebackSettings`), so it imports no stage. The temporal stage's
flow is another method (DIS, in temporal/flow.py).
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np


class FarnebackSettings(Protocol):
    """What `cv2.calcOpticalFlowFarneback` is given (`MotionConfig` has them)."""

    @property
    def pyr_scale(self) -> float: ...  # size ratio between pyramid levels

    @property
    def levels(self) -> int: ...  # pyramid levels

    @property
    def winsize(self) -> int: ...  # averaging window, working px

    @property
    def iterations(self) -> int: ...  # per pyramid level

    @property
    def poly_n(self) -> int: ...  # neighbourhood of the polynomial fit, px

    @property
    def poly_sigma(self) -> float: ...  # sigma of the Gaussian in that fit, px


def small_grey(
    picture: np.ndarray,
    size: tuple[int, int],
    blur_sigma_px: float = 0.0,
    out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """`picture` (HxWx3 uint8 RGB, or HxW grey) as a grey uint8 picture of `size` (W, H).

    Shrunk first (INTER_AREA averages away sensor noise), then grey, then a Gaussian blur
    of `blur_sigma_px` (working px; 0 = none). `out` (HxW uint8) and `scratch` (HxWx3
    uint8, the shrunk colour picture) at `size` are written in place when given.
    """
    if picture.ndim == 3:
        small = cv2.resize(picture, size, dst=scratch, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY, dst=out)
    else:
        grey = cv2.resize(picture, size, dst=out, interpolation=cv2.INTER_AREA)
    if blur_sigma_px > 0:
        cv2.GaussianBlur(grey, (0, 0), blur_sigma_px, dst=grey)
    return grey


def farneback(
    a: np.ndarray, b: np.ndarray, settings: FarnebackSettings, out: np.ndarray | None = None
) -> np.ndarray:
    """The dense flow from grey picture `a` to `b` (same size): HxWx2 float32, px/frame at
    that size, where each pixel of `a` went in `b`. `out` (HxWx2 float32) is written in
    place when given; its contents are not used as a first guess."""
    if out is None:
        out = np.zeros((*a.shape, 2), np.float32)
    s = settings
    flow: np.ndarray = cv2.calcOpticalFlowFarneback(
        a, b, out, s.pyr_scale, s.levels, s.winsize, s.iterations, s.poly_n, s.poly_sigma, 0
    )
    return flow
