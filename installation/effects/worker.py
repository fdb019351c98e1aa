"""The effect thread: newest camera frame in, repainted frame out, through newest-wins slots."""

from __future__ import annotations

import logging
import threading
import time

from installation.capture.base import Source
from installation.effects.adaptive import ResolutionController
from installation.effects.base import Effect
from installation.slots import Frame, LatestSlot

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often an idle worker checks whether it should stop, s
FAILURE_LIMIT = 50  # consecutive failing frames before the effect is bypassed
OOM_WORDS = ("out of memory", "failed to allocate memory")  # CUDA / ONNX Runtime messages


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or any(w in str(exc).lower() for w in OOM_WORDS)


class EffectWorker:
    """Runs the current effect on the newest frame of `source`, in its own thread.

    The effect can be swapped from the main thread at any time (`swap`); the swap takes
    hold at the next frame. A frame on which the effect raises passes through unpainted
    (at the camera's size; the display scales it) and the error is logged; after
    `FAILURE_LIMIT` failures in a row the effect is bypassed until it is swapped. With a
    `ResolutionController`, each frame's effect time steers the processing size, applied
    here between frames (adaptive resolution).
    """

    def __init__(self, source: Source, effect: Effect,
                 controller: ResolutionController | None = None) -> None:
        self.source = source
        # The effect and its controller, swapped together in one assignment.
        self._stage: tuple[Effect, ResolutionController | None] = (effect, controller)
        self.slot: LatestSlot[Frame] = LatestSlot()
        self.errors = 0
        self.bypassed = False
        self._stalls: dict[int, int] = {}  # effect id → watchdog restarts, for good
        self._lock = threading.Lock()  # generation checks, busy_since, hand-off
        self.busy_since: float | None = None  # when the running effect call began, s
        # Out of memory at the smallest size: the show moves the effects to the CPU.
        self.out_of_memory = False
        self._failing = 0
        self._generation = 0  # a restarted thread's predecessor sees it changed and quits
        self._stop = threading.Event()
        self._thread = self._new_thread()

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, args=(self._generation,), name="effect",
                                daemon=True)

    def start(self) -> EffectWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        # A hung call never returns: wait briefly for it, long for an ordinary frame.
        self._thread.join(timeout=0.5 if self.stalled(time.monotonic(), 2.0) else 5.0)
        self.slot.close()

    @property
    def restarts(self) -> int:
        """Times the watchdog restarted the current effect (kept across scene changes, so
        a scene that keeps hanging is bypassed sooner each visit)."""
        return self._stalls.get(id(self.effect), 0)

    def stalled(self, now: float, limit_s: float) -> bool:
        """Whether one effect call has been running for more than `limit_s` seconds."""
        busy = self.busy_since
        return busy is not None and now - busy > limit_s

    def restart(self, bypass: bool) -> None:
        """Leave the stalled thread behind (its late result is dropped) and start another;
        with `bypass`, frames pass through unpainted until the scene changes."""
        with self._lock:
            self._generation += 1
            self._stalls[id(self.effect)] = self.restarts + 1
            self.busy_since = None
            self.bypassed = self.bypassed or bypass
            self._thread = self._new_thread()
        self._thread.start()

    @property
    def effect(self) -> Effect:
        return self._stage[0]

    @property
    def controller(self) -> ResolutionController | None:
        return self._stage[1]

    def swap(self, effect: Effect, controller: ResolutionController | None = None) -> None:
        self._stage = (effect, controller)
        self.bypassed = False
        self._failing = 0

    def _out_of_memory(self, effect: Effect, controller: ResolutionController | None,
                       t: float) -> None:
        """One size down (the effect thread's own controller); at the floor, ask the show
        for the CPU."""
        size = controller.force_down(t) if controller is not None else None
        if size is None:
            self.out_of_memory = True
            return
        effect.resize(size)
        self._failing = 0
        log.error("effect %s ran out of memory: processing size down to %dx%d",
                  effect.name, *size)

    def _run(self, generation: int) -> None:
        seen = 0
        while not self._stop.is_set() and generation == self._generation:
            seen, frame = self.source.read(after=seen, timeout=POLL_S)
            if frame is None:
                continue
            t0 = time.monotonic()
            effect, controller = self._stage
            wait_ms = (t0 - frame.t_capture) * 1000.0
            failed: Exception | None = None
            with self._lock:
                if generation != self._generation:
                    return
                size = getattr(effect, "size", None)
                if controller is not None and size is not None and size != controller.size:
                    effect.resize(controller.size)  # a new controller (scene, config edit)
                self.busy_since = None if self.bypassed else t0
            try:
                image = frame.image if self.bypassed else effect(frame.image, t0)
            except Exception as exc:  # a survivable stage error: the frame passes through
                failed, image = exc, frame.image
            with self._lock:  # a restart between the call and here leaves this thread out
                if generation != self._generation:
                    return  # the watchdog gave up on this call: a successor runs
                self.busy_since = None
                if failed is None:
                    self._failing = 0
                else:
                    self._failed(failed, effect, controller, t0)
                ms = (time.monotonic() - t0) * 1000.0
                self.slot.put(frame.derive(image, wait=wait_ms, effect=ms))
                if controller is not None and not self.bypassed and failed is None:
                    size = controller.observe(ms, t0)
                    if size is not None:
                        effect.resize(size)
                        log.info("processing size %dx%d (%.0f%%): effect %.0f ms for a %.0f "
                                 "ms budget", *size, 100 * controller.scale, ms,
                                 controller.budget_ms)

    def _failed(self, exc: Exception, effect: Effect, controller: ResolutionController | None,
                t: float) -> None:
        self.errors += 1
        self._failing += 1
        if is_out_of_memory(exc):
            self._out_of_memory(effect, controller, t)
        log.error("effect %s failed: %s (frame passes through)", effect.name, exc)
        if self._failing >= FAILURE_LIMIT:
            self.bypassed = True
            log.error("effect %s keeps failing: bypassed until the scene changes", effect.name)
