"""The source interface: `start()`, `read()`, `stop()`, a thread that keeps the newest frame."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from typing import Self

import numpy as np

from installation.slots import Frame, LatestSlot

log = logging.getLogger(__name__)


class Source(ABC):
    """A picture source that captures in its own thread and keeps only the newest frame.

    Subclasses implement `_run()`, which loops until `self._stop` is set and calls
    `self._emit(rgb)` for each picture (HxWx3 uint8 RGB). `status` is a short word or
    phrase for the HUD and logs ("live", "reconnecting", ...).
    """

    kind = "source"

    def __init__(self, name: str) -> None:
        self.name = name
        self.slot: LatestSlot[Frame] = LatestSlot()
        self.status = "starting"
        self.frames = 0  # frames emitted since start
        self.reconnects = 0
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._guarded, name=f"capture-{self.kind}",
                                        daemon=True)
        self._thread.start()
        return self

    def read(self, after: int = 0, timeout: float | None = None) -> tuple[int, Frame | None]:
        """The newest frame with a slot version above `after` (see `LatestSlot.get`)."""
        return self.slot.get(after, timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self.slot.close()

    def describe(self) -> str:
        return f"{self.name} ({self.status})"

    def _emit(self, rgb: np.ndarray, t_capture: float | None = None) -> None:
        self._seq += 1
        self.frames += 1
        stamp = time.monotonic() if t_capture is None else t_capture
        self.slot.put(Frame(rgb, self._seq, stamp))

    def _guarded(self) -> None:
        try:
            self._run()
        except Exception:  # the capture thread must never die silently
            log.exception("source %s stopped on an error", self.name)
            self.status = "failed"

    @abstractmethod
    def _run(self) -> None: ...
