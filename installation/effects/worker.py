"""The effect thread: newest camera frame in, repainted frame out, through newest-wins slots."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from installation.capture.base import Source
from installation.effects.adaptive import ResolutionController
from installation.effects.base import Effect
from installation.slots import Frame
from installation.stage import StageThread

log = logging.getLogger(__name__)

OOM_WORDS = ("out of memory", "failed to allocate memory")  # CUDA / ONNX Runtime messages
# Abandoned calls still running, over all effects, at which every effect passes frames
# through until some return: this many times the watchdog's `restarts_before_bypass`.
ABANDONED_FACTOR = 2


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or any(w in str(exc).lower() for w in OOM_WORDS)


class EffectWorker(StageThread[Frame, Frame]):
    """Runs the current effect on the newest frame of `source`, in its own thread.

    The effect can be swapped from the main thread at any time (`swap`); the swap takes
    hold at the next frame. A frame on which the effect raises passes through unpainted
    (at the camera's size; the display scales it) and the error is logged; after
    `failure_limit` failures in a row, or when the watchdog gives up on a stalled call,
    the effect is bypassed (frames pass through) until it is swapped. With a
    `ResolutionController`, each frame's effect time steers the processing size, applied
    here between frames (adaptive resolution). What follows a call (its time steering the
    size, an out-of-memory step down, the log) belongs to the effect that ran, even when a
    swap came during the call.
    """

    stage = "effect"
    bypassable = True
    on_error = "frame passes through"

    def __init__(self, source: Source, effect: Effect,
                 controller: ResolutionController | None = None) -> None:
        super().__init__(source.slot, log)
        self.source = source
        # The effect and its controller, swapped together in one assignment.
        self._stage: tuple[Effect, ResolutionController | None] = (effect, controller)
        # The pair the current generation's running call took (None between calls): the
        # hooks after the call and the log use it, not `_stage`, which a swap may change.
        self._running: tuple[Effect, ResolutionController | None] | None = None
        self._passed_held = False  # `_work` passed its frame through (a held effect)
        # Watchdog restarts of each effect seen (by id), kept across scene changes, so a
        # scene that keeps hanging is bypassed sooner each visit; `restarts` is the current
        # effect's.
        self._stalls: dict[int, int] = {}
        # Out of memory at the smallest size: the show moves the effects to the CPU.
        self.out_of_memory = False

    @property
    def label(self) -> str:
        """Names the effect of the running call, or else the current one."""
        effect, _ = self._running or self._stage
        return f"effect {effect.name}"

    @property
    def effect(self) -> Effect:
        return self._stage[0]

    @property
    def controller(self) -> ResolutionController | None:
        return self._stage[1]

    def swap(self, effect: Effect, controller: ResolutionController | None = None) -> None:
        """Run `effect` (with `controller`) from the next frame on; clears the bypass."""
        with self._lock:
            self._stalls[id(self.effect)] = self.restarts
            self._stage = (effect, controller)
            self.restarts = self._stalls.get(id(effect), 0)
        self.resume()

    # -- the work (the stage thread) ------------------------------------------------------------

    def _work(self, frame: Frame) -> Frame:
        t0 = time.monotonic()
        with self._lock:
            if self._held():  # swapped to a held effect since this frame was taken
                self._passed_held = True  # no effect ran: nothing for the hooks to see
                return self._pass(frame)
            effect, controller = pair = self._stage
            if threading.current_thread() is self._thread:  # not one given up on
                self._running = pair
        size = getattr(effect, "size", None)
        if controller is not None and size is not None and size != controller.size:
            effect.resize(controller.size)  # a new controller (scene, config edit)
        image = effect(frame.image, t0)
        return self._result(frame, image, t0)

    def _pass(self, frame: Frame) -> Frame:
        return self._result(frame, frame.image, time.monotonic())

    def _failed(self, frame: Frame, exc: Exception) -> Frame:
        t0 = self.busy_since or time.monotonic()  # when the failed call began
        if is_out_of_memory(exc):
            self._out_of_memory(t0)
        return self._result(frame, frame.image, t0)

    def _fail(self, frame: Frame, exc: Exception) -> Frame | None:
        try:  # `_failed` and the log (`label`) name the effect that ran
            return super()._fail(frame, exc)
        finally:
            self._running = None

    def _restarted(self) -> None:
        self._running = None  # the abandoned call's: no hook of this generation runs for it
        self._passed_held = False

    def _call_tag(self) -> object:
        """The effect of the call a restart abandons (so `_held` can count them)."""
        return (self._running or self._stage)[0]

    def _held(self) -> bool:
        """Frames pass through unpainted, for now, while the current effect already has
        `restarts_before_bypass` abandoned calls running (it hung that often and they have
        not returned), or all effects together twice that: each holds its inference
        buffers, so new calls wait until some return. This bounds the abandoned calls (and
        their memory) whatever scene changes and live edits do; a call that is only slow
        returns, and the effect is painted again."""
        most = self.most_abandoned
        if most is None or not self._abandoned:
            return False
        effect = self._stage[0]
        mine = sum(1 for e in self._abandoned.values() if e is effect)
        return mine >= most or len(self._abandoned) >= ABANDONED_FACTOR * most

    @property
    def held(self) -> bool:
        """Whether frames pass through now because too many abandoned calls still run."""
        with self._lock:
            return self._held()

    def _ran(self) -> tuple[Effect, ResolutionController | None]:
        """The effect and controller of the call that just ended (the hooks run in its
        thread, under the lock, in its generation)."""
        return self._running or self._stage

    def _succeeded(self, frame: Frame, result: Frame | None) -> None:
        effect, controller = self._ran()
        self._running = None
        passed, self._passed_held = self._passed_held, False
        if controller is None or result is None or passed:
            return
        ms = result.stages["effect"]
        size = controller.observe(ms, self.busy_since or time.monotonic())  # at the call's start
        if size is not None:
            effect.resize(size)
            log.info("processing size %dx%d (%.0f%%): effect %.0f ms for a %.0f ms budget",
                     *size, 100 * controller.scale, ms, controller.budget_ms)

    def _result(self, frame: Frame, image: np.ndarray, t0: float) -> Frame:
        """`frame` with `image`, its wait (capture → effect start at `t0`) and effect time,
        ms."""
        return frame.derive(image, wait=(t0 - frame.t_capture) * 1000.0,
                            effect=(time.monotonic() - t0) * 1000.0)

    def _out_of_memory(self, t: float) -> None:
        """One size down (the effect thread's own controller); at the floor, ask the show
        for the CPU."""
        effect, controller = self._ran()
        size = controller.force_down(t) if controller is not None else None
        if size is None:
            self.out_of_memory = True
            return
        effect.resize(size)
        self.streak = 0
        log.error("effect %s ran out of memory: processing size down to %dx%d",
                  effect.name, *size)
