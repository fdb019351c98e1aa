"""Synthetic fixed-camera scenes of people, where the right answer is known.

    the room: scikit-image's `rocket` still (a launch pad at dusk, nobody in it),
              scaled to cover the frame, lightly blurred ────────────────────────┐
    the people: scikit-image's `astronaut` photo cut out along a fixed polygon   ├─► frame i
              (her head and torso, not the helmet), scaled to a height, walking  │   at i / fps
              (body heights/s, a little bob) or standing ────────────────────────┘   + sensor noise

For the perception tests and the `gan-response` distance study. Every scene is a `Clip`:
a sequence of frames (`len`, `clip[i]`, iteration) rendered on demand, so a long clip
costs no memory, and the same every time (the noise of frame i is seeded by (seed, i)).
`clip.boxes(i)` says where each figure is in frame i. Sizes are (width, height) px;
positions and heights fractions of the frame; speeds body heights per second; times s.

    walkers(figures=[Figure(0.4, -0.2, 0.9, speed=0.8)])  # one walks in from the left
    walkers(figures=[Figure(0.4, -0.2, 0.9, 0.8, stop_at_s=3.0)])  # ... and stops
    crossing()             # two walkers crossing in the middle, one in front
    still_photo()          # the astronaut photo itself: a person near the camera, held
    empty_room()           # nobody
    held(clip[0])          # one frame held, fresh sensor noise each frame
    inset(clip, 0.25, room())  # the clip a quarter the size in a corner of the room
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import overload

import cv2
import numpy as np

Size = tuple[int, int]  # (width, height), px
Box = tuple[float, float, float, float]  # (left, top, right, bottom), fractions of the frame

SIZE: Size = (640, 360)  # a 16:9 camera, small enough to render quickly
FPS = 15.0  # frames per second (the perception stage's default rate)
NOISE = 2.0  # sensor noise, grey levels (σ of a Gaussian, per channel)
ROOM_BLUR = 1.0  # the room still's blur, σ in px of its own 640 px width
BOB = 0.015  # a walker's vertical bob, body heights
STEPS_HZ = 2.0  # a walker's steps per second (the bob's frequency)
GRAIN_PAD = 64  # the noise field is this much bigger than a frame: 64 x 64 offsets
THIN = 0.4  # a turning figure seen side-on, a share of her width facing the camera

# The astronaut photo (512 x 512) cut out: her head and torso, without the helmet she
# holds (bottom right) and the flag behind her (left); the person network's own mask of
# the photo, simplified by hand, so that scenes need no network.
ASTRONAUT = np.array([
    (196, 24), (156, 57), (151, 72), (156, 102), (182, 134), (182, 152), (134, 165),
    (112, 204), (72, 237), (44, 277), (30, 331), (24, 375), (14, 398), (0, 422), (0, 511),
    (280, 511), (284, 440), (300, 385), (330, 358), (362, 346), (365, 285), (339, 260),
    (305, 233), (291, 204), (256, 174), (263, 151), (293, 114), (301, 94), (290, 45),
    (275, 30), (243, 16),
], np.int32)


@dataclass(frozen=True)
class Figure:
    """One person in a scene: the astronaut cut out, `height` of the frame's height tall,
    centred at `x` (fraction of the width; outside 0..1 is off the frame) at the start,
    feet at `y` (fraction of the height). She walks at `speed` body heights/s (negative:
    leftwards) until `stop_at_s`, then stands; `mirror` turns her the other way; with
    `turn_hz` she turns on the spot that many times a second (her silhouette narrows to
    `THIN` of its width and back, twice a turn: she moves without travelling)."""

    height: float
    x: float
    y: float
    speed: float = 0.0
    stop_at_s: float | None = None
    mirror: bool = False
    turn_hz: float = 0.0

    def thinning(self, t: float) -> float:
        """Her width at time `t`, a share of her width facing the camera."""
        return THIN + (1.0 - THIN) * abs(math.cos(2 * math.pi * self.turn_hz * t))

    def place(self, t: float, size: Size) -> tuple[float, float, float]:
        """(centre x, feet y, height) in px at time `t`."""
        w, h = size
        tall = self.height * h
        walked = t if self.stop_at_s is None else min(t, self.stop_at_s)
        cx = self.x * w + self.speed * tall * walked
        moving = self.speed != 0.0 and (self.stop_at_s is None or t < self.stop_at_s)
        bob = BOB * tall * abs(math.sin(math.pi * STEPS_HZ * t)) if moving else 0.0
        return cx, self.y * h - bob, tall


class Clip(Sequence[np.ndarray]):
    """A scene's frames, rendered on demand: `clip[i]` is frame i (H x W x 3 uint8 RGB,
    captured at i / `fps` s), the same each time it is asked for. `boxes(i)`: where each
    figure is in frame i (in the order given; empty for scenes without figures)."""

    def __init__(self, render: Callable[[int], np.ndarray], count: int, fps: float,
                 size: Size, boxes: Callable[[int], list[Box]] | None = None) -> None:
        self._render = render
        self._count = count
        self._boxes = boxes
        self.fps = fps
        self.size = size

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> list[np.ndarray]: ...
    def __getitem__(self, i: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(f"frame {i} of a {self._count}-frame clip")
        return self._render(i)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self._render(i) for i in range(self._count))

    def boxes(self, i: int) -> list[Box]:
        """Each figure's box in frame i, fractions of the frame (may reach outside it)."""
        return self._boxes(i) if self._boxes is not None else []


# -- the pictures -----------------------------------------------------------------------------

@cache
def _astronaut() -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut())
    alpha = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(alpha, [ASTRONAUT], 255)
    x, y, w, h = cv2.boundingRect(ASTRONAUT)
    return photo[y:y + h, x:x + w].astype(np.float32), alpha[y:y + h, x:x + w]


def person() -> tuple[np.ndarray, np.ndarray]:
    """The astronaut cut out: RGB float32 (0..255) and alpha float32 (0..1), her box."""
    rgb, alpha = _astronaut()
    return rgb.copy(), alpha.astype(np.float32) / 255.0


@lru_cache(maxsize=64)
def _figure_patch(tall_px: float, mirror: bool) -> tuple[np.ndarray, np.ndarray]:
    """The cut-out scaled to `tall_px` high: RGB premultiplied by alpha, and alpha (float32);
    area-averaged, so a small figure is a real camera's view of her, not an aliased one."""
    rgb, alpha = _astronaut()
    h, w = alpha.shape
    out = (max(1, round(w * tall_px / h)), max(1, round(tall_px)))
    a = cv2.resize(alpha.astype(np.float32) / 255.0, out, interpolation=cv2.INTER_AREA)
    c = cv2.resize(rgb * (alpha[..., None] / 255.0), out, interpolation=cv2.INTER_AREA)
    if mirror:
        a, c = a[:, ::-1].copy(), c[:, ::-1].copy()
    return c, a


def _cover(picture: np.ndarray, size: Size, top: float = 0.5) -> np.ndarray:
    """`picture` scaled to cover `size` and cropped (`top`: where the crop sits, 0 top)."""
    w, h = size
    ph, pw = picture.shape[:2]
    s = max(w / pw, h / ph)
    sw, sh = max(w, round(pw * s)), max(h, round(ph * s))
    scaled = cv2.resize(picture, (sw, sh), interpolation=cv2.INTER_AREA if s < 1
                        else cv2.INTER_CUBIC)
    x0, y0 = (sw - w) // 2, round((sh - h) * top)
    return np.ascontiguousarray(scaled[y0:y0 + h, x0:x0 + w])


def room(size: Size = SIZE) -> np.ndarray:
    """The empty room: scikit-image's `rocket` still (no people), covering `size`, blurred
    a little (a camera's optics), H x W x 3 uint8 RGB, no noise."""
    from skimage import data

    still = cv2.GaussianBlur(data.rocket(), (0, 0), ROOM_BLUR)
    return _cover(still, size)


@lru_cache(maxsize=8)  # 3.6 MB each at 640 x 360
def _grain(height: int, width: int, seed: int) -> np.ndarray:
    """A field of standard Gaussian noise `GRAIN_PAD` px bigger than the frame each way."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((height + GRAIN_PAD, width + GRAIN_PAD, 3), dtype=np.float32)


def _noisy(picture: np.ndarray, noise: float, seed: int, i: int) -> np.ndarray:
    """`picture` (float32) with sensor noise σ `noise` for frame i, as uint8. Each frame's
    noise is the seed's Gaussian field seen from an offset drawn for (seed, i): independent
    from frame to frame (other samples of the field), at a fraction of the cost of drawing
    a frame of Gaussian samples."""
    if noise <= 0:
        return np.clip(picture, 0, 255).astype(np.uint8)
    h, w = picture.shape[:2]
    ox, oy = np.random.default_rng((seed, i)).integers(0, GRAIN_PAD, 2)
    grain = _grain(h, w, seed)[oy:oy + h, ox:ox + w]
    return np.clip(picture + noise * grain, 0, 255).astype(np.uint8)


def _paste(frame: np.ndarray, figure: Figure, t: float) -> None:
    """Composite `figure` at time `t` over `frame` (float32 H x W x 3), in place, placed to
    the sub-pixel (a slow walker far away moves less than a pixel a frame)."""
    h, w = frame.shape[:2]
    cx, feet, tall = figure.place(t, (w, h))
    colour, alpha = _figure_patch(round(tall * 4) / 4, figure.mirror)
    if figure.turn_hz:
        ph, pw = alpha.shape
        thin = (max(1, round(pw * figure.thinning(t))), ph)
        colour = cv2.resize(colour, thin, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, thin, interpolation=cv2.INTER_AREA)
    ph, pw = alpha.shape
    left, top = cx - pw / 2, feet - ph
    ix, iy = math.floor(left), math.floor(top)
    shift = np.array([[1, 0, left - ix], [0, 1, top - iy]], np.float32)
    canvas = (pw + 1, ph + 1)
    colour = cv2.warpAffine(colour, shift, canvas, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(alpha, shift, canvas, flags=cv2.INTER_LINEAR)
    x0, y0, x1, y1 = max(ix, 0), max(iy, 0), min(ix + pw + 1, w), min(iy + ph + 1, h)
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - iy:y1 - iy, x0 - ix:x1 - ix, None]
    c = colour[y0 - iy:y1 - iy, x0 - ix:x1 - ix]
    region = frame[y0:y1, x0:x1]
    region *= 1.0 - a
    region += c


def _box(figure: Figure, t: float, size: Size) -> Box:
    w, h = size
    cx, feet, tall = figure.place(t, size)
    ph, pw = _astronaut()[1].shape
    half = tall * pw / ph * figure.thinning(t) / 2
    return ((cx - half) / w, (feet - tall) / h, (cx + half) / w, feet / h)


# -- the scenes --------------------------------------------------------------------------------

def walkers(size: Size = SIZE, fps: float = FPS, seconds: float = 10.0,
            figures: Sequence[Figure] = (), seed: int = 0, noise: float = NOISE,
            background: np.ndarray | None = None) -> Clip:
    """`figures` in the room (or over `background`, H x W x 3 uint8 at `size`), later ones
    in front, `seconds` long at `fps`, sensor noise σ `noise` grey levels. Start figures off
    the frame (x < 0 or > 1) to have them walk in: the first frames are the empty room."""
    base = (room(size) if background is None else background).astype(np.float32)
    if base.shape != (size[1], size[0], 3):
        raise ValueError(f"background {base.shape} is not {size[0]}x{size[1]} RGB")
    people = tuple(figures)

    def render(i: int) -> np.ndarray:
        frame = base.copy()
        for f in people:
            _paste(frame, f, i / fps)
        return _noisy(frame, noise, seed, i)

    def boxes(i: int) -> list[Box]:
        return [_box(f, i / fps, size) for f in people]

    return Clip(render, round(seconds * fps), fps, size, boxes)


def empty_room(size: Size = SIZE, fps: float = FPS, seconds: float = 10.0, seed: int = 0,
               noise: float = NOISE) -> Clip:
    """The room with nobody in it, sensor noise only."""
    return walkers(size, fps, seconds, (), seed, noise)


def crossing(size: Size = SIZE, fps: float = FPS, seconds: float = 8.0, height: float = 0.4,
             speed: float = 0.6, seed: int = 0, noise: float = NOISE) -> Clip:
    """Two figures `height` tall walking towards each other at `speed` body heights/s from
    off either side, passing (the one from the right in front) at the frame's centre at
    `seconds` / 2 and walking on. Figure 0 comes from the left, figure 1 from the right."""
    w, h = size
    reach = speed * height * h * seconds / 2 / w  # how far each walks by the meeting
    return walkers(size, fps, seconds, [
        Figure(height, 0.5 - reach, 0.9, speed),
        Figure(height, 0.5 + reach, 0.9, -speed, mirror=True),
    ], seed, noise)


def still_photo(size: Size = SIZE, fps: float = FPS, seconds: float = 20.0, seed: int = 0,
                noise: float = NOISE) -> Clip:
    """The astronaut photo itself held still: a person near the camera filling the frame
    (scaled to cover it, the crop at the top so her head stays in), sensor noise only."""
    from skimage import data

    return held(_cover(data.astronaut(), size, top=0.0), fps, seconds, seed, noise)


def held(frame: np.ndarray, fps: float = FPS, seconds: float = 10.0, seed: int = 0,
         noise: float = NOISE) -> Clip:
    """`frame` (H x W x 3 uint8) held for `seconds`, fresh sensor noise on each frame: a
    still of a scene, as a camera delivers it."""
    base = frame.astype(np.float32)
    h, w = frame.shape[:2]
    return Clip(lambda i: _noisy(base, noise, seed, i), round(seconds * fps), fps, (w, h))


CORNERS = {"top-left": (0.0, 0.0), "top-right": (1.0, 0.0),
           "bottom-left": (0.0, 1.0), "bottom-right": (1.0, 1.0)}


def inset(frames: Sequence[np.ndarray], scale: float, background: np.ndarray,
          corner: str = "bottom-right", seed: int = 1, noise: float = NOISE) -> Clip:
    """`frames` shrunk by `scale` per side (area-averaged) and placed in `corner` of
    `background` (H x W x 3 uint8, the size of the result; `room(size)` or a still of the
    clip), with fresh sensor noise σ `noise` over the whole frame: the same scene seen
    from farther away. A `Clip` input keeps its `fps` and its figures' boxes."""
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"scale {scale} is not in (0, 1]")
    if corner not in CORNERS:
        raise ValueError(f"corner {corner!r} is not one of {', '.join(CORNERS)}")
    h, w = background.shape[:2]
    sh, sw = frames[0].shape[:2]
    iw, ih = max(1, round(sw * scale)), max(1, round(sh * scale))
    if iw > w or ih > h:
        raise ValueError(f"the clip at {scale} ({iw}x{ih}) does not fit in {w}x{h}")
    fx, fy = CORNERS[corner]
    x0, y0 = round(fx * (w - iw)), round(fy * (h - ih))
    base = background.astype(np.float32)
    fps = frames.fps if isinstance(frames, Clip) else FPS

    def render(i: int) -> np.ndarray:
        frame = base.copy()
        frame[y0:y0 + ih, x0:x0 + iw] = cv2.resize(frames[i], (iw, ih),
                                                   interpolation=cv2.INTER_AREA)
        return _noisy(frame, noise, seed, i)

    def boxes(i: int) -> list[Box]:
        inner = frames.boxes(i) if isinstance(frames, Clip) else []
        return [((x0 + left * iw) / w, (y0 + top * ih) / h,
                 (x0 + right * iw) / w, (y0 + bottom * ih) / h)
                for left, top, right, bottom in inner]

    return Clip(render, len(frames), fps, (w, h), boxes)
