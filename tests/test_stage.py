"""The stage-thread base: hangs, errors, restart by generation, stop, the rate-limited log.

Nothing here waits on the clock: calls that hang wait on events the test sets, and the
watchdog is handed a `now` past the call's start rather than made to wait for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from installation import stage as stage_module
from installation.logs import RateLimitedLog
from installation.slots import LatestSlot
from installation.stage import StageThread

DEADLINE_S = 15.0  # a hang guard for waits, never a speed requirement
Until = Callable[..., bool]


class Doubler(StageThread[int, int]):
    """Doubles each number. A number in `hang_on` blocks its call until `release` is set;
    a negative one raises; while bypassed, numbers pass through as they are."""

    stage = "doubler"

    def __init__(self, inbox: LatestSlot[int], hang_on: tuple[int, ...] = (),
                 bypassable: bool = False, failure_limit: int = 50) -> None:
        super().__init__(inbox, logging.getLogger("tests.doubler"))
        self.bypassable = bypassable
        self.failure_limit = failure_limit
        self.hang_on = hang_on
        self.release = threading.Event()
        self.started = {n: threading.Event() for n in hang_on}
        self.calls: list[int] = []

    def _work(self, item: int) -> int:
        self.calls.append(item)
        if item in self.hang_on:
            self.started[item].set()
            assert self.release.wait(DEADLINE_S)
        if item < 0:
            raise ValueError(f"negative: {item}")
        return 2 * item

    def _pass(self, item: int) -> int:
        return item


def result(stage: StageThread[int, int], after: int) -> tuple[int, int | None]:
    return stage.slot.get(after, timeout=DEADLINE_S)


def errors_reach(stage: StageThread[int, int], n: int) -> Callable[[], bool]:
    return lambda: stage.errors == n


def hung_on(stage: Doubler, item: int) -> float:
    """When the call on `item` (now hanging) began, monotonic s."""
    assert stage.started[item].wait(DEADLINE_S)
    busy = stage.busy_since
    assert busy is not None
    return busy


def test_items_in_results_out_and_stop_joins() -> None:
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox).start()
    try:
        inbox.put(21)
        version, out = result(stage, 0)
        assert out == 42 and stage.status == "running" and stage.busy_since is None
    finally:
        stage.stop()
    assert stage._thread is not None and not stage._thread.is_alive()
    assert stage.slot.get(after=version) == (version, None)  # closed: returns at once
    assert (stage.errors, stage.published, stage.restarts) == (0, 1, 0)


class CountingSlot(LatestSlot[int]):
    """A slot that counts the gets its readers make (a spinning reader makes many)."""

    def __init__(self) -> None:
        super().__init__()
        self.gets = 0

    def get(self, after: int = 0, timeout: float | None = None) -> tuple[int, int | None]:
        self.gets += 1
        return super().get(after, timeout)


def test_a_closed_inbox_ends_the_thread_without_spinning(until: Until) -> None:
    """The stage before it stopped (its slot, this inbox, closed): the thread finishes,
    rather than polling a slot that answers at once; `stop` still joins it."""
    inbox = CountingSlot()
    stage = Doubler(inbox)
    stage.poll_s = DEADLINE_S  # no idle poll comes round while the test runs
    stage.start()
    try:
        inbox.put(21)
        assert result(stage, 0)[1] == 42
        inbox.close()
        thread = stage._thread
        assert thread is not None
        assert until(lambda: not thread.is_alive())
        assert inbox.gets == 2  # the item, then the close: no spin
        assert stage.errors == 0 and stage.calls == [21]
    finally:
        stage.stop()


def test_a_closed_inbox_still_hands_over_what_it_holds(until: Until) -> None:
    inbox = CountingSlot()
    inbox.put(4)
    inbox.close()  # the last item came just before the stage before it stopped
    stage = Doubler(inbox).start()
    try:
        assert result(stage, 0)[1] == 8
        thread = stage._thread
        assert thread is not None
        assert until(lambda: not thread.is_alive())
        assert inbox.gets == 2 and stage.calls == [4]
    finally:
        stage.stop()


def test_a_hung_call_is_seen_stalled_and_stop_leaves_it_behind(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stage_module, "JOIN_S", 0.01)  # no need to wait for what hangs
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox, hang_on=(1,)).start()
    inbox.put(1)
    busy = hung_on(stage, 1)
    assert stage.stalled(busy + 10.0, 5.0) and not stage.stalled(busy + 1.0, 5.0)
    stage.stop()  # a short join: the call may never return
    thread = stage._thread
    assert thread is not None and thread.is_alive()  # still hung, a daemon left behind
    assert stage.slot.get(after=0) == (0, None)  # but readers are let go
    stage.release.set()
    thread.join(DEADLINE_S)
    assert not thread.is_alive() and stage.published == 0  # its late result dropped


def test_restart_by_generation_drops_the_late_result_and_keeps_the_last_one() -> None:
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox, hang_on=(1,)).start()
    try:
        inbox.put(5)
        seen, out = result(stage, 0)
        assert out == 10
        inbox.put(1)
        busy = hung_on(stage, 1)
        inbox.put(7)  # arrives while the stage hangs: stale by the time it is restarted
        old = stage._thread
        event = stage.watch(busy + 10.0, 5.0, most_restarts=3)
        assert event == "doubler stalled (10.0 s in one call): thread restarted"
        assert stage.restarts == 1 and stage.generation == 1 and stage._thread is not old
        assert stage.busy_since is None and stage.slot.peek() == (seen, 10)  # result kept
        inbox.put(3)  # the fresh thread takes what comes next
        seen, out = result(stage, seen)
        assert out == 6
        stage.release.set()  # the abandoned call returns: its result is dropped, it quits
        assert old is not None
        old.join(DEADLINE_S)
        assert not old.is_alive()
        assert stage.slot.peek() == (seen, 6) and stage.published == 2
        assert stage.calls == [5, 1, 3]  # 7 was skipped, 1 never retried
    finally:
        stage.release.set()
        stage.stop()


def test_watch_restarts_at_most_so_often_then_leaves_the_stage_stalled(until: Until) -> None:
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox, hang_on=(1, 2, 3)).start()
    try:
        events = []
        for item in (1, 2, 3):
            inbox.put(item)
            busy = hung_on(stage, item)
            events.append(stage.watch(busy + 10.0, 5.0, most_restarts=2))
        assert events[0] is not None and events[0].endswith("thread restarted")
        assert events[1] is not None and "for the last time" in events[1]
        assert events[2] is None and stage.restarts == 2  # left stalled
    finally:
        stage.release.set()
        stage.stop()


def test_a_bypassable_stage_is_bypassed_by_its_last_restart(until: Until) -> None:
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox, hang_on=(1, 2, 4), bypassable=True).start()
    try:
        inbox.put(1)
        assert stage.watch(hung_on(stage, 1) + 10.0, 5.0, 2) is not None
        assert not stage.bypassed
        inbox.put(2)
        event = stage.watch(hung_on(stage, 2) + 10.0, 5.0, 2)
        assert event is not None and "bypassed" in event and stage.bypassed
        inbox.put(3)  # passes through, never reaching the work
        _, out = result(stage, 0)
        assert out == 3 and stage.calls == [1, 2]
        # Resumed (an effect swapped back in) and stalling again: bypassed at once.
        stage.resume()
        inbox.put(4)
        event = stage.watch(hung_on(stage, 4) + 10.0, 5.0, 2)
        assert event is not None and "bypassed" in event and stage.restarts == 3
    finally:
        stage.release.set()
        stage.stop()


def test_a_stage_that_raises_every_call_keeps_going_and_reports_failing(
        until: Until, caplog: pytest.LogCaptureFixture) -> None:
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox, failure_limit=3).start()
    try:
        with caplog.at_level(logging.ERROR, logger="tests.doubler"):
            for n in range(1, 5):  # one at a time: each handled before the next comes
                inbox.put(-n)
                assert until(errors_reach(stage, n))
            assert stage.failing and stage.streak == 4 and not stage.bypassed
            assert stage.calls == [-1, -2, -3, -4]  # still trying every item
            assert stage.slot.peek() == (0, None)  # nothing published for a failed item
            inbox.put(4)
            _, out = result(stage, 0)
            assert out == 8 and stage.streak == 0 and not stage.failing
    finally:
        stage.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "tests.doubler"]
    assert lines == [
        "doubler failed: ValueError: negative: -1 (item dropped; 1 errors so far)",
        "doubler failed: ValueError: negative: -2 (item dropped; 2 errors so far)",
        "doubler failed: ValueError: negative: -3 (item dropped; 3 errors so far)",
        "doubler keeps failing (3 in a row): it carries on trying",
        "doubler failed: ValueError: negative: -4 (item dropped; 4 errors so far)",
    ]  # each message differs; the same one again would be left out (see below)


def test_a_bypassable_stage_that_keeps_raising_is_bypassed(
        until: Until, caplog: pytest.LogCaptureFixture) -> None:
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox, bypassable=True, failure_limit=3).start()
    try:
        with caplog.at_level(logging.ERROR, logger="tests.doubler"):
            for n in range(1, 4):
                inbox.put(-1)  # the same error every time
                assert until(errors_reach(stage, n))
            assert stage.bypassed
            inbox.put(-1)
            _, out = result(stage, 0)
            assert out == -1 and stage.errors == 3  # passed through, not called
            stage.resume()
            inbox.put(2)
            _, out = result(stage, 1)
            assert out == 4 and not stage.bypassed
    finally:
        stage.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "tests.doubler"]
    assert lines == [
        "doubler failed: ValueError: negative: -1 (item dropped; 1 errors so far)",
        "doubler keeps failing (3 in a row): bypassed until it is swapped",
    ]  # the repeats left out
    assert stage.rate_limited.left_out == 2


class Counter(StageThread[None, int]):
    """A producer: counts up, one number per `tick` event."""

    stage = "counter"

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__(None, logging.getLogger("tests.counter"))
        self.fail_at = fail_at
        self.tick = threading.Event()

    def _produce(self) -> None:
        n = 0
        while not self._stop.is_set():
            if not self.tick.wait(0.1):
                continue
            self.tick.clear()
            n += 1
            if n == self.fail_at:
                raise RuntimeError("sensor on fire")
            self.emit(n)


def test_a_producer_emits_until_stopped() -> None:
    counter = Counter().start()
    try:
        counter.tick.set()
        seen, n = counter.slot.get(timeout=DEADLINE_S)
        assert n == 1 and counter.busy_since is None  # no call the watchdog could time
        assert counter.watch(1e9, 5.0, 3) is None
        with pytest.raises(RuntimeError, match="not restarted"):
            counter.restart()
    finally:
        counter.stop()
    assert counter._thread is not None and not counter._thread.is_alive()
    assert counter.slot.get(after=seen) == (seen, None)


def test_a_producer_that_raises_says_so_and_fails(caplog: pytest.LogCaptureFixture) -> None:
    counter = Counter(fail_at=2).start()
    try:
        with caplog.at_level(logging.ERROR, logger="tests.counter"):
            counter.tick.set()
            assert counter.slot.get(timeout=DEADLINE_S)[1] == 1
            counter.tick.set()
            assert counter._thread is not None
            counter._thread.join(DEADLINE_S)
        assert counter.status == "failed"
        assert [r.getMessage() for r in caplog.records] == ["counter stopped on an error"]
    finally:
        counter.stop()


def test_rate_limited_log_says_how_many_were_left_out(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    limited = RateLimitedLog(logging.getLogger("tests.limited"), interval_s=10.0,
                             clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="tests.limited"):
        assert limited.warning("a", "bad packet")
        assert not limited.warning("a", "bad packet")
        assert limited.error("b", "other fault")  # another key: its own limit
        now[0] += 5.0
        assert not limited.warning("a", "bad packet")
        now[0] += 5.0  # a full interval after the first line
        assert limited.warning("a", "bad packet again")
        assert limited.warning("b", "other fault")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "bad packet"),
        ("ERROR", "other fault"),
        ("WARNING", "bad packet again (2 more like it left out)"),
        ("WARNING", "other fault"),
    ]
    assert limited.left_out == 2


def test_abandoned_calls_are_counted_until_they_return_and_then_let_go(until: Until) -> None:
    """Each restart mid-call leaves one call behind; when it returns its thread drops what
    it held (the item, its result) and ends, and the count falls back."""
    inbox: LatestSlot[int] = LatestSlot()
    stage = Doubler(inbox, hang_on=(1, 2, 3)).start()
    try:
        for n in (1, 2, 3):
            inbox.put(n)
            assert stage.started[n].wait(DEADLINE_S)
            stage.restart()
            assert stage.abandoned == n
        inbox.put(4)  # the fresh thread works on
        assert result(stage, 0)[1] == 8
        alive = [t for t in threading.enumerate() if t.name == "doubler"]
        assert len(alive) == 4  # three abandoned calls and the current thread
        stage.release.set()
        assert until(lambda: stage.abandoned == 0)
        assert until(lambda: len([t for t in threading.enumerate()
                                  if t.name == "doubler"]) == 1)
        assert stage.slot.peek()[1] == 8  # their late results were dropped
    finally:
        stage.release.set()
        stage.stop()
