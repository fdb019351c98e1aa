"""The motion thread: newest camera frame in, newest `MotionSignals` out (newest wins)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from installation.capture.base import Source
from installation.motion.analyzer import MotionAnalyzer, MotionSignals
from installation.motion.config import MotionConfig
from installation.slots import LatestSlot

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often an idle worker checks whether it should stop, s
LOG_EVERY_S = 30.0  # the same analysis error is logged at most this often, s
FAILURE_LIMIT = 50  # consecutive failing frames before `failing` is reported


class MotionWorker:
    """Analyses the newest frame of `source` in its own thread; results go to `slot`.

    Each published `MotionSignals` carries the frame's capture time (`t`), sequence number
    (`seq`) and the analysis time (`ms`). A frame the analyser skips (sooner than
    `min_interval_s` after the last one) publishes nothing. A frame on which analysis raises
    is dropped, the analyser restarts from rest with the next one, and the error is logged
    (the same message at most once per `LOG_EVERY_S`); the thread carries on. After
    `FAILURE_LIMIT` failures in a row `failing` is True, for the HUD, until a frame succeeds.
    """

    def __init__(self, source: Source, cfg: MotionConfig | None = None) -> None:
        self.source = source
        self.analyzer = MotionAnalyzer(cfg)
        self.slot: LatestSlot[MotionSignals] = LatestSlot()
        self.errors = 0  # frames on which analysis raised, since start
        self.failing = False
        self._in_a_row = 0
        self._logged: dict[str, float] = {}  # message → when it was last logged (monotonic s)
        self.busy_since: float | None = None  # when the running analysis began (watchdog)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="motion", daemon=True)

    def stalled(self, now: float, limit_s: float) -> bool:
        """Whether one analysis has been running for more than `limit_s` seconds."""
        busy = self.busy_since
        return busy is not None and now - busy > limit_s

    def abandon(self) -> None:
        """Let a stalled thread go (it quits if its call ever returns); nothing is joined."""
        self._stop.set()

    def start(self) -> MotionWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.slot.close()

    def latest(self) -> MotionSignals:
        """The newest signals, or signals at rest before the first analysed frame."""
        return self.slot.peek()[1] or MotionSignals()

    def _run(self) -> None:
        seen = 0
        last: MotionSignals | None = None
        while not self._stop.is_set():
            seen, frame = self.source.read(after=seen, timeout=POLL_S)
            if frame is None:
                continue
            self.busy_since = time.monotonic()
            try:
                signals = self.analyzer.update(frame.image, frame.t_capture)
            except Exception as exc:  # a survivable stage error: drop the frame, carry on
                self._failed(exc)
                continue
            finally:
                self.busy_since = None
            if self._stop.is_set():
                return  # abandoned by the watchdog while analysing
            self._in_a_row = 0
            self.failing = False
            if signals is last:  # skipped: too soon after the last analysed frame
                continue
            last = signals
            self.slot.put(dataclasses.replace(signals, seq=frame.seq))

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        self._in_a_row += 1
        self.analyzer.reset()  # its state may be half-updated: start again from rest
        message = f"{exc.__class__.__name__}: {exc}"
        now = time.monotonic()
        if now - self._logged.get(message, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[message] = now
            if len(self._logged) > 256:  # bound memory over weeks of running
                self._logged = {message: now}
            log.error("motion analysis failed: %s (frame dropped; %d errors so far)",
                      message, self.errors)
        if self._in_a_row >= FAILURE_LIMIT and not self.failing:
            self.failing = True
            log.error("motion analysis keeps failing: motion signals rest until it recovers")
