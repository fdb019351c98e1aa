"""Dense optical flow (DIS), warping along it, and where a warp can be trusted.

Convention: `flow(a, b)` gives, for each pixel x of picture a, where its content is in
picture b: a(x) ≈ b(x + f(x)), in px at a's size. So `grid.warp(b, flow(a, b))` carries b
onto a's pixel grid. "Back" flow runs from this frame to the last one; "forward" from the
last to this.

The round-trip test (Sundaram, Brox & Keutzer 2010): following the back flow and then the
forward flow from where it lands should return to the start. Where it misses by more than
`ROUND_TRIP_REL` of the two flows' squared lengths plus `ROUND_TRIP_ABS_PX2`, the pixel was
hidden in one of the frames (an occlusion, a disocclusion) or the match is wrong.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Quality = Literal["fast", "medium", "reference"]

# DIS settings per quality: (preset, finest pyramid level or None for the preset's,
# variational refinement iterations or None). "reference" is the measuring flow of
# `flicker`: every level down to full resolution, ten refinement iterations; on smooth
# synthetic motion its end-point error is about half of "medium"'s (tests/temporal).
_DIS: dict[str, tuple[int, int | None, int | None]] = {
    "fast": (cv2.DISOPTICAL_FLOW_PRESET_FAST, None, None),
    "medium": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, None, None),
    "reference": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, 0, 10),
}
MAX_FLOW_WIDTH = 320  # live flows of wider pictures are found on a copy this wide, px
ROUND_TRIP_REL = 0.01  # allowed round-trip miss, share of the flows' squared lengths
ROUND_TRIP_ABS_PX2 = 0.5  # ... plus this, px²: sub-pixel misses of still pixels pass


class Flow:
    """Dense optical flow between two grey uint8 pictures of one size. One caller at a
    time (the DIS object keeps state between calls)."""

    def __init__(self, quality: Quality = "medium", max_width: int | None = MAX_FLOW_WIDTH) -> None:
        preset, finest, refine = _DIS[quality]
        self.max_width = max_width
        self._dis = cv2.DISOpticalFlow.create(preset)
        if finest is not None:
            self._dis.setFinestScale(finest)
        if refine is not None:
            self._dis.setVariationalRefinementIterations(refine)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """HxWx2 float32: where each pixel of `a` is found in `b`, px."""
        h, w = a.shape[:2]
        flow = self.coarse(a, b)
        if flow.shape[:2] == (h, w):
            return flow
        small = flow.shape[1], flow.shape[0]
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= w / small[0]
        flow[..., 1] *= h / small[1]
        return flow

    def coarse(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The flow as found: at `a`'s size, or on copies `max_width` wide (in px of that
        size) for wider pictures; `__call__` (or a device) brings it to full size."""
        h, w = a.shape[:2]
        if self.max_width is None or w <= self.max_width:
            return self._calc(a, b)
        small = (self.max_width, max(8, round(h * self.max_width / w)))
        return self._calc(cv2.resize(a, small, interpolation=cv2.INTER_AREA),
                          cv2.resize(b, small, interpolation=cv2.INTER_AREA))

    def _calc(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Zeros, not np.empty: OpenCV's DIS reads the array it is given, and garbage in it
        # (NaN, huge values) crashed it on this machine.
        out = np.zeros((*a.shape[:2], 2), np.float32)
        return np.asarray(self._dis.calc(a, b, out))


class Grid:
    """The pixel grid of one picture size (W, H): warps along flows, and the round trip."""

    def __init__(self, size: tuple[int, int]) -> None:
        w, h = size
        self.size = size
        self.xs, self.ys = np.meshgrid(np.arange(w, dtype=np.float32),
                                       np.arange(h, dtype=np.float32))

    def maps(self, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each pixel samples: x + flow, px."""
        return self.xs + flow[..., 0], self.ys + flow[..., 1]

    def warp(self, picture: np.ndarray, flow: np.ndarray,
             interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
        """`picture` sampled at x + flow(x) (bilinear unless told; off the edge, the nearest
        edge pixel)."""
        map_x, map_y = self.maps(flow)
        return cv2.remap(picture, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE)

    def inside(self, flow: np.ndarray) -> np.ndarray:
        """bool HxW: where x + flow(x) stays within the picture."""
        w, h = self.size
        map_x, map_y = self.maps(flow)
        return (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)

    def round_trip(self, back: np.ndarray, forward: np.ndarray) -> np.ndarray:
        """float32 HxW: the round-trip miss over its allowance (see the module doc); below 1
        the pixel is seen in both frames. Infinite where the back flow leaves the picture."""
        there = self.warp(forward, back)  # the forward flow where each pixel came from
        miss = _length2(back + there)
        allowed = ROUND_TRIP_REL * (_length2(back) + _length2(there)) + ROUND_TRIP_ABS_PX2
        ratio = miss / allowed
        ratio[~self.inside(back)] = np.inf
        return ratio


def _length2(flow: np.ndarray) -> np.ndarray:
    """Squared length of each flow vector, px² (two multiplies: faster than a sum over
    numpy's last axis)."""
    x, y = flow[..., 0], flow[..., 1]
    return x * x + y * y


def channel_mean(picture: np.ndarray) -> np.ndarray:
    """float32 HxW: the mean of an HxWx3 picture's channels."""
    mean = cv2.transform(picture.astype(np.float32, copy=False), _THIRDS)
    return mean.reshape(picture.shape[:2])  # cv2 drops the single channel axis


_THIRDS = np.full((1, 3), 1.0 / 3.0, np.float32)


def visible(grid: Grid, back: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """bool HxW: pixels of this frame that the flows say were also seen in the last one."""
    return grid.round_trip(back, forward) < 1.0


def grey(picture: np.ndarray) -> np.ndarray:
    """An RGB uint8 picture in grey (uint8), or a grey one as it is."""
    return picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
