"""Attract mode starts after `after_s` with nobody there and ends within a second of arrival."""

from __future__ import annotations

import pytest
from motion.scenes import Scene

from installation.motion import MotionAnalyzer
from installation.show.attract import AttractConfig, AttractSchedule

CFG = AttractConfig(after_s=10.0, absent_below=0.2, arrive_above=0.4)


def first_change(schedule: AttractSchedule, presence: float, t0: float, t1: float,
                 fps: float = 30.0) -> float | None:
    """Feed a constant presence from t0 to t1; the time the state first flips, or None."""
    before = schedule.active
    for i in range(round((t1 - t0) * fps)):
        t = t0 + i / fps
        if schedule.update(presence, t) != before:
            return t
    return None


def test_starts_after_the_wait_and_ends_on_arrival() -> None:
    s = AttractSchedule(CFG, t_start=0.0)
    on = first_change(s, 0.0, 0.0, 30.0)
    assert on == pytest.approx(10.0, abs=1 / 30 + 1e-9)  # nobody since the start
    assert s.active and s.absent_for(on) == pytest.approx(on)
    off = first_change(s, 0.5, 30.0, 31.0)
    assert off == 30.0  # at once: the first frame with presence above arrive_above
    assert s.changes == 2


def test_hysteresis_between_the_thresholds() -> None:
    s = AttractSchedule(CFG, t_start=0.0)
    first_change(s, 0.0, 0.0, 11.0)
    assert s.active
    assert first_change(s, 0.3, 11.0, 20.0) is None  # maybe someone: attract stays
    s = AttractSchedule(CFG, t_start=0.0)
    assert first_change(s, 0.3, 0.0, 30.0) is None  # never counts as absent: never starts


def test_someone_passing_restarts_the_wait() -> None:
    s = AttractSchedule(CFG, t_start=0.0)
    assert first_change(s, 0.0, 0.0, 8.0) is None
    s.update(0.9, 8.0)  # a visitor passes
    assert first_change(s, 0.0, 8.1, 30.0) == pytest.approx(18.1, abs=1 / 30 + 1e-9)


def test_disabled_never_starts_but_the_key_forces_it() -> None:
    s = AttractSchedule(CFG.model_copy(update={"enabled": False}), t_start=0.0)
    assert first_change(s, 0.0, 0.0, 60.0) is None
    s.force(True)
    assert s.update(0.0, 61.0) is True  # held until someone arrives or the key again
    assert s.update(0.9, 62.0) is False


def test_with_motion_analysis_a_visitor_ends_attract_within_a_second() -> None:
    """The real analyser on a synthetic room at 30 frames/s (simulated clock): an empty
    room (sensor noise only) starts attract after `after_s`; a visitor walking in ends it
    within a second."""
    scene, analyzer, fps = Scene(seed=3), MotionAnalyzer(), 30.0
    s = AttractSchedule(CFG, t_start=0.0)
    arrive = 14.0
    started = ended = None
    for i in range(round(20.0 * fps)):
        t = i / fps
        x = None if t < arrive else -scene.side + 120.0 * (t - arrive)  # walks in at 120 px/s
        active = s.update(analyzer.update(scene.picture(x), t).presence, t)
        if active and started is None:
            started = t
        if started is not None and not active and ended is None:
            ended = t
    assert started == pytest.approx(CFG.after_s, abs=2 / fps)  # noise never read as someone
    assert ended is not None and arrive < ended <= arrive + 1.0
