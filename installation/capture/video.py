"""Video files as sources: played in real time and looped, or pre-decoded and replayed.

`VideoFileSource` stands in for a camera (demo clips, recorded footage). `ReplaySource`
and `decode_frames` feed the benchmark the same pictures on every run, without decoding
cost in the measured loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Sequence
from contextlib import closing
from pathlib import Path

import av
import cv2
import numpy as np

from installation.capture.base import Source
from installation.capture.pacing import Pacer
from installation.errors import SourceError

log = logging.getLogger(__name__)

DEFAULT_FPS = 25.0  # when a file does not state its rate, frames/s


def _open(path: Path) -> tuple[av.container.InputContainer, av.VideoStream]:
    """The container and its first video stream; SourceError (one line) when unusable."""
    try:
        container = av.open(str(path))
    except FileNotFoundError:
        raise SourceError(f"video file {path} not found: check the path in source.uri") from None
    except (av.FFmpegError, OSError) as exc:
        raise SourceError(
            f"video file {path} cannot be opened ({exc.__class__.__name__}): "
            "re-export it as H.264 MP4 or pick another source.uri"
        ) from None
    if not container.streams.video:
        container.close()
        raise SourceError(f"{path} has no video stream: pick a video file for source.uri")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame and slice threads: decoding is not the bottleneck
    return container, stream


def _frames(path: Path) -> Generator[np.ndarray, None, None]:
    """Every picture of one pass through the file, RGB uint8. May raise mid-file."""
    container, stream = _open(path)
    with container:
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb24")


def file_fps(path: Path) -> float:
    """The frame rate the file states (frames/s), DEFAULT_FPS when it states none."""
    container, stream = _open(path)
    with container:
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else DEFAULT_FPS


class VideoFileSource(Source):
    """Decodes a file with PyAV and emits its pictures in real time, looping forever.

    Paced at the file's own rate unless `fps` is given. A decode error mid-file (a
    truncated or damaged file) logs one warning and loops back to the start. A pass that
    yields no picture at all (the file vanished, or is damaged from its start) is retried
    with backoff like a camera: `status` "reconnecting", one warning, a wait of
    `reconnect_min_s` doubling up to `reconnect_max_s` between tries; when pictures come
    again `status` is "playing" and `reconnects` counts it.
    """

    kind = "video"

    def __init__(self, path: Path, name: str | None = None, fps: float | None = None,
                 reconnect_min_s: float = 0.5, reconnect_max_s: float = 10.0) -> None:
        super().__init__(name or path.name)
        self.path = path
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if not 0 < reconnect_min_s <= reconnect_max_s:
            raise ValueError("reconnect times must be 0 < reconnect_min_s <= reconnect_max_s")
        self.fps = fps if fps is not None else file_fps(path)  # frames/s; raises SourceError
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.loops = 0  # completed passes through the file
        self._warned: set[str] = set()

    def _run(self) -> None:
        pacer = Pacer(self.fps)
        backoff = self.reconnect_min_s
        lost_at: float | None = None  # when the file stopped yielding pictures, monotonic s
        while not self._stop.is_set():
            got = 0
            error: Exception | None = None
            try:
                with closing(_frames(self.path)) as frames:
                    for rgb in frames:
                        if self._stop.wait(pacer.delay()):
                            return
                        self._emit(rgb)
                        got += 1
                        if lost_at is not None:  # back after a loss
                            self.reconnects += 1
                            backoff = self.reconnect_min_s
                            log.info("video %s is back after %.1f s (reconnect %d)",
                                     self.path, time.monotonic() - lost_at, self.reconnects)
                            lost_at = None
                        self.status = "playing"
            except Exception as exc:  # SourceError, av.FFmpegError mid-file, the file vanished
                error = exc
            if got > 0:
                if error is not None:
                    self._warn_once(error, got)
                self.loops += 1
                continue
            if lost_at is None:
                lost_at = time.monotonic()
                why = f" ({error.__class__.__name__}: {error})" if error is not None else ""
                log.warning("video %s yields no pictures%s; retrying every %g..%g s",
                            self.path, why, self.reconnect_min_s, self.reconnect_max_s)
            self.status = "reconnecting"
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self.reconnect_max_s)

    def _warn_once(self, exc: Exception, got: int) -> None:
        """One warning per distinct error: the same damaged file fails the same way each loop."""
        message = f"{exc.__class__.__name__}: {exc}"
        if message in self._warned:
            return
        if len(self._warned) >= 64:  # weeks of varied errors: bounded memory
            self._warned.clear()
        self._warned.add(message)
        log.warning("video %s: decoding stopped after %d pictures (%s); looping back",
                    self.path, got, message)


class ReplaySource(Source):
    """Replays pre-decoded RGB pictures at `fps`, each stamped when it is emitted.

    Loops over `frames` forever unless `loop` is False, in which case `status` becomes
    "ended" after the last one. Each emit is a fresh copy, as a camera gives a new buffer.
    """

    kind = "replay"

    def __init__(
        self, frames: Sequence[np.ndarray], fps: float, name: str = "replay", loop: bool = True
    ) -> None:
        if not frames:
            raise ValueError("ReplaySource needs at least one frame")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        super().__init__(name)
        self._pictures = list(frames)
        self.fps = fps
        self.loop = loop

    def _run(self) -> None:
        pacer = Pacer(self.fps)
        self.status = "playing"
        i = 0
        while not self._stop.wait(pacer.delay()):
            if i == len(self._pictures):
                if not self.loop:
                    self.status = "ended"
                    return
                i = 0
            self._emit(self._pictures[i].copy())
            i += 1


def decode_frames(
    path: Path, count: int, size: tuple[int, int] | None = None, loop: bool = True
) -> list[np.ndarray]:
    """The first `count` pictures of a video as RGB uint8, looping a shorter clip.

    `size` is (width, height) in px; pictures are resized with INTER_AREA when given. When
    the clip is shorter than `count`, the list repeats the same arrays (not copies), or,
    with `loop` False, ends with the clip.
    """
    if count <= 0:
        return []
    decoded: list[np.ndarray] = []
    try:
        with closing(_frames(path)) as frames:
            for rgb in frames:
                if size is not None and (rgb.shape[1], rgb.shape[0]) != size:
                    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                decoded.append(rgb)
                if len(decoded) == count:
                    break
    except av.FFmpegError as exc:
        if not decoded:
            raise SourceError(f"video file {path} cannot be decoded ({exc})") from None
        log.warning("video %s: decoding stopped after %d pictures (%s)", path, len(decoded), exc)
    if not decoded:
        raise SourceError(f"video file {path} has no pictures: pick another clip")
    if not loop:
        return decoded
    return [decoded[i % len(decoded)] for i in range(count)]
