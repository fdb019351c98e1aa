"""Masks: where a layer shows, at the scene's size, from masks made on the camera frame.

    motion mask (motion stage) ──────────────┐
    visitors' silhouettes (perception stage) ┴─► part the scene shows ─► resize ─► feather

The analysis stages look at the whole camera frame; the scene shows it centre-cropped to its
own aspect (`pictures.resize_to`, a 4:3 camera in a 16:9 scene loses top and bottom). A mask
or a position is mapped through the same crop, so it lies on the visitor it was made from.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from installation.perception.visitors import Visitors
from installation.pictures import Size


class Shown(NamedTuple):
    """The part of the camera frame a scene shows: fractions of the frame."""

    left: float
    top: float
    width: float
    height: float

    def to_px(self, x: float, y: float, size: Size) -> tuple[float, float]:
        """A point of the camera frame (fractions) in the scene's pixels (may lie outside)."""
        return ((x - self.left) / self.width * size[0], (y - self.top) / self.height * size[1])


def shown_part(frame: Size, size: Size) -> Shown:
    """The part of a frame (W, H) that a scene of `size` (W, H) shows: its centre, cut to the
    scene's aspect (as `pictures.resize_to` cuts the camera picture for the effects)."""
    ratio = (frame[0] / frame[1]) / (size[0] / size[1])  # > 1: the frame is wider
    if ratio > 1:
        return Shown((1 - 1 / ratio) / 2, 0.0, 1 / ratio, 1.0)
    return Shown(0.0, (1 - ratio) / 2, 1.0, ratio)


def soft_mask(mask: np.ndarray, size: Size, softness_px: int) -> np.ndarray:
    """A mask of the camera frame (any size, 0..1) cut to the part the scene shows, resized
    to (W, H) and blurred over `softness_px` (a Gaussian kernel, px) so edges do not cut."""
    mh, mw = mask.shape[:2]
    part = shown_part((mw, mh), size)
    x0, y0 = round(part.left * mw), round(part.top * mh)
    x1, y1 = x0 + max(1, round(part.width * mw)), y0 + max(1, round(part.height * mh))
    cut = np.ascontiguousarray(mask[y0:y1, x0:x1], np.float32)
    m = cv2.resize(cut, size, interpolation=cv2.INTER_LINEAR)
    if softness_px > 1:
        k = softness_px | 1  # odd kernel
        m = cv2.GaussianBlur(m, (k, k), 0)
    return np.clip(m, 0.0, 1.0)


class VisitorMasks:
    """The visitors' silhouettes at one scene size, each softness made once per composition
    (a scene's `visitor` and `room` layers and its silhouettes placement share them).

    No visitors, or no mask yet: nobody there (`visitor` shows nothing, `room` everything).
    The stage's mask is followed as it is, smoothed in time, so a visitor who leaves fades
    out with it rather than vanishing with the last track.
    """

    def __init__(self, visitors: Visitors | None, size: Size) -> None:
        self.visitors = visitors
        self.size = size
        mask = None if visitors is None else visitors.mask
        self._mask = mask if mask is not None and mask.size > 1 else None
        # The camera frame's aspect, from the analysis size (nobody yet: the scene's own).
        frame = size if self._mask is None else (self._mask.shape[1], self._mask.shape[0])
        self.shown = shown_part(frame, size)
        self._soft: dict[int, np.ndarray] = {}

    @property
    def anyone(self) -> bool:
        """Whether any visitor is tracked (placements on visitors have someone to go on)."""
        return self.visitors is not None and self.visitors.count > 0

    def silhouettes(self, softness_px: int) -> np.ndarray:
        """The visitors' silhouettes, HxW float32 0..1, feathered over `softness_px`."""
        if softness_px not in self._soft:
            w, h = self.size
            self._soft[softness_px] = (
                np.zeros((h, w), np.float32) if self._mask is None
                else soft_mask(self._mask, self.size, softness_px))
        return self._soft[softness_px]

    def layer_mask(self, kind: str, softness_px: int) -> np.ndarray | None:
        """A layer's `mask` setting as weights: "visitor" the silhouettes, "room" the rest
        (the two add up to 1 everywhere), "none" None (everywhere)."""
        if kind == "none":
            return None
        sil = self.silhouettes(softness_px)
        return sil if kind == "visitor" else 1.0 - sil
