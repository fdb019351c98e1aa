"""Synthetic scenes for the motion tests: a textured room, sensor noise, a moving visitor.

Imported as `motion.scenes` (the root conftest puts `tests/` on the path).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from installation.motion import MotionAnalyzer, MotionSignals

WIDTH, HEIGHT = 320, 180  # the fake camera's picture, px
SQUARE = 48  # the visitor's side, camera px


class Scene:
    """A still textured background; optionally a bright textured square (the visitor).

    `picture(x, y)` draws the square with its top-left corner at (x, y) camera px (None:
    nobody there), adds Gaussian sensor noise of `noise` grey levels and a global
    brightness offset `light` (grey levels), and returns HxWx3 uint8 RGB.
    """

    width, height, side = WIDTH, HEIGHT, SQUARE

    def __init__(self, seed: int = 1, noise: float = 3.0) -> None:
        rng = np.random.default_rng(seed)
        self.noise = noise
        self.rng = np.random.default_rng(seed + 100)
        room = cv2.GaussianBlur(rng.uniform(0, 255, (HEIGHT, WIDTH)).astype(np.float32),
                                (0, 0), 3)
        self.room = cv2.normalize(room, None, 40, 140, cv2.NORM_MINMAX)
        square = cv2.GaussianBlur(rng.uniform(0, 255, (SQUARE, SQUARE)).astype(np.float32),
                                  (0, 0), 2)
        self.square = cv2.normalize(square, None, 170, 250, cv2.NORM_MINMAX)

    def picture(self, x: float | None = None, y: float = 66, light: float = 0.0) -> np.ndarray:
        img = self.room.copy()
        if x is not None:
            xi, yi = round(x), round(y)
            x0, x1 = max(xi, 0), min(xi + SQUARE, WIDTH)
            if x1 > x0:
                img[yi:yi + SQUARE, x0:x1] = self.square[:, x0 - xi:x1 - xi]
        img += light
        if self.noise:
            img += self.rng.normal(0.0, self.noise, img.shape).astype(np.float32)
        grey = np.clip(img, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)


def run(
    analyzer: MotionAnalyzer,
    scene: Scene,
    fps: float,
    duration_s: float,
    x_at: Callable[[float], float | None],
    t0: float = 0.0,
    light_per_s: float = 0.0,
) -> list[MotionSignals]:
    """Feed `duration_s` seconds of the scene at `fps`, the visitor at x_at(t); every result."""
    out = []
    for i in range(round(duration_s * fps)):
        t = t0 + i / fps
        out.append(analyzer.update(scene.picture(x_at(t), light=light_per_s * t), t))
    return out
