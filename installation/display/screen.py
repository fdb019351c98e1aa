"""Fit a picture to an output size: letterbox ("fit") or centre crop ("fill"), optional mirror.

Pure numpy/OpenCV so the window and the recorder share it; the geometry (`place`) and the
resize are `installation.pictures`'s. The output buffer is allocated once per output size
and reused: the bars are cleared only when the geometry changes, and the picture is resized
straight into its place in the buffer (a view, no copy).
"""

from __future__ import annotations

import cv2
import numpy as np

from installation.pictures import FIT_MODES, FitMode, Placement, place, resize_into


class ScreenFitter:
    """Maps RGB uint8 HxWx3 pictures to an output of `size` (W, H) pixels.

    `size`, `mode` and `mirror` may be changed between calls. `apply()` returns the output
    buffer itself (H, W, 3), which the next call overwrites: copy it to keep it.
    """

    def __init__(self, size: tuple[int, int], mode: FitMode = "fit", mirror: bool = False) -> None:
        self.size = size
        self.mode = mode
        self.mirror = mirror
        self._out: np.ndarray | None = None
        self._placement: Placement | None = None  # the geometry the bars were cleared for

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @size.setter
    def size(self, size: tuple[int, int]) -> None:
        w, h = int(size[0]), int(size[1])
        if w < 1 or h < 1:
            raise ValueError(f"output size {w}x{h} must be at least 1x1 px")
        self._size = (w, h)

    @property
    def mode(self) -> FitMode:
        return self._mode

    @mode.setter
    def mode(self, mode: FitMode) -> None:
        if mode not in FIT_MODES:
            raise ValueError(f"fit mode {mode!r} is not one of {', '.join(FIT_MODES)}")
        self._mode = mode

    @property
    def placement(self) -> Placement | None:
        """Where the last `apply` put its picture (None before the first): what is drawn
        over the picture afterwards (the visitors overlay) is placed alike."""
        return self._placement

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """Fit `rgb` (HxWx3 uint8) into the output buffer and return that buffer."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 picture, got {rgb.shape} {rgb.dtype}")
        w, h = self._size
        out = self._out
        if out is None or out.shape[:2] != (h, w):
            out = self._out = np.zeros((h, w, 3), np.uint8)
            self._placement = None

        # Geometry; clear the bars only when it changed (the picture covers the rest).
        pl = place((rgb.shape[1], rgb.shape[0]), (w, h), self._mode)
        if pl != self._placement:
            out[...] = 0
            self._placement = pl
        sx, sy, sw, sh = pl.src
        dx, dy, dw, dh = pl.dst
        dst = out[dy:dy + dh, dx:dx + dw]

        # Resize straight into the buffer: INTER_AREA shrinks without aliasing, LINEAR grows.
        resize_into(rgb[sy:sy + sh, sx:sx + sw], dst)
        if self.mirror:
            # Flip the picture's rect in place (no extra buffer). The rect is centred, so this
            # equals flipping the whole output, give or take one column when the bars differ.
            cv2.flip(dst, 1, dst=dst)
        return out
