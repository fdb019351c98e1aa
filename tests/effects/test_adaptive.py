"""Adaptive resolution: steps down under load, back up with hysteresis, never below the
floor; the rungs keep the aspect and the networks' multiple. Simulated time and a cost
model (effect ms proportional to pixels), so nothing here depends on the machine's speed."""

from __future__ import annotations

import itertools

import pytest

from installation.effects.adaptive import AdaptiveConfig, ResolutionController, ladder

FULL = (320, 180)
FPS = 30.0


def run(ctl: ResolutionController, ms_per_kpx: float, seconds: float, t0: float = 0.0,
        noise: float = 0.0) -> float:
    """Feed frames at the effect's own pace (one frame per effect time) for `seconds`;
    the time ends where it stopped. Cost: `ms_per_kpx` ms per thousand pixels, ± noise."""
    t, i = t0, 0
    while t < t0 + seconds:
        w, h = ctl.size
        ms = ms_per_kpx * w * h / 1000.0 * (1.0 + noise * (1 if i % 2 else -1))
        ctl.observe(ms, t)
        t += max(ms, 1000.0 / 240) / 1000.0
        i += 1
    return t


def test_rungs_keep_aspect_and_multiple_of_four() -> None:
    rungs = ladder(FULL, 0.5, 6)
    assert rungs[0] == FULL and rungs[-1] == (160, 92)  # 90 rounds to a multiple: 92
    for w, h in rungs:
        assert w % 4 == 0 and h % 4 == 0
        assert w / h == pytest.approx(16 / 9, rel=0.05)
    assert all(a[0] > b[0] for a, b in itertools.pairwise(rungs))


def test_off_when_no_target() -> None:
    ctl = ResolutionController(AdaptiveConfig(), FULL)
    run(ctl, ms_per_kpx=10.0, seconds=30)
    assert ctl.size == FULL and ctl.changes == 0


def test_steps_down_under_load_until_it_holds_the_target() -> None:
    ctl = ResolutionController(AdaptiveConfig(target_fps=FPS), FULL)
    # 57.6 kpx at 1 ms/kpx = 57.6 ms: about half the pixels fit in the 33 ms budget.
    run(ctl, ms_per_kpx=1.0, seconds=60)
    w, h = ctl.size
    assert w * h / 1000.0 * 1.0 <= 1000.0 / FPS * 1.15  # within the tolerance band
    assert ctl.level > 0 and ctl.changes == ctl.level  # only ever down: no see-saw


def test_never_below_the_floor() -> None:
    cfg = AdaptiveConfig(target_fps=FPS, min_scale=0.5)
    ctl = ResolutionController(cfg, FULL)
    run(ctl, ms_per_kpx=50.0, seconds=120)  # hopeless: even the floor is far too slow
    assert ctl.size == ctl.rungs[-1] and ctl.size[0] >= FULL[0] * 0.5


def test_back_up_when_the_load_goes_and_only_after_a_while() -> None:
    cfg = AdaptiveConfig(target_fps=FPS, up_after_s=6.0)
    ctl = ResolutionController(cfg, FULL)
    t = run(ctl, ms_per_kpx=1.0, seconds=60)
    low = ctl.level
    assert low > 0
    t = run(ctl, ms_per_kpx=0.2, seconds=5.0, t0=t)  # the load lifts: not yet
    assert ctl.level == low
    run(ctl, ms_per_kpx=0.2, seconds=60, t0=t)
    assert ctl.level == 0 and ctl.size == FULL


def test_hysteresis_holds_in_the_dead_band() -> None:
    """A cost that sits just under budget at one rung, with noise, must not flap: the next
    rung up would be over budget, and this one is within tolerance."""
    cfg = AdaptiveConfig(target_fps=FPS)
    ctl = ResolutionController(cfg, FULL)
    ctl.level = 2
    w, h = ctl.size
    per_kpx = (1000.0 / FPS) * 0.95 / (w * h / 1000.0)  # 95 % of the budget here
    run(ctl, ms_per_kpx=per_kpx, seconds=300, noise=0.1)
    assert ctl.level == 2 and ctl.changes == 0


def test_out_of_memory_holds_the_size_down_for_a_while() -> None:
    cfg = AdaptiveConfig(target_fps=FPS, up_after_s=1.0)
    ctl = ResolutionController(cfg, FULL)
    assert ctl.force_down(t=0.0) == ctl.rungs[1]
    run(ctl, ms_per_kpx=0.01, seconds=60)  # plenty of room: still no way back up
    assert ctl.level == 1
    run(ctl, ms_per_kpx=0.01, seconds=30, t0=600.0)  # the hold is over
    assert ctl.level == 0
    ctl.level = len(ctl.rungs) - 1
    assert ctl.force_down(t=0.0) is None  # at the floor: nothing smaller
