"""The perception thread: newest camera frame in, newest `Visitors` out (newest wins).

It runs at its own rate (`rate_hz`): frames sooner than that after the last analysed one
are skipped, so a slow analysis never slows the picture; it only makes the visitors older.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from installation.capture.base import Source
from installation.models import ModelStore
from installation.perception.analyzer import Perceiver
from installation.perception.config import PerceptionConfig
from installation.perception.networks import Networks, load_networks
from installation.perception.visitors import Visitors
from installation.slots import Frame
from installation.stage import StageThread

log = logging.getLogger(__name__)


class PerceptionWorker(StageThread[Frame, Visitors]):
    """Finds the visitors in the newest frame of `source` in its own thread; results go to
    `slot`. The person and face networks load here (each thread its own: the TFLite
    interpreter is not thread-safe); without them, background subtraction alone, said once.
    A frame on which analysis raises is dropped and the analysis starts again from the
    next (a new room); a restart by the watchdog gives the fresh thread a fresh analyser
    and fresh networks.
    """

    stage = "perception"
    on_error = "frame dropped"
    on_failing = "the visitors rest until it recovers"

    def __init__(self, source: Source, cfg: PerceptionConfig, store: ModelStore) -> None:
        super().__init__(source.slot, log)
        self.source = source
        self.cfg = cfg
        self.store = store
        self.networks = load_networks(cfg, store)
        if self.networks.missing:
            log.warning("perception: %s; background subtraction alone", self.networks.missing)
        self.perceiver = self._perceiver(self.networks)
        self._fresh = False  # a restart: the new thread loads fresh networks first
        self._thread_state = threading.local()  # `last`: the analyser's last answer

    @property
    def label(self) -> str:
        return "perception"

    def _perceiver(self, networks: Networks) -> Perceiver:
        return Perceiver(self.cfg, networks.segmenter, networks.faces, networks.missing)

    def latest(self) -> Visitors:
        """The newest visitors, or nobody before the first analysed frame."""
        return self.slot.peek()[1] or Visitors(segmenter=self.networks.missing)

    def _work(self, frame: Frame) -> Visitors | None:
        if self._fresh:  # in the new thread, not the loop's: loading takes a moment
            self._fresh = False
            self.networks = load_networks(self.cfg, self.store)
            self.perceiver = self._perceiver(self.networks)
        visitors = self.perceiver.update(frame.image, frame.t_capture)
        if visitors is getattr(self._thread_state, "last", None):
            return None  # skipped: too soon after the last analysed frame
        self._thread_state.last = visitors  # per thread: an abandoned one keeps its own
        return dataclasses.replace(visitors, seq=frame.seq)

    def _failed(self, frame: Frame, exc: Exception) -> None:
        self.perceiver.reset()  # its state may be half-updated: start again

    def _restarted(self) -> None:
        # The hung call may still be inside the old networks: fresh ones, loaded by the
        # new thread before its first frame (on the loop's thread, loading them would
        # hitch the picture).
        self._fresh = True
