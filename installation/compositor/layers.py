"""Layers: the repainted camera and the GAN picture, placed, masked and blended in order."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Literal

import cv2
import numpy as np
from pydantic import Field

from installation.compositor.blend import BlendMode, blend
from installation.logs import REPEAT_WINDOW_S, RateLimitedLog
from installation.pictures import cover
from installation.section import Section

log = logging.getLogger(__name__)

Placement = Literal["full", "grid", "motion"]
MAX_GRID = 16  # columns or rows of a grid placement: tiles stay at least 1/16 of a side
GridSide = Annotated[int, Field(ge=1, le=MAX_GRID)]


class LayerConfig(Section):
    """One layer of a scene, bottom first."""

    source: Literal["camera", "gan"] = "camera"
    blend: BlendMode = "normal"
    opacity: float = Field(1.0, ge=0.0, le=1.0)
    placement: Placement = Field(
        "full", description="full frame; a drifting grid of tiles; or where visitors move"
    )
    grid: tuple[GridSide, GridSide] = Field(
        (3, 2), description=f"grid columns, rows: each 1..{MAX_GRID}")
    drift_speed: float = Field(0.03, ge=-2.0, le=2.0, description="grid drift, widths/s")
    mask_softness_px: int = Field(9, ge=0, le=101, description="motion mask blur, px")


PLAIN = LayerConfig()  # the camera picture, full frame, as it is


class _Failures:
    """Compositions that came out not finite (NaN or inf: a weight or gain that overflowed)
    and showed the camera picture instead: counted for the frame state, logged rate-limited."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self.rate_limited = RateLimitedLog(log, REPEAT_WINDOW_S)

    def add(self, why: str) -> None:
        with self._lock:
            self.count += 1
            count = self.count
        self.rate_limited.error(f"compose: {why}", f"compose: {why}: the camera picture is "
                                f"shown instead ({count} so far)")


_FAILURES = _Failures()


def compose_errors() -> int:
    """Compositions refused as not finite since start (the camera picture was shown)."""
    return _FAILURES.count


def grid(
    image: np.ndarray, size: tuple[int, int], cols: int, rows: int, shift: float
) -> np.ndarray:
    """`image` tiled `cols` × `rows` over (W, H), shifted right by `shift` widths (wraps)."""
    w, h = size
    tile = cover(image, (max(1, -(-w // cols)), max(1, -(-h // rows))))
    tiled = np.tile(tile, (rows, cols, 1))[:h, :w]
    return np.roll(tiled, round(shift * w) % w, axis=1)


def soft_mask(mask: np.ndarray, size: tuple[int, int], softness_px: int) -> np.ndarray:
    """A motion mask (any size, 0..1) resized to (W, H) and softened so edges do not cut."""
    m = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    if softness_px > 1:
        k = softness_px | 1  # odd kernel
        m = cv2.GaussianBlur(m, (k, k), 0)
    return np.clip(m, 0.0, 1.0)


def compose(
    layers: list[LayerConfig],
    camera: np.ndarray,
    gan: np.ndarray | None,
    motion_mask: np.ndarray | None,
    t: float,
    gan_opacity: float = 1.0,
) -> np.ndarray:
    """The scene's layers over each other, at the camera picture's size; uint8 RGB out.

    `t`: show time, s (drives the grid's drift); `gan_opacity` (0..1) scales every GAN
    layer's opacity (the walk's intensity: the imagery strengthens as visitors arrive).
    A GAN layer with no picture yet, or a motion-placed layer with no mask yet, is skipped:
    the show starts on the camera alone and the generated imagery joins when it is ready.
    A composition that is not finite (a NaN or infinite weight, gain or mask) would be cast
    to black: the camera picture passes through instead, counted (`compose_errors`) and
    logged rate-limited.
    """
    if layers == [PLAIN]:
        return camera  # the camera alone: nothing to blend
    h, w = camera.shape[:2]
    out: np.ndarray | None = None
    for layer in layers:
        picture = camera if layer.source == "camera" else gan
        if picture is None:
            continue
        opacity = layer.opacity * (gan_opacity if layer.source == "gan" else 1.0)
        mask = None
        if layer.placement == "grid":
            top = grid(picture, (w, h), *layer.grid, shift=t * layer.drift_speed)
        else:
            top = cover(picture, (w, h))
        if layer.placement == "motion":
            if motion_mask is None:
                continue
            mask = soft_mask(motion_mask, (w, h), layer.mask_softness_px)
        top_f = top.astype(np.float32) * (1 / 255)
        if out is None:  # the bottom layer lies on black
            out = np.zeros_like(top_f)
        with np.errstate(over="ignore", invalid="ignore"):  # checked below, as a whole
            out = blend(out, top_f, layer.blend, opacity, mask)
    if out is None:
        return camera
    if not np.isfinite(out).all():
        _FAILURES.add("the composed picture is not finite")
        return camera
    return (np.clip(out, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
