"""The automatic gain (installation/perception/gain.py): bounded, a floor under which
nothing is motion, and a busier room learned faster than it is forgotten. Simulated
clock: steps of `DT` s."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from installation.perception import PerceptionConfig
from installation.perception.gain import RISE, AutoGain, above_floor

DT = 1 / 15  # s, the analysis rate


def feed(gain: AutoGain, motion: float, seconds: float) -> list[float]:
    """Energy for `motion` (body heights/s, floor out) held `seconds`."""
    return [gain.update(motion, DT) for _ in range(round(seconds / DT))]


def test_the_floor() -> None:
    floor = 0.05
    assert above_floor(0.0, floor) == 0.0
    assert above_floor(floor, floor) == 0.0
    assert above_floor(-1.0, floor) == 0.0
    assert above_floor(1.5 * floor, floor) == pytest.approx(0.75 * floor)  # ramping in
    assert above_floor(2 * floor, floor) == pytest.approx(2 * floor)  # in full from twice
    assert above_floor(0.8, floor) == 0.8
    assert above_floor(0.3, 0.0) == 0.3
    # Continuous: no jump anywhere.
    values = [above_floor(i * 0.001, floor) for i in range(200)]
    assert max(b - a for a, b in itertools.pairwise(values)) < 0.005


def test_jitter_below_the_floor_is_no_energy_whatever_the_gain() -> None:
    cfg = PerceptionConfig()
    gain = AutoGain(cfg)
    # A quiet room: barely anyone moves for an hour, the gain rises to its bound.
    feed(gain, 2.1 * cfg.noise_floor, 3600.0)
    assert gain.gain == pytest.approx(cfg.typical_energy / cfg.typical_motion
                                      * cfg.gain_range[1])
    for jitter in (0.0, 0.5 * cfg.noise_floor, cfg.noise_floor):
        assert gain.update(above_floor(jitter, cfg.noise_floor), DT) == 0.0


@pytest.mark.parametrize("motion", [0.01, 100.0])
def test_the_gain_stays_within_its_range(motion: float) -> None:
    cfg = PerceptionConfig()
    gain = AutoGain(cfg)
    start = gain.gain
    low, high = cfg.gain_range
    for _ in range(20):
        feed(gain, motion, 600.0)
        assert start * low - 1e-9 <= gain.gain <= start * high + 1e-9
    assert gain.gain == pytest.approx(start * (high if motion < 1 else low))
    assert 0.0 <= gain.update(motion, DT) <= 1.0


def test_nobody_moving_changes_nothing() -> None:
    cfg = PerceptionConfig()
    gain = AutoGain(cfg)
    before = gain.gain
    assert feed(gain, 0.0, 3600.0) == [0.0] * round(3600.0 / DT)
    assert gain.gain == before


def test_a_busier_room_is_learned_faster_than_it_is_forgotten() -> None:
    cfg = PerceptionConfig()
    quiet, busy = cfg.typical_motion, 2 * cfg.typical_motion

    def half_way(start: float, to: float) -> float:
        gain = AutoGain(cfg)
        feed(gain, start, 10 * cfg.gain_learn_s)  # settled on `start`
        t = 0.0
        while abs(gain.level - start) < abs(to - start) / 2:
            gain.update(to, DT)
            t += DT
        return t

    up, down = half_way(quiet, busy), half_way(busy, quiet)
    print(f"\nhalf way to a room twice as busy in {up:.1f} s, back in {down:.1f} s")
    assert down / up == pytest.approx(RISE, rel=0.1)
    assert up == pytest.approx(cfg.gain_learn_s / RISE * 0.693, rel=0.1)  # minutes, not s


def test_the_usual_motion_reads_the_typical_energy() -> None:
    cfg = PerceptionConfig()
    gain = AutoGain(cfg)
    energy = feed(gain, 0.8, 3 * cfg.gain_learn_s)[-1]
    assert energy == pytest.approx(cfg.typical_energy, rel=0.02)


@pytest.mark.parametrize("bad", [(0.0, 4.0), (0.25, 0.0), (-1.0, 4.0), (4.0, 0.25), (2.0, 4.0)])
def test_a_gain_range_that_would_break_the_stage_is_refused(bad: tuple[float, float]) -> None:
    # Reviewed: (0, 4) divided by zero on the first motion, (4, 0.25) pinned the gain.
    with pytest.raises(ValidationError, match="low <= 1 <= high"):
        PerceptionConfig(gain_range=bad)
