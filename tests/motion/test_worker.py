"""The motion thread: signals from a replayed clip, errors that never stop it, and a
restart when an analysis hangs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
import pytest
from motion.scenes import Scene

from installation.capture import ReplaySource
from installation.motion import MotionConfig, MotionSignals, MotionWorker

Until = Callable[..., bool]


def moving(scene: Scene, count: int = 40) -> list[np.ndarray]:
    """A visitor crossing the room at 4 camera px per frame (120 px/s at 30 frames/s)."""
    return [scene.picture(10.0 + 4.0 * (i % 60)) for i in range(count)]


def test_worker_publishes_signals_from_a_replayed_clip(scene: Scene, until: Until) -> None:
    source = ReplaySource(moving(scene), fps=30.0)
    worker = MotionWorker(source, MotionConfig())
    rest = worker.latest()  # before the first frame: signals at rest
    assert (rest.energy, rest.centroid, rest.presence) == (0.0, (0.5, 0.5), 0.0)
    source.start()
    worker.start()
    got: list[MotionSignals] = []
    try:

        def energetic() -> bool:
            _, signals = worker.slot.peek()
            if signals is not None and (not got or signals is not got[-1]):
                got.append(signals)
            return signals is not None and signals.energy > 0.1

        assert until(energetic)
    finally:
        worker.stop()
        source.stop()
    last = got[-1]
    assert last.seq > 0 and last.t > 0.0 and last.ms > 0.0
    assert last.mask.shape == (90, 160)  # 320x180 camera at 160 px wide
    assert [s.seq for s in got] == sorted({s.seq for s in got})  # newest only, in order
    assert [s.t for s in got] == sorted(s.t for s in got)
    assert worker.errors == 0 and not worker.failing


def test_analysis_errors_are_logged_once_and_never_stop_the_thread(
    scene: Scene, until: Until, caplog: pytest.LogCaptureFixture
) -> None:
    broken = np.zeros((7,), np.uint8)  # not a picture: the analyser raises on it
    frames = [broken if i % 2 else f for i, f in enumerate(moving(scene, 20))]
    source = ReplaySource(frames, fps=60.0).start()
    worker = MotionWorker(source)
    with caplog.at_level(logging.ERROR, logger="installation.motion.worker"):
        worker.start()
        try:
            assert until(lambda: worker.errors >= 6 and worker.slot.peek()[0] >= 3)
            assert worker._thread is not None and worker._thread.is_alive()
        finally:
            worker.stop()
            source.stop()
    failures = [r for r in caplog.records if "motion analysis failed" in r.getMessage()]
    assert len(failures) == 1  # the same error again and again: logged once per 30 s
    assert not worker._thread.is_alive()


def test_a_stalled_analysis_is_restarted_with_a_fresh_analyser(scene: Scene, until: Until) -> None:
    """The watchdog gives up on an analysis that never returns: a fresh thread with a fresh
    analyser takes the next frame (the stuck call keeps the old one) and the last signals
    stay."""
    source = ReplaySource(moving(scene), fps=30.0).start()
    worker = MotionWorker(source).start()
    hanging, release = threading.Event(), threading.Event()
    try:
        assert until(lambda: worker.slot.peek()[1] is not None)
        stuck = worker.analyzer
        real_update = stuck.update

        def hang(rgb: np.ndarray, t: float) -> MotionSignals:
            hanging.set()
            assert release.wait(30)
            return real_update(rgb, t)

        stuck.update = hang  # type: ignore[method-assign]
        assert hanging.wait(30)
        busy = worker.busy_since
        assert busy is not None
        version = worker.slot.peek()[0]
        event = worker.watch(busy + 10.0, 5.0, most_restarts=1)
        assert event is not None and event.startswith("motion analysis stalled (10.0 s")
        assert worker.analyzer is not stuck
        # The last signals stay (the fresh analyser may have answered already).
        assert worker.slot.peek()[0] >= version and worker.slot.peek()[1] is not None
        assert until(lambda: worker.slot.peek()[0] > version)  # analysing again
        assert worker.restarts == 1 and worker.errors == 0
    finally:
        release.set()
        worker.stop()
        source.stop()
