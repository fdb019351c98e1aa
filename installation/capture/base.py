"""The source interface: `start()`, `read()`, `stop()`, a thread that keeps the newest frame."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod

import numpy as np

from installation.slots import Frame
from installation.stage import StageThread

log = logging.getLogger(__name__)


class Source(StageThread[None, Frame], ABC):
    """A picture source that captures in its own thread and keeps only the newest frame.

    A producer stage (`StageThread` without an inbox): subclasses implement `_run()`, which
    loops until `self._stop` is set and calls `self._emit(rgb)` for each picture (HxWx3
    uint8 RGB). `status` is a short word or phrase for the HUD and logs ("live",
    "reconnecting", ...; "failed" when `_run` raised).
    """

    stage = "capture"
    kind = "source"

    def __init__(self, name: str) -> None:
        super().__init__(None, log)
        self.name = name
        self.frames = 0  # frames emitted since start
        self.reconnects = 0
        self._seq = 0

    @property
    def label(self) -> str:
        return f"source {self.name}"

    @property
    def thread_name(self) -> str:
        return f"capture-{self.kind}"

    def read(self, after: int = 0, timeout: float | None = None) -> tuple[int, Frame | None]:
        """The newest frame with a slot version above `after` (see `LatestSlot.get`)."""
        return self.slot.get(after, timeout)

    def describe(self) -> str:
        return f"{self.name} ({self.status})"

    def _emit(self, rgb: np.ndarray, t_capture: float | None = None) -> None:
        self._seq += 1
        self.frames += 1
        stamp = time.monotonic() if t_capture is None else t_capture
        self.emit(Frame(rgb, self._seq, stamp))

    def _produce(self) -> None:
        self._run()

    @abstractmethod
    def _run(self) -> None: ...
