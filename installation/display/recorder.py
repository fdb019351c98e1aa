"""Write the show to an H.264 MP4 that keeps real time.

The file's clock ticks at `fps`: slot k is shown at k / fps seconds after the first picture.
Each `write(rgb, t)` puts its picture in the slot due at show time `t`, and a picture stays
on screen until the next one's slot (a variable frame rate: a still show or a gap costs no
encoding, and the recorder never owes the encoder a backlog of repeats it could fall behind
on — on 2 busy cores the repeats of a constant-rate file made it lag seconds behind the
show). A picture that arrives before its slot is free only replaces the one held for it.
So a 10 s show is a 10 s file whatever the loop's rate was; `recorded` reads one back.

The file survives any end, clean or not (kill -9, an out-of-memory kill, a full disk): it is
a fragmented MP4 (an empty `moov` up front, then self-contained `moof`+`mdat` fragments),
each fragment written through to the file as soon as the muxer cuts it (`flush_packets`).
Fragments are cut at every keyframe (one a second) and at most `FRAGMENT_S` apart, and the
encoder holds a few pictures (lookahead and B-frames: 4 at 30 frames/s), so an unclean end
loses only the last fraction of a second (0.7 s of a show at 7 pictures/s); a clean end adds
the fragment index, and ordinary players play it either way.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from installation.display.screen import ScreenFitter
from installation.errors import UserError

log = logging.getLogger(__name__)

# Float show times such as 0.1 * 3 land a hair below a frame boundary; 1 µs of slack puts
# them on it.
TIME_SLACK_S = 1e-6

KEYINT_S = 1.0  # a keyframe each second (x264 `g`): a new fragment starts at each
FRAGMENT_S = 0.1  # longest fragment, s: at most this much is written but not yet in the file
LOOKAHEAD_S = 0.1  # x264 rate-control lookahead, s at `fps`: pictures the encoder holds
# Fragmented MP4: a file playable at every fragment boundary; each fragment reaches the
# file as it is cut (FFmpeg otherwise holds up to 32 KB in its own buffer).
MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"


@dataclass(frozen=True)
class Recorded:
    """What a recording holds, read back from the file: `pictures` decoded, the `slots` of
    1/fps s they span (the last one included), and the error that ended decoding early
    (None: it decoded to its end)."""

    pictures: int
    slots: int
    error: str | None = None


def recorded(path: Path, fps: float) -> Recorded:
    """Decode `path` (one of ours: any end, clean or not) to its end or its first error."""
    pictures, error = 0, None
    first: int | None = None  # the first picture's slot (B-frames delay every time stamp)
    last = -1
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                pictures += 1
                if frame.pts is not None and frame.time_base is not None:
                    slot = round(float(frame.pts * frame.time_base) * fps)
                    first = slot if first is None else min(first, slot)
                    last = max(last, slot)
    except (OSError, av.FFmpegError) as exc:
        error = str(exc)
    return Recorded(pictures, 0 if first is None else last - first + 1, error)


class Recorder:
    """H.264 (libx264, yuv420p) MP4 writer at `fps` frames/s, quality `crf` (0..51, lower is
    better), frames of `size` (W, H) px rounded down to even sides (yuv420p needs them).

    Pictures of any size are fitted whole ("fit": black bars, nothing cropped). A gap in the
    pictures longer than `max_gap_s` is shortened to that, so a stalled loop (or a machine
    that slept) cannot make one `write()` encode hours of repeated frames.
    """

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: float,
        crf: int = 23,
        *,
        preset: str = "veryfast",  # x264 speed: real-time next to the networks on few cores
        max_gap_s: float = 10.0,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        w, h = (max(2, int(size[0]) // 2 * 2), max(2, int(size[1]) // 2 * 2))
        self.size = (w, h)
        self.frames_written = 0  # slots of 1/fps the file spans so far (its length)
        self.pictures_written = 0  # pictures encoded (a picture may span several slots)
        self.max_gap_s = max_gap_s
        self._fitter = ScreenFitter(self.size, "fit")
        self._t0: float | None = None  # show time of frame 0, s
        self._held: av.VideoFrame | None = None  # arrived before a slot was free: next
        self._closed = False
        self._whole_bytes = 0  # the file's size after the last write that went through
        self.broken = False  # a write failed (a full disk): the file ends at _whole_bytes

        # The file: folder first, then the container, so either failure names the path.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "wb"):  # FFmpeg opens lazily; fail here, not mid-show
                pass
            self._container = av.open(str(self.path), mode="w", format="mp4", options={
                "movflags": MOVFLAGS,
                "frag_duration": str(round(FRAGMENT_S * 1e6)),  # µs
                "flush_packets": "1",
            })
        except (OSError, av.FFmpegError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UserError(f"cannot write recording {self.path}: {reason}") from None
        try:
            rate = Fraction(self.fps).limit_denominator(1001)  # exact for 30, 29.97, 23.976
            self._stream = self._container.add_stream("libx264", rate=rate)
            self._stream.width, self._stream.height = w, h
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {
                "crf": str(int(crf)), "preset": preset,
                "g": str(max(1, round(self.fps * KEYINT_S))),
                "x264-params": f"rc-lookahead={max(1, round(self.fps * LOOKAHEAD_S))}",
            }
            self._time_base = Fraction(1) / rate
            self._stream.codec_context.time_base = self._time_base
        except (av.FFmpegError, ValueError) as exc:
            self._container.close()
            raise UserError(f"cannot record {self.path} with libx264: {exc}") from None
        log.info("recording %s: %dx%d at %g frames/s, crf %d", self.path, w, h, self.fps, crf)

    def write(self, rgb: np.ndarray, t: float) -> int:
        """Take the picture shown at show time `t` (monotonic s); returns the slots the file
        grew by."""
        if self._closed:
            raise RuntimeError(f"recorder for {self.path} is closed")
        if self._t0 is None:
            self._t0 = t
        # The slot due at t; slots before frames_written are taken.
        due = math.floor((t - self._t0) * self.fps + TIME_SLACK_S)
        if self.frames_written and due - self.frames_written > self.max_gap_s * self.fps:
            skipped = due - self.frames_written - round(self.max_gap_s * self.fps)
            self._t0 += skipped / self.fps
            due -= skipped
            log.warning("recording: %.1f s without pictures; the file keeps only %.1f s of it",
                        (skipped / self.fps) + self.max_gap_s, self.max_gap_s)
        before = self.frames_written
        picture = self._frame(rgb)
        if due < self.frames_written:  # early: it waits for the next free slot
            self._held = picture
            return 0
        # A held picture was on screen from the first free slot until this one's.
        if self._held is not None and due > self.frames_written:
            self._encode(self._held, self.frames_written)
        self._held = None
        self._encode(picture, due)
        return self.frames_written - before

    def _frame(self, rgb: np.ndarray) -> av.VideoFrame:
        w, h = self.size
        # Already at the recording's size (the sink fits it): no second copy.
        fits = rgb.shape == (h, w, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
        fitted = rgb if fits else \
            self._fitter.apply(rgb)
        # Convert to yuv420p once per picture; repeats of it reuse the converted frame.
        return av.VideoFrame.from_ndarray(fitted, format="rgb24").reformat(format="yuv420p")

    def _encode(self, frame: av.VideoFrame, slot: int) -> None:
        frame.pts = slot  # in 1/fps units: it lasts until the next picture's slot
        frame.time_base = self._time_base
        self._mux(self._stream.encode(frame))
        self.frames_written = slot + 1
        self.pictures_written += 1

    def _mux(self, packets: list[av.Packet]) -> None:
        """Hand `packets` to the muxer (a whole fragment reaches the file when it is cut);
        note the size of the file it leaves, all of it whole fragments."""
        try:
            self._container.mux(packets)
        except OSError:  # av.error.OSError too: ENOSPC, EIO
            self.broken = True
            raise
        with contextlib.suppress(OSError):
            self._whole_bytes = os.path.getsize(self.path)

    def _cut_partial(self) -> None:
        """After a failed write: cut the file back to its last whole fragment, so that
        every player reads it to its end (a part-written fragment would end it in an
        error)."""
        with contextlib.suppress(OSError):
            if os.path.getsize(self.path) > self._whole_bytes:
                os.truncate(self.path, self._whole_bytes)

    def close(self) -> None:
        """Flush the encoder and finish the file; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._held = None
        try:
            try:
                if not self.broken:
                    self._mux(self._stream.encode(None))
            finally:
                self._container.close()
        except OSError:
            self.broken = True
            raise
        finally:
            if self.broken:
                self._cut_partial()
                log.warning("recording %s ended early (a write failed): it plays up to its "
                            "last whole fragment, of %d frames (%.1f s) encoded", self.path,
                            self.frames_written, self.frames_written / self.fps)
        if not self.broken:
            log.info("recording %s closed: %.1f s, %d pictures", self.path,
                     self.frames_written / self.fps, self.pictures_written)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
