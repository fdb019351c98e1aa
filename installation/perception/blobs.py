"""From masks to blobs: the foreground and the person network fused, cleaned, and cut into
connected regions, each a candidate visitor.

    foreground ─► open (specks out), close (pinholes) ─┐
    person network ─► its big regions ─────────────────┴─► or ─► connected regions
    regions ─► fragments of one body joined (gaps relative to its height) ─► blobs

Background subtraction finds people at any distance but also anything that moves; the
person network finds people near the camera, even standing still from the first frame,
but almost nothing at room distance (docs/perception.md). A pixel is a visitor's where
either says so; a region only the network sees must be big (`person_min_share`), since
that network is made for people near the camera and its small finds are mostly wrong.

Where a visitor's clothes match the room (a dark coat against a dark wall, a belt) their
silhouette breaks into pieces. A fixed closing would join the pieces of a near visitor or
of a far one, not both, so pieces are joined by their boxes instead, with gaps measured
in the height of the larger piece: the same body is one blob at any distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from installation.perception.config import PerceptionConfig

OPEN = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))  # removes single-pixel noise
CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))  # fills pinholes and cracks
HEAD_SHARE = 0.2  # the top fifth of a silhouette holds the head
MOST_BLOBS = 32  # candidates handed to the tracker at most, the tallest first
PERSON_SHARE = 0.3  # this much of a region in the network's regions: a person is there
# A piece is part of a body when it lies within these gaps of it, in the body's height:
# above or below it (a belt, a dark band across the body) or beside it (an arm, a bag) if
# it is small; two people side by side stay two.
JOIN_ACROSS = 0.12  # sideways gap, heights
JOIN_ALONG = 0.3  # gap above or below, heights
BESIDE_MOST = 0.6  # a piece beside is at most this tall, heights (taller: someone else)
JOIN_MOST = 48  # pieces considered for joining, the tallest first (the cost is quadratic)
SHAPE_ROWS = 16  # a silhouette is compared on a canvas this many rows per body height


@dataclass(frozen=True, eq=False)
class Blob:
    """One region (its pieces joined): its box (x, y, w, h) in analysis px, its pixel
    centroid, its head (x, y) px, its area in px and `inside`, its pixels within the box
    (bool, h x w; a view of this frame's labels, valid until the next frame)."""

    box: tuple[int, int, int, int]
    centre: tuple[float, float]
    head: tuple[float, float]
    area: int
    inside: np.ndarray
    label: int  # its number in the label picture `find_blobs` returns
    person: bool = False  # the person network sees a person in it
    edge: bool = False  # it touches the picture's border: partly outside the frame

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


def _joined(stats: np.ndarray) -> np.ndarray:
    """For each region (row of `stats`, OpenCV's x, y, w, h, area; row 0 the background),
    the region it joins (itself when alone): pieces of one body, by their boxes. Pieces are
    taken tallest first; each joins the first body (the pieces joined so far, their box
    and height together) near it, or begins one, so a belt's two halves make one body
    that an arm beside it then joins, and a speck between two people joins one of them,
    not both."""
    n = len(stats)
    root = np.arange(n)
    if n <= 2:
        return root
    order = np.argsort(-stats[1:, cv2.CC_STAT_HEIGHT], kind="stable")[:JOIN_MOST] + 1
    boxes = np.zeros((len(order), 4))  # the bodies so far: left, top, right, bottom, px
    roots = np.zeros(len(order), int)
    count = 0
    for i in order:
        x, y, w, h = (float(v) for v in stats[i, :4])
        if count:
            left, top, right, bottom = boxes[:count].T
            tall = bottom - top
            gap_x = np.maximum(left, x) - np.minimum(right, x + w)  # negative: overlap
            gap_y = np.maximum(top, y) - np.minimum(bottom, y + h)
            near = ((gap_y < 0) & (gap_x <= JOIN_ACROSS * tall) & (h <= BESIDE_MOST * tall)
                    ) | ((gap_x < 0) & (gap_y <= JOIN_ALONG * tall))
            found = np.flatnonzero(near)
            if found.size:
                k = found[0]
                root[i] = roots[k]
                boxes[k] = (min(left[k], x), min(top[k], y), max(right[k], x + w),
                            max(bottom[k], y + h))
                continue
        boxes[count], roots[count] = (x, y, x + w, y + h), i
        count += 1
    return root


def find_blobs(mask: np.ndarray, people: np.ndarray | None, cfg: PerceptionConfig
               ) -> tuple[list[Blob], np.ndarray]:
    """The regions of `mask` (0/1 uint8), pieces of one body joined, at least `min_height`
    of the picture tall, and the label picture (int32 HxW: each pixel its region's number,
    0 none). A region is a `person` where at least `PERSON_SHARE` of it is in `people`
    (the network's regions)."""
    ph, pw = mask.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    root = _joined(stats)
    if (root != np.arange(n)).any():
        labels = root[labels].astype(np.int32)
    least = max(2, round(cfg.min_height * ph))
    found: list[tuple[int, int, int, int, int, int]] = []  # (label, x0, y0, x1, y1, area)
    for i in np.unique(root[1:]) if n > 1 else ():
        members = np.flatnonzero(root == i)
        members = members[members > 0]
        x0 = int(stats[members, cv2.CC_STAT_LEFT].min())
        y0 = int(stats[members, cv2.CC_STAT_TOP].min())
        x1 = int((stats[members, cv2.CC_STAT_LEFT] + stats[members, cv2.CC_STAT_WIDTH]).max())
        y1 = int((stats[members, cv2.CC_STAT_TOP] + stats[members, cv2.CC_STAT_HEIGHT]).max())
        area = int(stats[members, cv2.CC_STAT_AREA].sum())
        if y1 - y0 >= least and area >= 2:
            found.append((int(i), x0, y0, x1, y1, area))
    # The tallest MOST_BLOBS only: a frame of noise (a flicker, a shaking mount) must not
    # cost the tracker hundreds of candidates.
    found.sort(key=lambda f: f[2] - f[4])
    blobs: list[Blob] = []
    for i, x0, y0, x1, y1, area in found[:MOST_BLOBS]:
        w, bh = x1 - x0, y1 - y0
        inside = labels[y0:y1, x0:x1] == i
        rows, cols = np.nonzero(inside)
        centre = (x0 + float(cols.mean()) + 0.5, y0 + float(rows.mean()) + 0.5)
        top = inside[: max(1, round(bh * HEAD_SHARE))]
        head_cols = np.flatnonzero(top.any(axis=0))
        head_x = x0 + (float(head_cols.mean()) + 0.5 if head_cols.size else w / 2)
        head_y = y0 + bh * HEAD_SHARE / 2
        person = people is not None and bool(
            np.count_nonzero(people[y0:y1, x0:x1][inside]) >= PERSON_SHARE * area)
        edge = x0 <= 0 or y0 <= 0 or x1 >= pw or y1 >= ph
        blobs.append(Blob((x0, y0, w, bh), centre, (head_x, head_y), area, inside, i,
                          person, edge))
    return blobs, labels


def silhouette(blob: Blob, height: float) -> np.ndarray:
    """`blob`'s silhouette on a canvas of `SHAPE_ROWS` rows per `height` px (a visitor's
    height), 2 x 2 such heights, its centroid at the centre to the sub-pixel: its shape
    whatever its size and place, for seeing a silhouette change (float32 0..1)."""
    x, y, w, bh = blob.box
    s = SHAPE_ROWS / max(height, 1.0)
    tw, th = max(1, round(w * s)), max(1, round(bh * s))
    small = cv2.resize(blob.inside.view(np.uint8).astype(np.float32), (tw, th),
                       interpolation=cv2.INTER_AREA)
    cx, cy = (blob.centre[0] - x) * tw / w, (blob.centre[1] - y) * th / bh
    move = np.array([[1.0, 0.0, SHAPE_ROWS - cx], [0.0, 1.0, SHAPE_ROWS - cy]], np.float32)
    side = 2 * SHAPE_ROWS
    return cv2.warpAffine(small, move, (side, side), flags=cv2.INTER_LINEAR)
