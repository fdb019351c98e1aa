"""Frames and the newest-wins hand-off between threads.

Between stages sits a slot that holds only the newest item, never a queue: an installation
shows *now*, not a backlog. Every frame carries its capture time (monotonic seconds) and a
sequence number, and results keep the stamp of the frame they came from, so end-to-end
latency is measured, not guessed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Frame:
    """A picture on its way through the pipeline.

    `image` is HxWx3 uint8 RGB. `t_capture` is `time.monotonic()` when the source got it.
    `stages` maps a stage name to the milliseconds it spent on this frame. `raw`: the
    camera's picture as captured, on a frame a stage derived (None on the captured frame
    itself: `image` is it); for layers that show the visitors unpainted.
    """

    image: np.ndarray
    seq: int
    t_capture: float
    stages: dict[str, float] = field(default_factory=dict)
    raw: np.ndarray | None = None

    @property
    def captured(self) -> np.ndarray:
        """The camera's picture as captured."""
        return self.image if self.raw is None else self.raw

    def derive(self, image: np.ndarray, **stage_ms: float) -> Frame:
        """A result of this frame: same stamp and sequence, more stage timings (ms), the
        captured picture kept (a reference, not a copy)."""
        return replace(self, image=image, raw=self.captured,
                       stages={**self.stages, **stage_ms})


class LatestSlot(Generic[T]):
    """Holds the newest item only. `put` replaces; `get` waits for something newer.

    Readers keep the version number they last saw and ask for a newer one, so several
    readers can share a slot and none of them ever sees an item twice unless it asks to.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._version = 0
        self._closed = False
        self.dropped = 0  # items replaced before anyone took them
        self._taken = True

    def put(self, item: T) -> None:
        with self._cond:
            if not self._taken:
                self.dropped += 1
            self._item = item
            self._version += 1
            self._taken = False
            self._cond.notify_all()

    def get(self, after: int = 0, timeout: float | None = None) -> tuple[int, T | None]:
        """The newest item with a version above `after`, waiting up to `timeout` seconds.

        Returns (version, item); the item is None on timeout or when the slot is closed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._version <= after and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return after, None
                self._cond.wait(remaining)
            if self._version <= after:
                return after, None
            self._taken = True
            return self._version, self._item

    def peek(self) -> tuple[int, T | None]:
        """The newest item without waiting (None before the first put)."""
        with self._cond:
            return self._version, self._item

    @property
    def closed(self) -> bool:
        """Whether `close` was called: a get then waits no more (the writer has stopped)."""
        return self._closed

    def close(self) -> None:
        """Wake every waiting reader; later gets return at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
