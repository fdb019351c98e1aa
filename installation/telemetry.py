"""Per-frame telemetry: one JSON line per shown frame (`--stats PATH`), and an fps meter."""

from __future__ import annotations

import contextlib
import json
import logging
from collections import deque
from pathlib import Path
from typing import IO, Any

from installation.errors import UserError

log = logging.getLogger(__name__)


class FpsMeter:
    """Frames per second over a sliding window of `window_s` seconds of present times.

    `fps_at(now)` is what to report: it decays to 0 when frames stop (no frame in the last
    window: 0); `fps` is the rate over the last window of frames, however long ago.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, t: float) -> float:
        self._times.append(t)
        # The window's frames, and always the last two: a scene slower than one frame a
        # window still has a rate.
        while len(self._times) > 2 and t - self._times[0] > self.window_s:
            self._times.popleft()
        return self.fps

    @property
    def fps(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def fps_at(self, now: float) -> float:
        """Frames per second at monotonic `now` (s), over the frames of the last `window_s`
        s before it (or of three frame intervals, for a scene slower than that): the same as
        `fps` while frames come (the next one not yet a frame interval late); falling once
        they stop, and 0 when none was shown in that time."""
        if len(self._times) < 2:
            return 0.0
        # Over the window, or three of the last frame intervals when frames are slower.
        horizon = max(self.window_s, 3.0 * (self._times[-1] - self._times[-2]))
        inside = [t for t in self._times if 0.0 <= now - t <= horizon]
        if len(inside) < 2:
            return 0.0
        n = len(inside) - 1
        interval = (inside[-1] - inside[0]) / n  # the usual time between frames, s
        end = max(inside[-1], now - interval)  # a frame not yet one interval late is not late
        return n / (end - inside[0]) if end > inside[0] else 0.0


class StatsWriter:
    """Writes one JSON object per line; flushed each line so a crash loses nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._f: IO[str] | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._f = path.open("w", encoding="utf-8")
            except OSError as exc:
                raise UserError(f"--stats {path}: cannot write ({exc.strerror})") from None

    def write(self, record: dict[str, Any]) -> None:
        """One line; a full disk or a lost drive stops the stats (said once), not the show."""
        if self._f is None:
            return
        try:
            self._f.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._f.flush()
        except OSError as exc:
            log.error("--stats %s: cannot write (%s): stats stopped, the show goes on",
                      self.path, exc.strerror or exc)
            with contextlib.suppress(OSError):
                self._f.close()
            self._f = None

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
