"""Sinks: a slow one drops pictures instead of holding the loop, a failing one is stopped
and reported, the last picture is written at the end, and a recording sink writes a real,
playable file."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from installation.display.recorder import Recorder
from installation.display.sinks import RecorderSink, Shown, ThreadedSink, WindowSink


def shown(i: int, new: bool = True) -> Shown:
    return Shown(np.full((36, 64, 3), i, np.uint8), t=i / 10.0, new=new)


class Gate:
    """A sink that waits at each picture until let through: an encoder slower than the
    show, on cue."""

    name = "gate"
    writes = True

    def __init__(self) -> None:
        self.got: list[int] = []
        self.open = threading.Event()
        self.entered = threading.Event()
        self.closed = False

    def send(self, s: Shown) -> None:
        self.entered.set()
        self.open.wait()
        self.got.append(int(s.picture[0, 0, 0]))

    def close(self) -> None:
        self.closed = True


class Broken:
    name = "broken"
    writes = True

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    def send(self, s: Shown) -> None:
        self.calls += 1
        raise OSError(28, "No space left on device")

    def close(self) -> None:
        self.closed = True


def test_a_slow_sink_drops_pictures_and_never_holds_the_loop() -> None:
    gate = Gate()
    sink = ThreadedSink(gate)
    sink.offer(shown(1))
    assert gate.entered.wait(10)  # busy with picture 1
    for i in range(2, 12):  # offered while it is busy: none of these calls waits
        sink.offer(shown(i))
    sink.offer(shown(99, new=False))  # a repeat of the same picture: not for this sink
    gate.open.set()
    sink.close()  # writes what was offered last, then closes
    assert gate.got == [1, 11] and gate.closed
    st = sink.state()
    assert (st.sent, st.dropped, st.failed) == (2, 9, None)


def test_a_failing_sink_is_stopped_and_reported(until: Callable[..., bool]) -> None:
    broken = Broken()
    sink = ThreadedSink(broken)
    sink.offer(shown(1))
    assert until(lambda: sink.failed is not None, 10)
    assert "No space left" in (sink.failed or "") and broken.closed
    sink.offer(shown(2))  # ignored from now on
    sink.close()
    assert broken.calls == 1 and sink.state().failed == sink.failed


def test_a_recording_sink_writes_a_playable_file(tmp_path: Path) -> None:
    path = tmp_path / "sink.mp4"
    sink = ThreadedSink(RecorderSink(Recorder(path, (64, 36), fps=10.0)))
    for i in range(10):
        sink.offer(shown(i * 20))
    sink.close()
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 1
    # The last picture offered is the last one in the file (fitted, converted to yuv420p).
    last = frames[-1].to_ndarray(format="rgb24")
    assert abs(float(last.mean()) - 180.0) < 3.0


def test_a_sink_still_writing_at_the_end_is_left_open(caplog: pytest.LogCaptureFixture) -> None:
    """Closing a file under a write that is still going could break it for good: a sink
    stuck in `send` at the end is left as it is, and said."""
    gate = Gate()
    sink = ThreadedSink(gate)
    sink.offer(shown(1))
    assert gate.entered.wait(10)
    try:
        with caplog.at_level(logging.ERROR, logger="installation"):
            sink.close(wait_s=0.1)
        assert not gate.closed
        assert any("still writing at the end" in r.getMessage() for r in caplog.records)
    finally:
        gate.open.set()


class BrokenWindow:
    """A window whose display went away: every present fails as pygame does."""

    mirror = False
    fit = "fill"
    closed = False

    def present(self, picture: np.ndarray, hud: object = None, overlay: object = None) -> None:
        raise RuntimeError("video system not initialized")

    def close(self) -> None:
        self.closed = True


def test_a_failing_window_is_reported_and_left() -> None:
    window = BrokenWindow()
    sink = WindowSink(window)  # type: ignore[arg-type]
    sink.offer(shown(1))
    sink.offer(shown(2))  # not tried again
    st = sink.state()
    assert st.failed == "RuntimeError: video system not initialized" and st.sent == 0
    assert not st.writes  # a window keeps no pictures
    sink.close()
    assert window.closed


def test_drops_are_said_at_most_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    """A sink that cannot keep up says how many pictures it dropped: at the first drop, then
    at most once a minute of show time while it goes on dropping."""
    gate = Gate()
    sink = ThreadedSink(gate)
    try:
        with caplog.at_level(logging.WARNING, logger="installation"):
            sink.offer(Shown(np.zeros((4, 4, 3), np.uint8), t=0.0))
            assert gate.entered.wait(10)  # busy: every later picture but the newest drops
            for i in range(1, 260):  # 259 pictures, one every 0.5 s of show time
                sink.offer(Shown(np.zeros((4, 4, 3), np.uint8), t=i * 0.5))
        said = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
        # Drops at t = 1.0 (said), then said again at 61.0 and 121.0 (a minute apart each).
        assert said == [
            "gate: 1 pictures dropped so far (1 in all): it cannot keep up with the show",
            "gate: 120 pictures dropped in the last 60 s (121 in all): it cannot keep up "
            "with the show",
            "gate: 120 pictures dropped in the last 60 s (241 in all): it cannot keep up "
            "with the show"]
    finally:
        gate.open.set()
        sink.close()
