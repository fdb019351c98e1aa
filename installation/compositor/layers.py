"""Layers: the repainted camera and the GAN picture, placed, masked and blended in order."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from installation.compositor.blend import BlendMode, blend
from installation.pictures import cover
from installation.section import Section

Placement = Literal["full", "grid", "motion"]


class LayerConfig(Section):
    """One layer of a scene, bottom first."""

    source: Literal["camera", "gan"] = "camera"
    blend: BlendMode = "normal"
    opacity: float = Field(1.0, ge=0.0, le=1.0)
    placement: Placement = Field(
        "full", description="full frame; a drifting grid of tiles; or where visitors move"
    )
    grid: tuple[int, int] = Field((3, 2), description="grid columns, rows")
    drift_speed: float = Field(0.03, ge=-2.0, le=2.0, description="grid drift, widths/s")
    mask_softness_px: int = Field(9, ge=0, le=101, description="motion mask blur, px")


PLAIN = LayerConfig()  # the camera picture, full frame, as it is


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
        out = blend(out, top_f, layer.blend, opacity, mask)
    if out is None:
        return camera
    return (np.clip(out, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
