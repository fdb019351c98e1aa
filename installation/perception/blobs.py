"""From masks to blobs: the foreground and the person network fused, cleaned, and cut into
connected regions, each a candidate visitor.

Background subtraction finds people at any distance but also anything that moves; the
person network finds people near the camera, even standing still from the first frame,
but almost nothing at room distance (docs/perception.md). A pixel is a visitor's where
either says so; a region only the network sees must be big (`person_min_share`), since
that network is made for people near the camera and its small finds are mostly wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from installation.perception.config import PerceptionConfig

OPEN = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))  # removes single-pixel noise
CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))  # joins a body split by a belt
HEAD_SHARE = 0.2  # the top fifth of a silhouette holds the head
PERSON_SHARE = 0.3  # this much of a region in the network's regions: a person is there
SHAPE_GRID = (12, 24)  # (w, h) a silhouette is compared at: its shape, not its size


@dataclass(frozen=True, eq=False)
class Blob:
    """One connected region: its box (x, y, w, h) in analysis px, its pixel centroid, its
    head (x, y) px, its area in px and its silhouette shrunk to `SHAPE_GRID` (float32 0..1),
    for comparing shapes from frame to frame whatever the size."""

    box: tuple[int, int, int, int]
    centre: tuple[float, float]
    head: tuple[float, float]
    area: int
    shape: np.ndarray
    label: int  # its number in the label picture `find_blobs` returns
    person: bool = False  # the person network sees a person in it

    @property
    def height(self) -> int:
        return self.box[3]


def fuse(fg: np.ndarray, person: np.ndarray | None, cfg: PerceptionConfig
         ) -> tuple[np.ndarray, np.ndarray | None]:
    """Where a visitor may be: `fg` (0/1 uint8) cleaned, or-ed with the network's regions
    (`person`: float32 probabilities, same size) that are big enough; 0/1 uint8 out, with
    the network's regions alone (0/1 uint8, or None without the network)."""
    mask = cv2.morphologyEx(fg, cv2.MORPH_OPEN, OPEN)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, CLOSE)
    if person is None:
        return mask, None
    sure = (person > cfg.person_threshold).view(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(sure, connectivity=8)
    least = cfg.person_min_share * sure.size
    big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= least) + 1
    if not big.size:
        return mask, None
    people = np.isin(labels, big).view(np.uint8)
    np.maximum(mask, people, out=mask)
    return mask, people


def find_blobs(mask: np.ndarray, people: np.ndarray | None, cfg: PerceptionConfig
               ) -> tuple[list[Blob], np.ndarray]:
    """The regions of `mask` (0/1 uint8) at least `min_height` of the picture tall, and
    the label picture (int32 HxW: each pixel its region's number, 0 none). A region is a
    `person` where at least `PERSON_SHARE` of it is in `people` (the network's regions)."""
    h = mask.shape[0]
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    least = max(2, round(cfg.min_height * h))
    blobs: list[Blob] = []
    for i in range(1, n):
        x, y, w, bh, area = (int(v) for v in stats[i])
        if bh < least or area < 2:
            continue
        inside = labels[y:y + bh, x:x + w] == i
        top = inside[: max(1, round(bh * HEAD_SHARE))]
        cols = np.flatnonzero(top.any(axis=0))
        head_x = x + (float(cols.mean()) + 0.5 if cols.size else w / 2)
        head_y = y + bh * HEAD_SHARE / 2
        person = people is not None and bool(
            np.count_nonzero(people[y:y + bh, x:x + w][inside]) >= PERSON_SHARE * area)
        shape = cv2.resize(inside.view(np.uint8).astype(np.float32), SHAPE_GRID,
                           interpolation=cv2.INTER_AREA)
        blobs.append(Blob((x, y, w, bh), (float(centroids[i][0]), float(centroids[i][1])),
                          (head_x, head_y), area, shape, i, person))
    return blobs, labels
