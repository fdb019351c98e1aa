"""The clips the walk studies run on: a demo clip (or a frame range of one), a video file,
or a synthetic fixed-camera scene; looped, with sensor noise; a still of each; the shots of
a montage.

    demo:bikes@187:242   frames 187..241 of the bikes clip (one shot: a man walking past
                         a bollard); `--frames 187:242` gives the range to every source
    synthetic:walkers    three people, 0.12 to 0.3 of the frame's height, walking through
                         a room (a wide shot: `people_scenes`)

Frames are the source's own pictures, no wider than `MOST_WIDTH` (a camera's), clean: the
studies add the sensor noise (`noisy`, `still`) or let `people_scenes.inset` add it, so
every picture a study analyses has the noise once. Everything is a `people_scenes.Clip`,
rendered on demand, so a 20 s loop of a 640 px clip costs one pass of it in memory.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from installation.capture import clip_file, decode_frames
from installation.capture.video import file_fps
from installation.errors import UserError
from installation.models import ModelStore
from installation.show.config import Config
from installation.tools.people_scenes import Box, Clip, Figure, crossing, walkers
from installation.tools.ranges import FrameRange, frame_range

MOST_WIDTH = 640  # frames wider than this are shrunk to it, px (a camera's picture)
SYNTHETIC_S = 10.0  # one pass of a synthetic scene, s (then it plays backwards)
RANGE = re.compile(r"\s*-?\d*\s*:\s*-?\d*\s*")  # what follows @ in a source with a range


def _walkers() -> Clip:
    """A wide shot: three people at three depths, 0.12 to 0.3 of the frame's height,
    walking in from either side at 0.7 to 1.0 body heights/s."""
    return walkers(seconds=SYNTHETIC_S, noise=0.0, figures=[
        Figure(0.12, -0.05, 0.58, 1.0),
        Figure(0.2, 1.08, 0.72, -0.8, mirror=True),
        Figure(0.3, -0.12, 0.95, 0.7),
    ])


def _near() -> Clip:
    """Two people near the camera, 0.55 and 0.8 of the frame's height, walking in from
    either side and passing each other mid-way, the taller in front (heads and silhouettes
    large enough to read in a strip of frames)."""
    return walkers(seconds=SYNTHETIC_S, noise=0.0, figures=[
        Figure(0.55, 1.05, 0.8, -0.3, mirror=True),
        Figure(0.8, -0.2, 1.02, 0.2),
    ])


SYNTHETIC: dict[str, Callable[[], Clip]] = {
    "walkers": _walkers,
    "near": _near,
    "crossing": lambda: crossing(seconds=SYNTHETIC_S, noise=0.0),
}


@dataclass(frozen=True)
class StudyClip:
    """One pass of a source: clean frames (H x W x 3 uint8 RGB) at `fps`; `start`: the
    number of its first frame in the file."""

    name: str
    frames: Sequence[np.ndarray]
    fps: float
    start: int = 0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), px."""
        h, w = self.frames[0].shape[:2]
        return w, h


def parse_range(text: str, flag: str = "--frames") -> FrameRange:
    """"START:STOP" (either may be left out) as (start, stop), stop exclusive; UserError
    (one line naming `flag`) unless both are whole numbers ≥ 0 and start < stop."""
    found = frame_range(text)
    if found is None:
        raise UserError(f"{flag} {text!r}: give START:STOP frame numbers, START below STOP, "
                        "e.g. 187:242 (STOP not included)")
    return found


def split_source(spec: str) -> tuple[str, FrameRange | None]:
    """`demo:bikes@187:242` as ("demo:bikes", (187, 242)); a spec without `@RANGE` (or
    whose tail after the last @ is no range, like a file name) as (spec, None)."""
    uri, at, tail = spec.rpartition("@")
    if not at or not RANGE.fullmatch(tail):
        return spec, None
    return uri, parse_range(tail, f"--source {spec}")


def source_list(text: str) -> list[str]:
    """The comma-separated `--source` value as a list; UserError when it names nothing."""
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not specs:
        raise UserError(f"--source {text!r}: name a clip, e.g. demo:bikes or synthetic:walkers")
    return specs


def load_clip(spec: str, cfg: Config, store: ModelStore,
              default_range: FrameRange | None = None) -> StudyClip:
    """The clean frames `spec` names (see the module's docstring), cut to its range (or
    `default_range`). UserError / SourceError (one line) for an unknown or unreadable
    source or a range outside it."""
    uri, own = split_source(spec)
    start, stop = own or default_range or (0, None)
    if uri.startswith("synthetic:"):
        name = uri.partition(":")[2]
        if name not in SYNTHETIC:
            raise UserError(f"--source {spec}: no such synthetic scene; use one of "
                            f"{', '.join('synthetic:' + n for n in SYNTHETIC)}")
        scene = SYNTHETIC[name]()
        frames: Sequence[np.ndarray] = scene
        fps = scene.fps
    else:
        path = clip_file(uri, cfg.source.demo_clip, store)
        fps = file_fps(path)
        h, w = decode_frames(path, 1)[0].shape[:2]
        size = None if w <= MOST_WIDTH else (MOST_WIDTH, round(MOST_WIDTH * h / w))
        frames = decode_frames(path, stop if stop is not None else 1 << 20, size, loop=False)
    if start >= len(frames) - 1 or (stop is not None and stop > len(frames)):
        raise UserError(f"--frames {start}:{'' if stop is None else stop} for {uri}: it has "
                        f"{len(frames)} frames (0..{len(frames) - 1}); give a range of at "
                        "least 2 inside it")
    if start or stop is not None:
        frames = _part(frames, start, len(frames) if stop is None else stop, fps)
    return StudyClip(spec, frames, fps, start)


def _part(frames: Sequence[np.ndarray], start: int, stop: int, fps: float) -> Clip:
    """Frames `start` .. `stop` - 1 (a synthetic scene's figures' boxes kept)."""
    h, w = frames[0].shape[:2]

    def boxes(i: int) -> list[Box]:
        return frames.boxes(start + i) if isinstance(frames, Clip) else []

    return Clip(lambda i: frames[start + i], stop - start, fps, (w, h), boxes)


# -- loops, noise, stills -------------------------------------------------------------------


def pingpong_index(i: int, n: int) -> int:
    """Frame i of a clip of `n` played forwards, backwards, forwards...: no jump at a loop."""
    if n < 2:
        return 0
    period = 2 * n - 2
    k = i % period
    return k if k < n else period - k


def looped(clip: StudyClip, count: int) -> Clip:
    """`count` clean frames of `clip` played ping-pong."""
    frames, n = clip.frames, len(clip.frames)
    return Clip(lambda i: frames[pingpong_index(i, n)], count, clip.fps, clip.size)


def add_noise(frame: np.ndarray, sigma: float, seed: int, i: int) -> np.ndarray:
    """`frame` with Gaussian sensor noise of `sigma` grey levels, the same for (seed, i)."""
    if sigma <= 0:
        return frame
    grain = np.random.default_rng((seed, i)).standard_normal(frame.shape, dtype=np.float32)
    return np.clip(frame + sigma * grain, 0, 255).astype(np.uint8)


def noisy(frames: Clip, sigma: float, seed: int) -> Clip:
    """`frames` with fresh sensor noise on each, as a camera delivers them."""
    return Clip(lambda i: add_noise(frames[i], sigma, seed, i), len(frames), frames.fps,
                frames.size)


def still(frame: np.ndarray, count: int, fps: float, sigma: float, seed: int) -> Clip:
    """`frame` held for `count` frames, fresh sensor noise on each: a still of the place."""
    h, w = frame.shape[:2]
    return Clip(lambda i: add_noise(frame, sigma, seed, i), count, fps, (w, h))


# -- shots ------------------------------------------------------------------------------------

SHOT_WIDTH = 160  # frames are compared at this width, px
CUT_GREY = 30.0  # a mean grey change above this between frames...
CUT_RESPONSE = 0.3  # ...that no camera shift explains (phase correlation below this) is a cut


@dataclass(frozen=True)
class Shot:
    """Frames `start` .. `stop` - 1 of a clip, one camera take. `camera`: the camera's
    median shift, shares of the frame's width per second (0: a fixed camera); `change`:
    the median grey change between frames, grey levels (what moves, camera included)."""

    start: int
    stop: int
    camera: float
    change: float


def shots(frames: Sequence[np.ndarray], fps: float) -> list[Shot]:
    """The clip cut at its cuts, with how much the camera moves in each shot."""
    prev: np.ndarray | None = None
    h, w = frames[0].shape[:2]
    size = (SHOT_WIDTH, max(8, round(SHOT_WIDTH * h / w)))
    bounds = [0]
    shifts: list[list[float]] = [[]]  # camera shifts between frames of each shot, px
    changes: list[list[float]] = [[]]  # grey changes between frames of each shot
    for i, frame in enumerate(frames):
        grey = cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA),
                            cv2.COLOR_RGB2GRAY).astype(np.float32)
        if prev is not None:
            change = float(np.abs(grey - prev).mean())
            (dx, dy), response = cv2.phaseCorrelate(prev, grey)
            if change > CUT_GREY and response < CUT_RESPONSE:
                bounds.append(i)
                shifts.append([])
                changes.append([])
            else:
                shifts[-1].append(math.hypot(dx, dy))
                changes[-1].append(change)
        prev = grey
    bounds.append(len(frames))
    return [Shot(a, b, statistics.median(s) * fps / SHOT_WIDTH if s else 0.0,
                 statistics.median(c) if c else 0.0)
            for a, b, s, c in zip(bounds[:-1], bounds[1:], shifts, changes, strict=True)]
