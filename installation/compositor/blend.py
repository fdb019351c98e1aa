"""Blend modes: how a layer's picture combines with what lies beneath it.

Pictures are float32 HxWx3 in [0, 1]; a mask is float32 HxW in [0, 1] (1 = the layer shows).
Each mode is the usual image-editing formula, then mixed in by opacity × mask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

BlendMode = Literal["normal", "add", "screen", "multiply", "overlay", "lighten", "difference"]


def _overlay(base: np.ndarray, top: np.ndarray) -> np.ndarray:
    return np.where(base < 0.5, 2 * base * top, 1 - 2 * (1 - base) * (1 - top))


MODES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "normal": lambda base, top: top,
    "add": lambda base, top: np.minimum(base + top, 1.0),
    "screen": lambda base, top: 1 - (1 - base) * (1 - top),
    "multiply": lambda base, top: base * top,
    "overlay": _overlay,
    "lighten": np.maximum,
    "difference": lambda base, top: np.abs(base - top),
}


def blend(
    base: np.ndarray, top: np.ndarray, mode: BlendMode, opacity: float,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """`top` over `base` with `mode`, weighted by `opacity` (0..1) and `mask` (HxW, 0..1)."""
    mixed = MODES[mode](base, top)
    weight: float | np.ndarray = opacity
    if mask is not None:
        weight = opacity * mask[..., None]
    return base + (mixed - base) * weight
