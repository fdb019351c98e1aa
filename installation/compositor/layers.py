"""Layers: the painted camera, the camera as it is and the GAN picture, each placed, masked
and blended over the ones beneath, in order.

    picture (camera | raw | gan) ─► placement (full, grid, motion, heads, silhouettes)
        ─► × mask (none, visitor, room) ─► blend mode × opacity ─► over the layers below
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from installation.compositor.blend import BlendMode, blend
from installation.compositor.masks import VisitorMasks, soft_mask
from installation.compositor.people import Piece, finite, heads, silhouettes
from installation.logs import REPEAT_WINDOW_S, RateLimitedLog
from installation.perception.visitors import Visitors
from installation.pictures import Size, cover
from installation.section import Section

log = logging.getLogger(__name__)

Source = Literal["camera", "raw", "gan"]
Placement = Literal["full", "grid", "motion", "heads", "silhouettes"]
LayerMask = Literal["none", "visitor", "room"]
MAX_GRID = 16  # columns or rows of a grid placement: tiles stay at least 1/16 of a side
GridSide = Annotated[int, Field(ge=1, le=MAX_GRID)]


class LayerConfig(Section):
    """One layer of a scene, bottom first (the bottom one lies on black)."""

    source: Source = Field(
        "camera", description="camera: the scene's effect (painted, dreamt); raw: the camera "
        "picture as captured, framed the same; gan: the generated picture")
    blend: BlendMode = "normal"
    opacity: float = Field(1.0, ge=0.0, le=1.0)
    placement: Placement = Field(
        "full", description="full frame; a drifting grid of tiles; where visitors move "
        "(motion); at each visitor's head (heads); over each visitor's box, through their "
        "silhouette (silhouettes)")
    mask: LayerMask = Field(
        "none", description="none; only through the visitors' silhouettes (visitor); only "
        "outside them (room): the two add up to the whole picture")
    grid: tuple[GridSide, GridSide] = Field(
        (3, 2), description=f"grid columns, rows: each 1..{MAX_GRID}")
    drift_speed: float = Field(0.03, ge=-2.0, le=2.0, description="grid drift, widths/s")
    head_scale: float = Field(
        0.45, ge=0.05, le=2.0, description="heads: the picture's side, visitor heights")
    min_size_px: int = Field(
        40, ge=0, le=2160,
        description="heads: the picture's smallest side, px at the scene's size (legible on "
        "visitors far away)")
    mask_softness_px: int = Field(
        9, ge=0, le=101,
        description="feather, px at the scene's size: the blur of the motion, visitor, room "
        "and silhouettes masks; heads' round edge fades over half of it")


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


def _place(layer: LayerConfig, picture: np.ndarray, size: Size, t: float,
           motion_mask: np.ndarray | None, people: VisitorMasks) -> list[Piece]:
    """The layer's picture placed on the scene, float32 0..1, with its weights; nothing
    when it has nothing to show yet (no motion mask, nobody there)."""
    w, h = size
    soft = layer.mask_softness_px
    if layer.placement in ("heads", "silhouettes"):
        v = people.visitors
        if v is None or not people.anyone:
            return []
        if layer.placement == "heads":
            return heads(picture, v, size, people.shown, layer.head_scale, layer.min_size_px,
                         soft)
        return silhouettes(picture, v, size, people.shown, people.silhouettes(soft), soft)
    if layer.placement == "grid":
        top = grid(picture, size, *layer.grid, shift=t * layer.drift_speed)
    else:
        top = cover(picture, size)
    weight = None
    if layer.placement == "motion":
        if motion_mask is None:
            return []
        weight = soft_mask(motion_mask, size, soft)
    return [Piece((0, 0, w, h), top.astype(np.float32) * (1 / 255), weight)]


def _blend_in(out: np.ndarray, piece: Piece, mode: BlendMode, opacity: float,
              where: np.ndarray | None) -> None:
    """`piece` blended into `out` in place, over its region, through `where` (the layer's
    mask, HxW; None: everywhere)."""
    x0, y0, x1, y1 = piece.region
    weight = piece.weight
    if where is not None:
        where = where[y0:y1, x0:x1]
        weight = where if weight is None else weight * where
    under = out[y0:y1, x0:x1]
    under[...] = blend(under, piece.picture, mode, opacity, weight)


def compose(
    layers: list[LayerConfig],
    camera: np.ndarray,
    gan: np.ndarray | None,
    motion_mask: np.ndarray | None,
    t: float,
    gan_opacity: float = 1.0,
    *,
    visitors: Visitors | None = None,
    raw: np.ndarray | None = None,
) -> np.ndarray:
    """The scene's layers over each other, at the camera picture's size; uint8 RGB out.

    `camera`: the scene's effect output; `raw`: the camera picture before the effect
    (any size, framed like `camera` by `cover`; None: `camera` stands in for it). `t`: show
    time, s (drives the grid's drift); `gan_opacity` (0..1) scales every GAN layer's
    opacity (the walk's intensity: the imagery strengthens as visitors arrive). `visitors`:
    the perception stage's newest (None: nobody there), for the `visitor` and `room` masks
    and the `heads` and `silhouettes` placements.
    A GAN layer with no picture yet, a motion-placed layer with no mask yet, or a layer
    placed on visitors with nobody there is skipped: it adds nothing (the layers beneath
    show), and the show starts on the camera alone. A composition that is not finite (a
    NaN or infinite weight, gain, mask or visitor) would be cast to black: the camera
    picture passes through instead, counted (`compose_errors`) and logged rate-limited.
    """
    if layers == [PLAIN]:
        return camera  # the camera alone: nothing to blend
    if visitors is not None and not finite(visitors):
        _FAILURES.add("a visitor's position or size is not finite")
        return camera
    h, w = camera.shape[:2]
    people = VisitorMasks(visitors, (w, h))
    pictures = {"camera": camera, "raw": camera if raw is None else raw, "gan": gan}
    out: np.ndarray | None = None
    with np.errstate(over="ignore", invalid="ignore"):  # checked below, as a whole
        for layer in layers:
            picture = pictures[layer.source]
            if picture is None:
                continue
            pieces = _place(layer, picture, (w, h), t, motion_mask, people)
            if not pieces:
                continue
            if out is None:  # the bottom layer lies on black
                out = np.zeros((h, w, 3), np.float32)
            opacity = layer.opacity * (gan_opacity if layer.source == "gan" else 1.0)
            where = people.layer_mask(layer.mask, layer.mask_softness_px)
            for piece in pieces:
                _blend_in(out, piece, layer.blend, opacity, where)
    if out is None:
        return camera
    if not np.isfinite(out).all():
        _FAILURES.add("the composed picture is not finite")
        return camera
    return (np.clip(out, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
