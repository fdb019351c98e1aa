"""What the perception stage tells the rest of the piece: the visitors, one analysed frame.

Positions and sizes are fractions of the camera frame (x right, y down; a size as a share
of the frame's height), so they do not depend on the analysis size. Speeds are in *body
heights per second* (a visitor's own height in the picture), so a walker far from the
camera moves the piece as much as one near it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CENTRE = (0.5, 0.5)


@dataclass(frozen=True)
class Visitor:
    """One tracked person.

    `x`, `y`: the centre of their silhouette's box; `head`: where their head is (the top of
    the silhouette, or a face found there); `height`, `width`: their box, fractions of the
    frame's height and width. `vx`, `vy`: smoothed velocity, body heights/s; `motion`:
    how much they move, body heights/s (travel or the change of their silhouette,
    whichever is more, so someone waving or turning in place moves too). `age_s`: how long
    they have been tracked; `still_s`: how long they have hardly moved. `face`: their head
    is on a face the face network found (within the last 0.6 s).
    """

    id: int
    x: float
    y: float
    head: tuple[float, float]
    height: float
    width: float
    vx: float = 0.0
    vy: float = 0.0
    motion: float = 0.0
    age_s: float = 0.0
    still_s: float = 0.0
    face: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom), fractions of the frame."""
        return (self.x - self.width / 2, self.y - self.height / 2,
                self.x + self.width / 2, self.y + self.height / 2)


def _empty_mask() -> np.ndarray:
    return np.zeros((1, 1), np.float32)


@dataclass(frozen=True, eq=False)  # compared by identity: it holds an array
class Visitors:
    """The people in one analysed frame and the signals the walk reads from them.

    `mask`: the visitors' soft silhouettes, float32 HxW 0..1 at the analysis size (smoothed
    in time: it does not flicker), (1, 1) zeros before the first frame; it belongs to the
    reader. `energy_raw`: the visitors' motion, body heights/s (their mean `motion`, above
    the noise floor); `energy`: the same through the room's automatic gain, 0..1; `gain`:
    that gain. `presence`: someone is there, moving or standing still, 0..1, smoothed.
    `centroid`: the mean of the visitors' positions (centre with nobody); `direction`: unit
    vector of their mean velocity, `coherence`: how much of their motion goes that way
    (0..1). `crowd`: how many visitors, 0..1 (`count` / the config's `crowd_full`, at most 1).
    `segmenter`: "" when the person network runs, else why it does not (said once).
    """

    visitors: tuple[Visitor, ...] = ()
    mask: np.ndarray = field(default_factory=_empty_mask, repr=False)
    energy_raw: float = 0.0
    energy: float = 0.0
    gain: float = 1.0
    presence: float = 0.0
    centroid: tuple[float, float] = CENTRE
    direction: tuple[float, float] = (0.0, 0.0)
    coherence: float = 0.0
    crowd: float = 0.0
    segmenter: str = ""
    t: float = 0.0  # capture time of the analysed frame, monotonic s
    seq: int = 0  # sequence number of the analysed frame (set by the worker)
    ms: float = 0.0  # time spent analysing this frame, ms

    @property
    def count(self) -> int:
        return len(self.visitors)
