"""Steady emit rates for sources that are not clocked by hardware (files, stills, replays)."""

from __future__ import annotations

import time


class Pacer:
    """Says how long to sleep until the next frame is due at `fps` frames/s.

    After a stall (more than one period late) the schedule restarts from now, so a source
    never emits a burst of catch-up frames.
    """

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.period = 1.0 / fps  # s
        self.due = time.monotonic()  # when the next frame is due, monotonic s

    def delay(self) -> float:
        """Seconds until the next frame is due (never negative); books that frame."""
        now = time.monotonic()
        if now - self.due > self.period:
            self.due = now
        wait = max(0.0, self.due - now)
        self.due += self.period
        return wait
