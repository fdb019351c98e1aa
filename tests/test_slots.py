"""The newest-wins hand-off between threads: `LatestSlot` and `Frame`."""

from __future__ import annotations

import threading

import numpy as np

from installation.slots import Frame, LatestSlot


def test_get_returns_the_newest_only() -> None:
    slot: LatestSlot[int] = LatestSlot()
    for item in (1, 2, 3):
        slot.put(item)
    version, newest = slot.get(timeout=1)
    assert (version, newest) == (3, 3)
    assert slot.get(after=version, timeout=0.01) == (3, None)  # nothing newer: timeout


def test_get_waits_for_a_put() -> None:
    slot: LatestSlot[str] = LatestSlot()
    waiting = threading.Event()
    got: list[tuple[int, str | None]] = []

    def reader() -> None:
        waiting.set()
        got.append(slot.get(timeout=30))

    thread = threading.Thread(target=reader)
    thread.start()
    assert waiting.wait(10)
    slot.put("hello")
    thread.join(timeout=30)
    assert got == [(1, "hello")]


def test_timeout_returns_none() -> None:
    slot: LatestSlot[int] = LatestSlot()
    assert slot.get(timeout=0.02) == (0, None)
    slot.put(7)
    assert slot.get(after=1, timeout=0.0) == (1, None)


def test_close_wakes_every_waiter() -> None:
    slot: LatestSlot[int] = LatestSlot()
    results: list[tuple[int, int | None]] = []
    readers = [threading.Thread(target=lambda: results.append(slot.get())) for _ in range(3)]
    for r in readers:
        r.start()
    slot.close()
    for r in readers:
        r.join(timeout=30)
        assert not r.is_alive()
    assert results == [(0, None)] * 3
    assert slot.get() == (0, None)  # after close, at once, without a timeout


def test_close_still_hands_over_an_unread_item() -> None:
    slot: LatestSlot[int] = LatestSlot()
    slot.put(5)
    slot.close()
    assert slot.get() == (1, 5)
    assert slot.get(after=1) == (1, None)


def test_closed_says_the_writer_has_stopped() -> None:
    slot: LatestSlot[int] = LatestSlot()
    slot.put(5)
    assert not slot.closed
    slot.close()
    assert slot.closed
    assert slot.get() == (1, 5)  # closed, yet what it holds is still handed over


def test_dropped_counts_items_nobody_took() -> None:
    slot: LatestSlot[int] = LatestSlot()
    slot.put(1)
    slot.put(2)  # 1 was never taken
    assert slot.dropped == 1
    slot.get()
    slot.put(3)  # 2 was taken
    assert slot.dropped == 1
    slot.peek()  # a peek is not a take
    slot.put(4)
    assert slot.dropped == 2
    assert slot.peek() == (4, 4)


def test_several_readers_each_see_each_version_once() -> None:
    slot: LatestSlot[int] = LatestSlot()
    slot.put(10)
    a = slot.get()
    b = slot.get()
    assert a == b == (1, 10)
    assert slot.get(after=a[0], timeout=0.0) == (1, None)


def test_frame_derive_keeps_stamp_and_adds_stage() -> None:
    frame = Frame(np.zeros((2, 2, 3), np.uint8), seq=4, t_capture=12.5)
    out = frame.derive(np.ones((2, 2, 3), np.uint8), style=8.0)
    again = out.derive(out.image, composite=1.5)
    assert (again.seq, again.t_capture) == (4, 12.5)
    assert again.stages == {"style": 8.0, "composite": 1.5}
    assert frame.stages == {}  # the original is untouched


def test_slow_consumer_sees_the_newest_not_a_backlog() -> None:
    """While the consumer is busy with one frame, the producer puts 50 more.

    A queue would then hand it all 50 in turn, each older than the last put; the slot hands
    it the newest one only, and counts the other 49 as dropped.
    """
    slot: LatestSlot[Frame] = LatestSlot()
    busy, release = threading.Event(), threading.Event()
    taken: list[Frame] = []

    def consumer() -> None:
        version = 0
        while True:
            version, frame = slot.get(after=version, timeout=30)
            if frame is None:
                return  # closed, nothing newer
            taken.append(frame)
            if frame.seq == 1:  # the slow stage, busy until the producer is done
                busy.set()
                assert release.wait(30)

    def frame(seq: int) -> Frame:
        return Frame(np.zeros((1, 1, 3), np.uint8), seq, t_capture=float(seq))

    thread = threading.Thread(target=consumer)
    thread.start()
    slot.put(frame(1))
    assert busy.wait(10)
    for seq in range(2, 52):
        slot.put(frame(seq))
    release.set()
    slot.close()  # still hands over the unread newest frame, then ends the consumer
    thread.join(timeout=30)
    assert not thread.is_alive()

    assert [f.seq for f in taken] == [1, 51]  # the newest, never a backlog
    assert taken[-1].t_capture == 51.0  # as fresh as the last put
    assert slot.dropped == 49  # every other frame was replaced, untaken
