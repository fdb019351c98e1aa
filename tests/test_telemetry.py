"""The fps meter: the rate over the last window, and a reported rate that decays when
frames stop (so /health does not say 25 fps of a frozen screen)."""

from __future__ import annotations

import itertools

import pytest

from installation.telemetry import FpsMeter


def test_fps_at_is_the_rate_while_frames_come_and_falls_to_zero_when_they_stop() -> None:
    meter = FpsMeter(window_s=2.0)
    for i in range(101):
        meter.tick(10.0 + i * 0.04)  # 25 frames/s for 4 s
    last = 14.0
    assert meter.fps == pytest.approx(25.0)
    assert meter.fps_at(last) == pytest.approx(25.0)
    assert meter.fps_at(last + 0.03) == pytest.approx(25.0)  # the next frame is not late yet
    falling = [meter.fps_at(last + d) for d in (0.5, 1.0, 1.5, 1.9)]
    assert all(a > b for a, b in itertools.pairwise(falling))
    assert falling[0] < 25.0 and falling[-1] < 2.0
    assert meter.fps_at(last + 2.5) == 0.0
    assert meter.fps == pytest.approx(25.0)  # the window's own rate does not know the time


def test_fps_at_with_too_few_frames_is_zero() -> None:
    meter = FpsMeter()
    assert meter.fps_at(5.0) == 0.0
    meter.tick(5.0)
    assert meter.fps_at(5.0) == 0.0
    meter.tick(5.1)
    assert meter.fps_at(5.1) == pytest.approx(10.0)


def test_a_slow_scene_has_a_rate_and_it_still_falls_when_frames_stop() -> None:
    meter = FpsMeter(window_s=2.0)
    for i in range(5):  # the live dream on a small CPU: a frame every 2.9 s
        meter.tick(2.9 * i)
    assert abs(meter.fps_at(2.9 * 4 + 0.1) - 1 / 2.9) < 1e-6
    assert meter.fps_at(2.9 * 4 + 30.0) == 0.0  # and nothing for 30 s: nothing
