"""The stage-thread base: every stage that can be slow runs its work on one of these.

    inbox (LatestSlot, newest wins) ──► thread: _work(item) ──► slot (LatestSlot, newest wins)

One class holds what each stage needs around its work: start/stop/join; newest-wins input
and output; `busy_since` and `stalled` for the watchdog; restart by generation (a hung call
cannot be killed, so a fresh thread takes over and the old one, if its call ever returns,
sees the generation changed, drops its result and quits; the output slot, and so the last
result, is kept); an error count and streak, `failing` and bypass; one rate-limited log.
`watch` is the one watchdog policy. A consumer's thread ends at `stop`, or when its inbox
is closed (the stage before it stopped) and holds nothing newer: it never spins on a closed
inbox. A producer (a capture source) has no inbox: its thread runs `_produce`, a loop of
its own that ends when the stop event is set.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Generic, Self, TypeVar

import numpy as np

from installation.logs import REPEAT_WINDOW_S, RateLimitedLog
from installation.slots import LatestSlot

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")

POLL_S = 0.1  # how often an idle stage checks whether it should stop, s
FAILURE_LIMIT = 50  # failures in a row before a stage is `failing` (and bypassed if it can be)
JOIN_S = 5.0  # longest wait in `stop` for an ordinary call to end, s
HUNG_S = 2.0  # a call running longer than this counts as hung at `stop`, s
HUNG_JOIN_S = 0.5  # `stop`'s wait for a hung call (it may never return), s


def require_finite(values: np.ndarray, what: str) -> np.ndarray:
    """`values` (floats) as they are, or ValueError("`what` is not finite") when any is NaN
    or ±inf: checked before a cast to uint8 (NaN would turn black), so the stage's failure
    path applies (the input passes through, counted and logged). One pass over the array
    (~0.6 ms at 1280x720x3 float32 on one core: a few % of a cast, under 1 % of an effect)."""
    if not np.isfinite(values).all():
        raise ValueError(f"{what} is not finite")
    return values


class StageThread(Generic[In, Out]):
    """A stage in its own thread: the newest item of `inbox` in, `_work`'s result out to `slot`.

    Subclasses implement `_work(item)` (a result, or None to publish nothing) and may
    override the hooks `_failed` (what to publish when `_work` raised), `_pass` (what to
    publish while bypassed), `_succeeded` and `_restarted`. With `inbox` None the stage is
    a producer: it implements `_produce` instead, and `emit`s through `slot` itself.

    A call that raises is counted (`errors`, and `streak` for failures in a row) and logged,
    rate-limited; after `failure_limit` in a row the stage is `failing` and, if
    `bypassable`, `bypassed`: `_pass` replaces `_work` until `resume()`.
    """

    stage = "stage"  # its name in thread names, logs and watchdog reports
    bypassable = False  # True: giving up on the work (errors, stalls) bypasses it
    failure_limit = FAILURE_LIMIT
    on_error = "item dropped"  # what happens to an item whose call raised, for the log
    on_failing = "it carries on trying"  # what `failing` means for this stage, for the log
    poll_s = POLL_S

    def __init__(self, inbox: LatestSlot[In] | None = None,
                 logger: logging.Logger | None = None) -> None:
        self.slot: LatestSlot[Out] = LatestSlot()
        self.status = "starting"  # a short word for the HUD and logs
        self.busy_since: float | None = None  # when the running call began, monotonic s
        self.generation = 0  # bumped by each restart; an older thread quits
        self.restarts = 0  # restarts by the watchdog
        self.errors = 0  # calls that raised, since start
        self.streak = 0  # calls that raised in a row
        self.bypassed = False
        self.published = 0  # results put in `slot`
        self.logger = logger or log
        # The stage's one rate-limited log: a message at most once per window, s.
        self.rate_limited = RateLimitedLog(self.logger, REPEAT_WINDOW_S)
        self._inbox = inbox
        self._lock = threading.Lock()  # generation checks, counters, hand-off
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Threads left behind by a restart in the middle of a call, until that call returns
        # (then the thread drops what it held and ends), each with what `_call_tag` said
        # the call was running: the watchdog's restarts cannot outnumber these for long.
        self._abandoned: dict[threading.Thread, object] = {}
        # The watchdog's `most_restarts`, once it has looked (`watch`): `_held` may use it.
        self.most_abandoned: int | None = None

    @property
    def abandoned(self) -> int:
        """Calls given up on by a restart that are still running (their threads live)."""
        return len(self._abandoned)

    @property
    def label(self) -> str:
        """How log lines name this stage ("effect candy", "gan eyes", ...)."""
        return self.stage

    @property
    def thread_name(self) -> str:
        return self.stage

    @property
    def failing(self) -> bool:
        """Whether the last `failure_limit` calls all raised."""
        return self.streak >= self.failure_limit

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        with self._lock:
            self._thread = self._new_thread(0)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread: set the stop event, close `slot` (readers wake), join it —
        briefly when its call is hung (a call that never returns cannot be waited for)."""
        self._stop.set()
        self.slot.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            hung = self.stalled(time.monotonic(), HUNG_S)
            thread.join(timeout=HUNG_JOIN_S if hung else JOIN_S)

    # -- the watchdog -------------------------------------------------------------------------

    def stalled(self, now: float, limit_s: float) -> bool:
        """Whether one call has been running for more than `limit_s` s at monotonic `now`."""
        busy = self.busy_since
        return busy is not None and now - busy > limit_s

    def restart(self, bypass: bool = False) -> None:
        """Leave the current thread behind (its late result is dropped) and start a fresh
        one, which takes the next item to arrive; `slot` and its last result stay. With
        `bypass`, the work is bypassed from now on (until `resume`). Not for a producer: it
        owns its device, and its loop is not one call the watchdog could see hang."""
        if self._inbox is None:
            raise RuntimeError(f"{self.label}: a producer is not restarted")
        with self._lock:
            if self._stop.is_set():
                return
            self.generation += 1
            self.restarts += 1
            old = self._thread
            if self.busy_since is not None and old is not None and old.is_alive():
                self._abandoned[old] = self._call_tag()
            self.busy_since = None
            self.bypassed = self.bypassed or bypass
            self._restarted()
            # The fresh thread waits for the next item: what is there now came while the
            # stage hung (stale), and may be the very item that hung it.
            self._thread = self._new_thread(self._inbox.peek()[0])
        self._thread.start()

    def watch(self, now: float, stall_s: float, most_restarts: int) -> str | None:
        """The watchdog policy, called by the loop: a call running past `stall_s` s (at
        monotonic `now`) gets a fresh thread, at most `most_restarts` times. The restart
        that reaches the limit gives up on the work: a `bypassable` stage is bypassed (and
        one that stalls again later, after a `resume`, is restarted bypassed at once);
        any other is left stalled from then on, its last result standing. Returns a line
        saying what happened, or None when nothing did. A stage may also hold its work back
        while `most_restarts` abandoned calls still run (`_held`: the effect does)."""
        self.most_abandoned = most_restarts
        busy = self.busy_since
        if busy is None or now - busy <= stall_s:
            return None
        if self.restarts >= most_restarts and not self.bypassable:
            return None
        last = self.restarts + 1 >= most_restarts
        label = self.label  # the stalled call's, before the restart leaves it behind
        self.restart(bypass=last and self.bypassable)
        if not last:
            then = "thread restarted"
        elif self.bypassable:
            then = "thread restarted; bypassed, items pass through until it is swapped"
        else:
            then = "thread restarted for the last time; if it stalls again it stays so"
        return f"{label} stalled ({now - busy:.1f} s in one call): {then}"

    def resume(self) -> None:
        """Clear the bypass and the failure streak (a swapped effect starts afresh)."""
        with self._lock:
            self.bypassed = False
            self.streak = 0

    # -- for subclasses -----------------------------------------------------------------------

    def _work(self, item: In) -> Out | None:
        """The stage's work on one item: the result to publish, or None for nothing."""
        raise NotImplementedError

    def _pass(self, item: In) -> Out | None:
        """What a bypassed stage publishes for `item` (default: nothing)."""
        return None

    def _failed(self, item: In, exc: Exception) -> Out | None:
        """After `_work(item)` raised `exc`: repair state, and say what to publish instead
        (default: nothing). Runs under the lock, only in the current generation, with
        `busy_since` still the call's start."""
        return None

    def _succeeded(self, item: In, result: Out | None) -> None:
        """After `_work(item)` returned; as `_failed`, under the lock, only in the current
        generation."""

    def _restarted(self) -> None:
        """At a restart, before the fresh thread starts (under the lock): leave behind
        what the abandoned call may still be using."""

    def _call_tag(self) -> object:
        """What the running call is running (under the lock, at a restart that abandons
        it): kept with the abandoned thread until its call returns (default: None)."""
        return None

    def _held(self) -> bool:
        """Whether the next item passes (`_pass`) instead of being worked on, for now
        (checked under the lock before each call; default: never)."""
        return False

    def _produce(self) -> None:
        """A producer's loop (no inbox): `emit`s results until the `_stop` event is set."""
        raise NotImplementedError

    def emit(self, result: Out) -> None:
        """Publish `result` to `slot` (a producer's output)."""
        self.slot.put(result)
        self.published += 1

    # -- the thread ---------------------------------------------------------------------------

    def _new_thread(self, seen: int) -> threading.Thread:
        """A thread for the current generation that takes inbox versions above `seen`."""
        return threading.Thread(target=self._main, args=(self.generation, seen),
                                name=self.thread_name, daemon=True)

    def _main(self, generation: int, seen: int) -> None:
        try:
            if self._inbox is None:
                self._produce()
            else:
                self.status = "running"
                self._consume(self._inbox, generation, seen)
        except Exception:  # a producer's error, a bug in a hook: never die silently
            self.logger.exception("%s stopped on an error", self.label)
            self.status = "failed"

    def _consume(self, inbox: LatestSlot[In], generation: int, seen: int) -> None:
        while not self._stop.is_set() and generation == self.generation:
            seen, item = inbox.get(after=seen, timeout=self.poll_s)
            if item is None:
                if inbox.closed and inbox.peek()[0] <= seen:
                    return  # the inbox's writer has stopped: nothing more will come
                continue
            with self._lock:
                if generation != self.generation:
                    return
                bypassed = self.bypassed or self._held()
                self.busy_since = None if bypassed else time.monotonic()
            failed: Exception | None = None
            result: Out | None = None
            try:
                result = self._pass(item) if bypassed else self._work(item)
            except Exception as exc:  # a survivable stage error: counted, logged, go on
                failed = exc
            with self._lock:  # a restart between the call and here leaves this thread out
                if generation != self.generation or self._stop.is_set():
                    # Given up on (a successor runs) or stopped: the result is dropped, and
                    # with the thread ending so is everything the call held.
                    self._abandoned.pop(threading.current_thread(), None)
                    return
                if failed is not None:
                    result = self._fail(item, failed)
                elif not bypassed:
                    self.streak = 0
                    self._succeeded(item, result)
                self.busy_since = None
                if result is not None:
                    self.emit(result)

    def _fail(self, item: In, exc: Exception) -> Out | None:
        """Count, repair (`_failed`), log (rate-limited per message) and, at
        `failure_limit` in a row, report failing and bypass a bypassable stage."""
        self.errors += 1
        self.streak += 1
        result = self._failed(item, exc)
        message = f"{type(exc).__name__}: {exc}"
        self.rate_limited.error(
            f"{self.label}: {message}",
            f"{self.label} failed: {message} ({self.on_error}; {self.errors} errors so far)")
        if self.streak == self.failure_limit:
            self.bypassed = self.bypassed or self.bypassable
            then = "bypassed until it is swapped" if self.bypassable else self.on_failing
            self.rate_limited.error(
                f"{self.label}: failing",
                f"{self.label} keeps failing ({self.streak} in a row): {then}")
        return result
