"""Faces on visitors: looked for where a head would be, in crops of the camera's own picture.

The face network (BlazeFace short range) sees a 128 px square. On a whole frame a visitor's
face is a few pixels there and is missed (docs/perception.md); cut around the top of a
visitor from the full-size camera frame, the same face fills a good part of the square.
So faces are looked for per visitor, two calls a frame at most:

- to *confirm* what the person network alone found: that network takes salient things
  for people (a cup near the lens, a cat, grass); a region it finds counts as a person
  standing there from the start only when a face is found at its top;
- to place *heads* on visitors near the camera (at least `FACE_NEAR` of the picture tall),
  each refreshed every few frames and kept for `FACE_KEEP_S`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

CALLS = 2  # face network calls per analysed frame at most (~1 ms each on our 2 cores)
CROP = 0.8  # a head crop's side, in the visitor's height: a whole face with room around it,
# whether the box is a whole body (face ~1/8 of it: ~20 px of the network's 128) or a bust
CROP_ABOVE = 0.1  # the crop starts this share of its side above the visitor's top
LEAST_CROP_PX = 24  # a crop smaller than this holds no face the network can find, px
FACE_NEAR = 0.3  # heads are looked for on visitors this tall (a share of the picture)
FACE_KEEP_S = 0.6  # a face found stays the visitor's head this long, s
REFRESH_S = 0.2  # a visitor's face is looked for again this long after it was found, s
CONFIRM_EVERY_S = 0.2  # what the person network alone finds is looked at this often, s

Box = tuple[float, float, float, float]  # (left, top, right, bottom)


class FaceBoxes(Protocol):
    """A face detector (`faces.FaceDetector`, seen through `networks`): boxes (left, top,
    right, bottom) as fractions of the picture it is given."""

    def boxes(self, rgb: np.ndarray) -> list[Box]: ...


def head_crop(box: Box, size: tuple[int, int], head_x: float | None = None
              ) -> tuple[int, int, int, int] | None:
    """The square (x0, y0, x1, y1) in px of a picture of `size` (w, h) around the head of
    someone whose box (left, top, right, bottom, px of that picture) is `box`: centred on
    `head_x` (px; the box's middle when None), from a little above its top; clipped to the
    picture. None when too small."""
    left, top, right, bottom = box
    side = CROP * (bottom - top)
    if side < LEAST_CROP_PX:
        return None
    cx = 0.5 * (left + right) if head_x is None else head_x
    x0, y0 = round(cx - side / 2), round(top - CROP_ABOVE * side)
    x1, y1 = round(x0 + side), round(y0 + side)
    w, h = size
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    return (x0, y0, x1, y1) if x1 - x0 >= LEAST_CROP_PX and y1 - y0 >= LEAST_CROP_PX else None


class Heads:
    """Looks for faces in head crops of the camera frame, within a budget of calls. A
    detector that raises is dropped for good, said once (heads from silhouettes then)."""

    def __init__(self, detector: FaceBoxes | None) -> None:
        self.detector = detector
        self._calls = 0
        self._found: dict[int, tuple[float, float, float]] = {}  # track id → (x, y, t)
        self._turn = 0  # round robin over the visitors near the camera
        self._confirmed_at = -CONFIRM_EVERY_S  # when a network find was last looked at, s

    def forget(self) -> None:
        """A new room: no face known."""
        self._found.clear()
        self._confirmed_at = -CONFIRM_EVERY_S

    def confirm_due(self, t: float) -> bool:
        """Whether the person network's finds are to be looked at for faces now (`t`, s):
        every `CONFIRM_EVERY_S`."""
        if t - self._confirmed_at < CONFIRM_EVERY_S and t >= self._confirmed_at:
            return False
        self._confirmed_at = t
        return True

    def start_frame(self) -> None:
        """A new analysed frame: the budget of calls starts again."""
        self._calls = 0

    def face(self, rgb: np.ndarray, box: Box, head_x: float | None = None
             ) -> tuple[float, float] | None:
        """The centre of a face at the top of `box` (fractions of `rgb`: left, top, right,
        bottom; `head_x`: where along it the head is, a fraction of `rgb`'s width), as
        fractions of `rgb`; None when none is found, the crop is too small, there is no
        detector or this frame's calls are spent."""
        if self.detector is None or self._calls >= CALLS:
            return None
        h, w = rgb.shape[:2]
        crop = head_crop((box[0] * w, box[1] * h, box[2] * w, box[3] * h), (w, h),
                         None if head_x is None else head_x * w)
        if crop is None:
            return None
        x0, y0, x1, y1 = crop
        self._calls += 1
        try:
            found = self.detector.boxes(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
        except Exception as exc:  # heads from silhouettes from now on
            self.detector = None
            log.warning("face network failed (%s: %s): heads from silhouettes from now on",
                        type(exc).__name__, exc)
            return None
        if not found:
            return None
        fl, ft, fr, fb = found[0]  # the most confident
        return ((x0 + 0.5 * (fl + fr) * (x1 - x0)) / w, (y0 + 0.5 * (ft + fb) * (y1 - y0)) / h)

    def heads(self, rgb: np.ndarray, near: list[tuple[int, Box, float]], t: float,
              keep: Callable[[int], bool]) -> dict[int, tuple[float, float]]:
        """Faces of the visitors `near` the camera ((track id, box and head x as fractions)),
        looked
        for in turn with the calls left this frame; each found face is kept `FACE_KEEP_S`.
        Returns track id → face centre (fractions of `rgb`); `keep(id)`: the track still
        exists (faces of visitors gone are forgotten)."""
        self._found = {i: f for i, f in self._found.items()
                       if keep(i) and t - f[2] <= FACE_KEEP_S}
        for k in range(len(near)):
            track, box, head_x = near[(self._turn + k) % len(near)]
            if self._calls >= CALLS:
                break
            if track in self._found and t - self._found[track][2] < REFRESH_S:
                continue  # found a moment ago: its place stands
            found = self.face(rgb, box, head_x)
            if found is not None:
                self._found[track] = (*found, t)
        self._turn += 1
        return {i: (x, y) for i, (x, y, _) in self._found.items()}
