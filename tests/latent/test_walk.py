"""The latent walk: deterministic, continuous, frame-rate independent, and it answers motion.

Tolerances (stated once, used below):
- 15 fps vs 60 fps over the same 10 s of smoothly varying signals: end points within
  FPS_ANGLE = 0.05 rad (cosine similarity > 0.998) and speed traces within FPS_SPEED =
  0.03 rad/s (the speed spans 0.08 .. 0.88 rad/s); with no signals, within 1e-6 rad.
- z stays on the sphere of radius sqrt(dim) within 1e-4 relative (float32 hand-out).
- Every update moves z by at most max_step (+ BOUND_TOL = 1e-6 rad: z is handed out as
  float32, whose rounding alone moves it by ~1e-7 rad).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pytest

from installation.latent import LatentWalk, WalkConfig, WalkInput, WalkState
from installation.latent.noise import orthonormal_axes
from installation.latent.sphere import angle

FPS_ANGLE = 0.05  # rad
FPS_SPEED = 0.03  # rad/s
BOUND_TOL = 1e-6  # rad
REST = WalkInput()


def unit(s: WalkState) -> np.ndarray:
    z = s.z.astype(np.float64)
    return z / np.linalg.norm(z)


def moving(t: float) -> WalkInput:
    """Smoothly varying signals, as a visitor walking about would give (a function of t, s)."""
    return WalkInput(
        energy=0.5 + 0.5 * math.sin(1.3 * t),
        centroid=(0.5 + 0.4 * math.sin(0.7 * t), 0.5 + 0.3 * math.cos(0.5 * t)),
        direction=(math.cos(t), math.sin(t)),
        coherence=0.8,
        presence=min(1.0, t / 3.0),
    )


def run(
    walk: LatentWalk, dts: list[float], signals: Callable[[float], WalkInput] | None = None
) -> list[WalkState]:
    """Step `walk` through `dts`, with `signals(t)` at each frame's end time (REST if None)."""
    out, t = [], 0.0
    for dt in dts:
        t += dt
        sig = REST if signals is None else signals(t)
        out.append(walk.step(dt, sig))
    return out


def steps(states: list[WalkState]) -> np.ndarray:
    u = [unit(s) for s in states]
    return np.array([angle(a, b) for a, b in pairwise(u)])


# -- determinism ---------------------------------------------------------------------------


def test_same_seed_and_signals_give_identical_z() -> None:
    rng = np.random.default_rng(5)
    dts = list(rng.uniform(1 / 90, 1 / 10, 200))
    sigs = [
        WalkInput(float(e), (float(x), float(y)), (1.0, 0.0), float(c), float(p))
        for e, x, y, c, p in rng.uniform(0, 1, (200, 5))
    ]
    runs = []
    for _ in range(2):
        walk = LatentWalk(WalkConfig(seed=11, labels=8))
        runs.append([walk.step(dt, s) for dt, s in zip(dts, sigs, strict=True)])
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a.z, b.z)
        assert a.labels is not None and b.labels is not None
        assert np.array_equal(a.labels, b.labels)
    other = LatentWalk(WalkConfig(seed=12, labels=8))
    last = [other.step(dt, s) for dt, s in zip(dts, sigs, strict=True)][-1]
    assert angle(unit(last), unit(runs[0][-1])) > 0.5  # unrelated latents are ~pi/2 apart


def test_state_is_a_copy() -> None:
    walk = LatentWalk(WalkConfig())
    s = walk.step(1 / 60, REST)
    s.z[:] = 0.0
    assert np.linalg.norm(walk.state.z) > 9.0


# -- continuity and the idle drift -----------------------------------------------------------


def test_idle_drift_never_stops_and_stays_on_the_sphere() -> None:
    cfg = WalkConfig(seed=3)
    states = run(LatentWalk(cfg), [1 / 60] * (30 * 60))
    d = steps(states)
    assert d.min() > 0.5 * cfg.idle_speed / 60
    norms = np.array([np.linalg.norm(s.z.astype(np.float64)) for s in states])
    assert np.abs(norms / math.sqrt(cfg.dim) - 1.0).max() < 1e-4
    assert all(s.speed == pytest.approx(cfg.idle_speed) for s in states)
    # Smooth: the direction of travel turns a little per frame, never abruptly.
    z = np.array([unit(s) for s in states])
    v = np.diff(z, axis=0)
    cos_turn = np.sum(v[1:] * v[:-1], axis=1) / (
        np.linalg.norm(v[1:], axis=1) * np.linalg.norm(v[:-1], axis=1)
    )
    assert cos_turn.min() > math.cos(0.1)
    assert angle(z[0], z[-1]) > 0.5  # and it goes somewhere


@pytest.mark.parametrize("dt", [1 / 240, 1 / 120, 1 / 60, 1 / 30])
def test_step_is_proportional_to_dt(dt: float) -> None:
    cfg = WalkConfig(seed=1)
    for energy in (0.0, 1.0):
        walk, sig = LatentWalk(cfg), WalkInput(energy=energy)
        for _ in range(120):  # settle: 2 s is 13 time constants
            walk.step(1 / 60, sig)
        before = unit(walk.state)
        after = unit(walk.step(dt, sig))
        rate = cfg.idle_speed + cfg.motion_speed * energy
        assert angle(before, after) / dt == pytest.approx(rate, rel=2e-3)


def test_every_update_is_bounded_even_with_wild_signals_and_stalls() -> None:
    cfg = WalkConfig(seed=2, max_step=0.1)
    walk = LatentWalk(cfg)
    rng = np.random.default_rng(0)
    prev = unit(walk.state)
    for k in range(400):
        dt = float(rng.choice([1 / 60, 1 / 15, 0.5, 5.0])) if k % 7 else 1 / 60
        e, x, y, c, p = (float(v) for v in rng.uniform(0, 1, 5))
        s = walk.step(dt, WalkInput(e, (x, y), (1.0, 0.0) if c > 0.5 else (0.0, -1.0), c, p))
        now = unit(s)
        assert angle(prev, now) <= cfg.max_step + BOUND_TOL
        prev = now


def test_huge_dt_gives_a_bounded_step_then_the_walk_goes_on() -> None:
    cfg = WalkConfig(seed=4)
    for energy in (0.0, 1.0):
        walk = LatentWalk(cfg)
        run(walk, [1 / 60] * 30)
        before = unit(walk.state)
        t0 = walk.state.t
        after = walk.step(5.0, WalkInput(energy=energy))
        assert angle(before, unit(after)) <= cfg.max_step + BOUND_TOL
        assert after.t - t0 < 5.0  # the stall paused the walk's clock
        nxt = walk.step(1 / 60, WalkInput(energy=energy))
        assert angle(unit(after), unit(nxt)) < 2 * (cfg.idle_speed + cfg.motion_speed) / 60 + 0.01
    for bad in (0.0, -1.0, float("nan"), 1e12):
        walk = LatentWalk(cfg)
        before = unit(walk.state)
        assert angle(before, unit(walk.step(bad, REST))) <= cfg.max_step + BOUND_TOL


def test_nan_signals_do_not_reach_z() -> None:
    walk = LatentWalk(WalkConfig())
    nan = float("nan")
    s = walk.step(1 / 60, WalkInput(nan, (nan, nan), (nan, nan), nan, nan))
    assert np.isfinite(s.z).all() and math.isfinite(s.speed) and math.isfinite(s.intensity)


# -- frame-rate independence -----------------------------------------------------------------


def test_15_and_60_fps_give_the_same_walk() -> None:
    cfg = WalkConfig(seed=9, labels=8)
    slow = run(LatentWalk(cfg), [1 / 15] * 150, moving)
    fast = run(LatentWalk(cfg), [1 / 60] * 600, moving)
    assert slow[-1].t == pytest.approx(10.0) and fast[-1].t == pytest.approx(10.0)
    end = angle(unit(slow[-1]), unit(fast[-1]))
    assert end < FPS_ANGLE
    assert float(unit(slow[-1]) @ unit(fast[-1])) > 0.998
    # Speed and intensity traces agree at the 15 fps frame times (every 4th 60 fps frame).
    for s, f in zip(slow, fast[3::4], strict=True):
        assert s.t == pytest.approx(f.t)
        assert abs(s.speed - f.speed) < FPS_SPEED
        assert abs(s.intensity - f.intensity) < 0.03
    assert slow[-1].labels is not None and fast[-1].labels is not None
    assert np.abs(slow[-1].labels - fast[-1].labels).max() < 0.05


def test_idle_walk_is_the_same_at_any_frame_rate() -> None:
    cfg = WalkConfig(seed=9)
    ends = [run(LatentWalk(cfg), [1 / fps] * (10 * fps))[-1] for fps in (15, 30, 60)]
    for other in ends[1:]:
        assert angle(unit(ends[0]), unit(other)) < 1e-6


def test_irregular_frame_times_follow_the_same_walk() -> None:
    cfg = WalkConfig(seed=9)
    rng = np.random.default_rng(1)
    dts = list(rng.uniform(1 / 90, 1 / 20, 2000))
    dts = dts[: int(np.searchsorted(np.cumsum(dts), 10.0))]
    dts.append(10.0 - sum(dts))
    ragged = run(LatentWalk(cfg), dts, moving)[-1]
    steady = run(LatentWalk(cfg), [1 / 60] * 600, moving)[-1]
    assert ragged.t == pytest.approx(10.0)
    assert angle(unit(ragged), unit(steady)) < FPS_ANGLE


# -- responses -------------------------------------------------------------------------------


def test_energy_raises_speed_within_about_tau_without_overshoot() -> None:
    cfg = WalkConfig(response_tau_s=0.15)
    walk = LatentWalk(cfg)
    run(walk, [1 / 60] * 60)
    full = WalkInput(energy=1.0)
    trace = [walk.step(1 / 60, full).speed for _ in range(60)]
    frac = [(s - cfg.idle_speed) / cfg.motion_speed for s in trace]
    assert frac[8] == pytest.approx(1 - math.exp(-1), abs=0.02)  # at t = tau = 9 frames
    assert frac[11] > 0.63  # within 0.2 s (12 frames)
    assert all(b >= a for a, b in pairwise(frac))  # no jitter
    assert max(frac) <= 1.0
    # And the walk really moves faster: the last frame's step against an idle frame's.
    assert trace[-1] > 5 * cfg.idle_speed


def test_centroid_leans_z_along_its_axis_and_back() -> None:
    cfg = WalkConfig(seed=6)  # default mapping: centroid_x → axis 0, offset, gain 1 rad
    axis = orthonormal_axes(cfg.seed, cfg.dim, cfg.axes)[:, 0]
    still, visited = LatentWalk(cfg), LatentWalk(cfg)
    run(still, [1 / 60] * 60)
    run(visited, [1 / 60] * 60)
    p0 = float(unit(visited.state) @ axis)
    right = WalkInput(centroid=(1.0, 0.5), presence=1.0)
    a = run(still, [1 / 60] * 60)[-1]
    b = run(visited, [1 / 60] * 60, lambda t: right)[-1]
    assert float(unit(b) @ axis) > float(unit(a) @ axis) + 0.3  # ≈ sin(0.5 rad)
    assert float(unit(b) @ axis) > p0 + 0.3
    # Back at the centre, it leans back onto the walk it would have taken anyway.
    a = run(still, [1 / 60] * 180)[-1]
    b = run(visited, [1 / 60] * 180)[-1]
    assert angle(unit(a), unit(b)) < 1e-3


def test_direction_carries_z_along_its_axis() -> None:
    cfg = WalkConfig(seed=6)  # default mapping: direction_x → axis 2, velocity, 0.4 rad/s
    axis = orthonormal_axes(cfg.seed, cfg.dim, cfg.axes)[:, 2]
    still, pushed = LatentWalk(cfg), LatentWalk(cfg)
    push = WalkInput(energy=0.0, direction=(1.0, 0.0), coherence=1.0)
    a = run(still, [1 / 60] * 180)[-1]
    b = run(pushed, [1 / 60] * 180, lambda t: push)[-1]
    assert float(unit(b) @ axis) > float(unit(a) @ axis) + 0.5  # ≈ 3 s × 0.4 rad/s, bent


def test_presence_sets_intensity() -> None:
    cfg = WalkConfig()
    walk = LatentWalk(cfg)
    assert walk.state.intensity == pytest.approx(cfg.intensity.idle)
    s = run(walk, [1 / 60] * 120, lambda t: WalkInput(presence=1.0))[-1]
    assert s.intensity == pytest.approx(cfg.intensity.full, abs=1e-3)
    s = run(walk, [1 / 60] * 120)[-1]
    assert s.intensity == pytest.approx(cfg.intensity.idle, abs=1e-3)


# -- labels ----------------------------------------------------------------------------------


def test_labels_sum_to_one_and_crossfade_continuously() -> None:
    cfg = WalkConfig(labels=8, label_hold_s=0.5, label_fade_s=0.5, label_energy_rate=1.0)
    states = run(LatentWalk(cfg), [1 / 60] * (20 * 60), lambda t: WalkInput(energy=t / 20))
    labels = np.array([s.labels for s in states])
    assert labels.shape == (len(states), 8) and labels.dtype == np.float32
    assert np.abs(labels.sum(axis=1) - 1.0).max() < 1e-5
    assert labels.min() >= 0.0
    # Smoothstep's steepest slope is 1.5 / fade_s, the label clock runs at most 2× (energy 1).
    worst = 1.5 / cfg.label_fade_s * 2.0 / 60
    assert np.abs(np.diff(labels, axis=0)).max() <= worst * 1.01
    held = labels.argmax(axis=1)[labels.max(axis=1) > 0.999]
    changes = held[np.flatnonzero(np.diff(held)) + 1]
    assert len(set(held.tolist())) == 8  # every eye colour is visited
    assert len(changes) > 10


def test_no_labels_for_unconditional_generators() -> None:
    assert LatentWalk(WalkConfig(labels=0)).step(1 / 60, REST).labels is None


# -- reseed ----------------------------------------------------------------------------------


def test_reseed_glides_to_the_new_walk() -> None:
    cfg = WalkConfig(seed=1, labels=8, reseed_glide_s=2.0)
    walk = LatentWalk(cfg)
    run(walk, [1 / 60] * 60)
    walk.reseed(77)
    assert walk.seed == 77
    glide = run(walk, [1 / 60] * 240)
    d = steps(glide)
    # Continuous: about pi/2 over 2 s with a smoothstep peaks near 1.2 rad/s (0.02 rad/frame).
    assert d.max() < 0.03
    assert all(abs(float(s.labels.sum()) - 1.0) < 1e-5 for s in glide if s.labels is not None)
    # After the glide it *is* the new seed's walk (same time since its start, no signals).
    fresh = run(LatentWalk(WalkConfig(seed=77, labels=8, reseed_glide_s=2.0)), [1 / 60] * 240)
    assert angle(unit(glide[-1]), unit(fresh[-1])) < 1e-6
