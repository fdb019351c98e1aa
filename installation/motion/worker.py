"""The motion thread: newest camera frame in, newest `MotionSignals` out (newest wins)."""

from __future__ import annotations

import dataclasses
import logging
import threading

from installation.capture.base import Source
from installation.motion.analyzer import MotionAnalyzer, MotionSignals
from installation.motion.config import MotionConfig
from installation.slots import Frame
from installation.stage import StageThread

log = logging.getLogger(__name__)


class MotionWorker(StageThread[Frame, MotionSignals]):
    """Analyses the newest frame of `source` in its own thread; results go to `slot`.

    Each published `MotionSignals` carries the frame's capture time (`t`), sequence number
    (`seq`) and the analysis time (`ms`). A frame the analyser skips (sooner than
    `min_interval_s` after the last one) publishes nothing. A frame on which analysis raises
    is dropped, the analyser restarts from rest with the next one, and the error is logged
    (rate-limited); the thread carries on. After `failure_limit` failures in a row `failing`
    is True, for the HUD, until a frame succeeds. A restart by the watchdog gives the fresh
    thread a fresh analyser (the abandoned call may still be inside the old one).
    """

    stage = "motion"
    on_error = "frame dropped"
    on_failing = "motion signals rest until it recovers"

    def __init__(self, source: Source, cfg: MotionConfig | None = None) -> None:
        super().__init__(source.slot, log)
        self.source = source
        self.cfg = cfg
        self.analyzer = MotionAnalyzer(cfg)
        self._thread_state = threading.local()  # `last`: the analyser's last answer

    @property
    def label(self) -> str:
        return "motion analysis"

    def latest(self) -> MotionSignals:
        """The newest signals, or signals at rest before the first analysed frame."""
        return self.slot.peek()[1] or MotionSignals()

    def _work(self, frame: Frame) -> MotionSignals | None:
        signals = self.analyzer.update(frame.image, frame.t_capture)
        if signals is getattr(self._thread_state, "last", None):
            return None  # skipped: too soon after the last analysed frame
        self._thread_state.last = signals  # per thread: an abandoned one keeps its own
        return dataclasses.replace(signals, seq=frame.seq)

    def _failed(self, frame: Frame, exc: Exception) -> None:
        self.analyzer.reset()  # its state may be half-updated: start again from rest

    def _restarted(self) -> None:
        self.analyzer = MotionAnalyzer(self.cfg)
