"""Pictures placed on visitors: at each one's head, or over each one's silhouette.

    picture ─┬─► heads        a square at each head, ∝ their height (≥ a legible minimum),
             │                round, feathered, fading in as they arrive
             └─► silhouettes  stretched over each visitor's box, shown through their
                              feathered silhouette
                 ─► one piece per visitor (picture, weight, region) for the layer's blend

Pieces go far (small) first, near (tall) last, each blended on its own over what lies
beneath, so the nearest is in front ("normal") or overlapping pictures add up ("add").
Positions are fractions of the camera frame, mapped into the part the scene shows
(`masks.Shown`) at sub-pixel precision, so a slow visitor's picture glides rather than
steps. Each visitor costs a warp of the part of the scene they cover, never a full frame.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from installation.compositor.masks import Shown
from installation.perception.visitors import Visitor, Visitors
from installation.pictures import Size

Region = tuple[int, int, int, int]  # x0, y0, x1, y1: a part of the scene, px (end exclusive)

HEAD_FADE_IN_S = 0.4  # a newly tracked visitor's picture fades in over this, s (no pop)
MAX_SIDE = 4  # a placed picture spans at most this many scene widths or heights


class Piece(NamedTuple):
    """Part of a layer: `picture` (float32 hxwx3, 0..1) shown through `weight` (hxw, 0..1;
    None: 1 throughout) over `region` of the scene. A layer is a list of pieces, blended
    one after another (a visitor's over the farther ones'); it adds nothing elsewhere."""

    region: Region
    picture: np.ndarray
    weight: np.ndarray | None


def finite(visitors: Visitors) -> bool:
    """Whether every visitor's position and size are finite numbers."""
    return all(math.isfinite(n) for v in visitors.visitors
               for n in (v.x, v.y, v.head[0], v.head[1], v.height, v.width))


def _region(left: float, top: float, right: float, bottom: float, size: Size) -> Region | None:
    """The scene's pixels a rectangle (px, fractional) touches; None when off the scene."""
    w, h = size
    x0, y0 = max(0, math.floor(left)), max(0, math.floor(top))
    x1, y1 = min(w, math.ceil(right)), min(h, math.ceil(bottom))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


class _Mips:
    """A picture and its halvings (pyrDown), made as needed: a small picture is taken from
    the level just above its size, so shrinking a full frame to a 40 px head neither
    aliases nor averages the whole frame again for every visitor."""

    def __init__(self, picture: np.ndarray) -> None:
        self.levels = [picture]

    def at_least(self, w: int, h: int) -> np.ndarray:
        """The smallest level at least (w, h) px (the picture itself when it is smaller)."""
        i = 0
        while True:
            lh, lw = self.levels[i].shape[:2]
            if lw < 2 * w or lh < 2 * h or lw < 2 or lh < 2:
                return self.levels[i]
            if i + 1 == len(self.levels):
                self.levels.append(cv2.pyrDown(self.levels[i]))
            i += 1


def _warp_into(mips: _Mips, rect: tuple[float, float, float, float],
               region: Region) -> np.ndarray:
    """The picture stretched over `rect` (left, top, width, height: scene px, fractional),
    the part inside `region`: float32 0..1, its edge pixels repeated past the rectangle."""
    left, top, rw, rh = rect
    x0, y0, x1, y1 = region
    # From the level just above the rectangle's size, the warp's bilinear shrink is at most
    # 2× on the rectangle's tighter axis: mipmapping, no aliasing worth the cost of an area
    # resize per visitor.
    picture = mips.at_least(max(1, math.ceil(rw)), max(1, math.ceil(rh)))
    ph, pw = picture.shape[:2]
    sx, sy = rw / pw, rh / ph
    # Source pixel i (centre i + 0.5) lands at left + (i + 0.5)·sx; dst pixel j's centre is j.
    m = np.array([[sx, 0.0, left + 0.5 * sx - 0.5 - x0],
                  [0.0, sy, top + 0.5 * sy - 0.5 - y0]], np.float64)
    out = cv2.warpAffine(picture, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return out.astype(np.float32) * (1 / 255)


def _disc(region: Region, centre: tuple[float, float], radius: float,
          feather: float) -> np.ndarray:
    """A disc's alpha over `region`: 1 inside, 0 from `radius` out, a smoothstep ramp
    `feather` px wide inside the edge (px; 0 = a hard edge)."""
    x0, y0, x1, y1 = region
    dx = np.arange(x0, x1, dtype=np.float32) + (0.5 - centre[0])
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] + (0.5 - centre[1])
    d = np.sqrt(dx * dx + dy * dy)
    if feather <= 0:
        return (d <= radius).astype(np.float32)
    a = np.clip((radius - d) * (1 / feather), 0.0, 1.0)
    return a * a * (3.0 - 2.0 * a)


def _far_first(visitors: Visitors) -> list[Visitor]:
    return sorted(visitors.visitors, key=lambda v: v.height)


def heads(picture: np.ndarray, visitors: Visitors, size: Size, shown: Shown, scale: float,
          min_px: int, softness_px: int) -> list[Piece]:
    """`picture` at each visitor's head: a square `scale` × their height (scene px, at least
    `min_px`) centred on `head`, cut round with an edge feathered over half `softness_px`
    (at most half the radius, so the middle stays whole), fading in over `HEAD_FADE_IN_S`
    as they arrive. Nothing for visitors off the scene.

    The picture is resized to the square whatever its shape: the GAN's square picture,
    which the renderer stretched to the scene's shape, comes back square.
    """
    w, h = size
    mips, pieces = _Mips(picture), []
    for v in _far_first(visitors):
        cx, cy = shown.to_px(*v.head, size)
        side = min(max(scale * v.height / shown.height * h, float(min_px), 2.0),
                   MAX_SIDE * max(w, h))
        r = side / 2
        region = _region(cx - r, cy - r, cx + r, cy + r, size)
        arriving = min(1.0, v.age_s / HEAD_FADE_IN_S)
        if region is None or arriving <= 0:
            continue
        alpha = _disc(region, (cx, cy), r, min(softness_px / 2, r / 2))
        if arriving < 1:
            alpha *= arriving * arriving * (3 - 2 * arriving)
        pieces.append(Piece(region, _warp_into(mips, (cx - r, cy - r, side, side), region),
                            alpha))
    return pieces


def silhouettes(picture: np.ndarray, visitors: Visitors, size: Size, shown: Shown,
                silhouette: np.ndarray, softness_px: int) -> list[Piece]:
    """`picture` stretched over each visitor's box, shown through `silhouette` (the visitors'
    mask at the scene's size, feathered over `softness_px`) within the box and the margin
    its feather spreads over, nowhere else. Nothing for boxes off the scene."""
    margin = softness_px // 2 + 1  # how far the feathered silhouette reaches past its box, px
    lo, hi = -MAX_SIDE / 2, MAX_SIDE / 2 + 1  # a box far off the scene is cut there
    mips, pieces = _Mips(picture), []
    for v in _far_first(visitors):
        box = [min(max(f, lo), hi) for f in v.box]
        left, top = shown.to_px(box[0], box[1], size)
        right, bottom = shown.to_px(box[2], box[3], size)
        region = _region(left - margin, top - margin, right + margin, bottom + margin, size)
        if region is None or right <= left or bottom <= top:
            continue
        x0, y0, x1, y1 = region
        patch = _warp_into(mips, (left, top, right - left, bottom - top), region)
        pieces.append(Piece(region, patch, silhouette[y0:y1, x0:x1]))
    return pieces
