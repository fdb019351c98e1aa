"""Dissolves: from a picture frozen at one moment to the live picture, over a few seconds.

Used for scene changes and for attract mode coming and going. The old picture is frozen
rather than kept running, so a dissolve costs one blend per frame, not a second scene.
"""

from __future__ import annotations

import cv2
import numpy as np

from installation.latent.sphere import smoothstep
from installation.pictures import cover


class Dissolve:
    """Blends a frozen picture into the live one; `apply(live, t)` once per shown frame."""

    def __init__(self) -> None:
        self._from: np.ndarray | None = None
        self._t0 = 0.0
        self._duration = 0.0

    @property
    def active(self) -> bool:
        return self._from is not None

    def start(self, picture: np.ndarray | None, t: float, duration_s: float) -> None:
        """Dissolve from `picture` (uint8 RGB, copied) starting at `t` over `duration_s` s.

        Starting during a dissolve leaves from `picture`, which should be the last picture
        shown (mid-dissolve itself), so nothing jumps. No picture or no duration: a cut.
        """
        if picture is None or duration_s <= 0:
            self._from = None
            return
        self._from = picture.copy()
        self._t0, self._duration = t, duration_s

    def apply(self, live: np.ndarray, t: float) -> np.ndarray:
        """`live` with the frozen picture over it, fading out (smoothstep) with time."""
        if self._from is None:
            return live
        w = smoothstep((t - self._t0) / self._duration)  # 0 → all old, 1 → all live
        if w >= 1.0:
            self._from = None
            return live
        old = self._from
        if old.shape != live.shape:  # scenes can differ in size: cover the live picture
            old = self._from = cover(old, (live.shape[1], live.shape[0]))
        return cv2.addWeighted(old, 1.0 - w, live, w, 0.0)
