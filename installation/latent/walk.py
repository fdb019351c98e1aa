"""The latent walk: a point on the hypersphere that drifts on its own and answers motion.

The state, all in seconds and per-second rates:

- a *track* (one per seed): a point `u` on the unit sphere and a unit heading `v` tangent
  to it. `u` travels along `v` at the walk speed; `v` turns slowly, pushed by a smooth
  seeded noise of the track's clock (a C2 spline through random control points, see
  `noise.SmoothNoise`), and is parallel-transported as `u` moves. Speed never drops below
  `idle_speed`, so the walk is never still, and nothing in it can jump.
- smoothed responses, each following its target with the time constant `response_tau_s`:
  energy (→ speed = idle_speed + motion_speed × energy), intensity (← presence), and one
  drive per mapping entry (signal × gain). Offset drives lean the picture away from `u`
  along their axes (z = exp_u(lean)), so a visitor on the left holds the walk to one side
  and it leans back when they leave; velocity drives add to `u`'s velocity along their
  axes, so motion to the right carries the walk along an axis for as long as it lasts.

Frame-rate independence: an update of `dt` seconds is split into equal sub-steps of at
most 1/60 s (15 fps → 4 sub-steps on the same grid as 60 fps), the smoothing uses the
exact exponential factor per sub-step, and all randomness is indexed by time. The signals
are held through a frame, so 15 and 60 fps differ only by when each sees a change.

Bounded steps: an update advances the walk only until z has moved `max_step` from where
the last update left it; the rest of a long `dt` (a stall) is skipped and the walk's clock
pauses with it. A final clamp (slerp by at most `max_step`) makes the bound exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from installation.latent.config import WalkConfig
from installation.latent.labels import LabelCycle
from installation.latent.noise import SmoothNoise, orthonormal_axes, start
from installation.latent.sphere import (
    angle,
    exp_map,
    geodesic_step,
    normalized,
    slerp,
    smoothstep,
    tangent,
)

SUBSTEP_S = 1.0 / 60.0  # longest internal step, s; shorter dt are taken in one step
MAX_UPDATE_S = 1.0  # at most this much walk time per update, s (bounds the work after a stall)


@dataclass(frozen=True)
class WalkInput:
    """The motion signals the walk follows (the motion stage's output, copied in).

    energy, presence: 0..1; centroid: where motion is, fractions of the frame (x right,
    y down), centre at rest; direction: unit vector of the mean motion, (0, 0) at rest;
    coherence: how much of the motion goes that way, 0..1 (MotionSignals.magnitude);
    crowd: how many visitors, 0..1 (Visitors.crowd; 0 without perception).
    """

    energy: float = 0.0
    centroid: tuple[float, float] = (0.5, 0.5)
    direction: tuple[float, float] = (0.0, 0.0)
    coherence: float = 0.0
    presence: float = 0.0
    crowd: float = 0.0

    def signal(self, name: str) -> float:
        """A mapping signal by name (see `installation.latent.config`), 0 at rest."""
        values = {
            "centroid_x": self.centroid[0] - 0.5,
            "centroid_y": self.centroid[1] - 0.5,
            "direction_x": self.direction[0] * self.coherence,
            "direction_y": self.direction[1] * self.coherence,
            "energy": self.energy,
            "presence": self.presence,
            "crowd": self.crowd,
        }
        v = values[name]
        return v if math.isfinite(v) else 0.0  # a NaN from upstream must not reach z


@dataclass(frozen=True)
class WalkState:
    """One update's result: what the GAN and the compositor need.

    z: float32[dim], a copy, on the sphere of radius sqrt(dim) (a standard normal's norm);
    labels: float32[labels] >= 0 summing to 1, or None for unconditional generators;
    speed: the drift speed, rad/s (idle_speed .. idle_speed + motion_speed; the mapping's
    leaning and travel come on top); intensity: 0..1; t: the walk's clock, s.
    """

    z: np.ndarray
    labels: np.ndarray | None
    speed: float
    intensity: float
    t: float


class _Track:
    """One seed's walk: its axes, drift noise, labels, point, heading and clocks."""

    def __init__(self, cfg: WalkConfig, seed: int) -> None:
        self.seed = seed
        self.axes = orthonormal_axes(seed, cfg.dim, cfg.axes)  # [dim, axes]
        self.noise = SmoothNoise(seed, cfg.dim, cfg.drift_period_s)
        self.labels = (
            LabelCycle(cfg.labels, seed, cfg.label_hold_s, cfg.label_fade_s)
            if cfg.labels else None
        )
        self.u, self.v = start(seed, cfg.dim)
        self.clock = 0.0  # s since this track began: indexes its noise
        self.label_clock = 0.0  # s, runs faster with energy and with a crowd


class LatentWalk:
    """A deterministic, frame-rate independent walk; `step(dt, signals)` once per frame."""

    def __init__(self, cfg: WalkConfig) -> None:
        self.cfg = cfg
        self._track = _Track(cfg, cfg.seed)
        self._offset_rows = np.array([m.mode == "offset" for m in cfg.mapping], bool)
        self._axis_of = np.array([m.axis for m in cfg.mapping], int)
        # Smoothed responses, starting at rest (as if nobody had been there for a while).
        self._energy = 0.0
        self._crowd = 0.0
        self._intensity = self._intensity_for(0.0)
        self._drive = np.zeros(len(cfg.mapping))  # per mapping entry: rad or rad/s
        self._t = 0.0
        # A reseed glide: from a fixed point (and labels) to the new track, progress 0..1.
        self._glide: tuple[np.ndarray, np.ndarray | None] | None = None
        self._glide_at = 1.0
        self._z = self._target()  # the z last handed out, unit length

    @property
    def seed(self) -> int:
        return self._track.seed

    @property
    def state(self) -> WalkState:
        """The current state, without stepping."""
        return WalkState(
            z=(self._z * math.sqrt(self.cfg.dim)).astype(np.float32),
            labels=None if (lab := self._labels()) is None else lab.astype(np.float32),
            speed=self.cfg.idle_speed + self.cfg.motion_speed * self._energy,
            intensity=self._intensity,
            t=self._t,
        )

    def step(self, dt: float, signals: WalkInput) -> WalkState:
        """Advance by `dt` seconds under `signals`; z moves at most `max_step` radians."""
        dt = min(dt, MAX_UPDATE_S) if dt > 0 else 0.0  # also turns NaN into 0
        n = math.ceil(dt / SUBSTEP_S - 1e-9)
        if n > 0:
            targets = self._targets(signals)
            for _ in range(n):
                self._advance(dt / n, *targets)
                if angle(self._z, self._target()) >= self.cfg.max_step:
                    break  # a stall: skip the rest rather than jump
        # Exact bound: hand out at most max_step of the way (only ever bites after a break).
        target = self._target()
        gap = angle(self._z, target)
        self._z = target if gap <= self.cfg.max_step else slerp(
            self._z, target, self.cfg.max_step / gap
        )
        return self.state

    def reseed(self, seed: int) -> None:
        """Start the walk of `seed`, gliding to it over `reseed_glide_s`.

        The picture leaves from where it is now (z and labels frozen at this moment) and
        slerps, with a smoothstep, to the new walk as it runs from its own start; the old
        walk is dropped. A reseed during a glide leaves from the glide's current point.
        """
        labels = self._labels()
        self._glide = (self._z.copy(), None if labels is None else labels.copy())
        self._glide_at = 0.0
        self._track = _Track(self.cfg, seed)

    # -- internals ---------------------------------------------------------------------------

    def _intensity_for(self, presence: float) -> float:
        c = self.cfg.intensity
        p = min(max(presence, 0.0), 1.0)
        return c.idle + (c.full - c.idle) * p**c.gamma

    def _targets(self, s: WalkInput) -> tuple[float, float, float, np.ndarray]:
        """What energy, intensity, crowd and the drives head for under these signals."""
        energy = s.energy if math.isfinite(s.energy) else 0.0
        presence = s.presence if math.isfinite(s.presence) else 0.0
        crowd = s.signal("crowd")
        drive = np.array([s.signal(m.signal) * m.gain for m in self.cfg.mapping])
        return (min(max(energy, 0.0), 1.0), self._intensity_for(presence),
                min(max(crowd, 0.0), 1.0), drive)

    def _advance(self, h: float, energy: float, intensity: float, crowd: float,
                 drive: np.ndarray) -> None:
        """One sub-step of `h` seconds (h <= SUBSTEP_S)."""
        cfg, tr = self.cfg, self._track
        # Responses: exact first-order lag over h for a held target (frame-rate independent).
        a = 1.0 - math.exp(-h / cfg.response_tau_s)
        self._energy += a * (energy - self._energy)
        self._intensity += a * (intensity - self._intensity)
        self._crowd += a * (crowd - self._crowd)
        self._drive += a * (drive - self._drive)
        speed = cfg.idle_speed + cfg.motion_speed * self._energy  # rad/s

        # Heading: turn towards the noise (sampled mid-step), within the tangent plane.
        n = tr.noise(tr.clock + 0.5 * h)
        turn = n - float(np.dot(n, tr.u)) * tr.u - float(np.dot(n, tr.v)) * tr.v
        tr.v = normalized(tr.v + cfg.drift_turn * h * turn)

        # Travel: along the heading at the walk speed, plus velocity drives along their axes.
        velocity = speed * tr.v + tangent(tr.u, self._along_axes(~self._offset_rows))
        tr.u, tr.v = geodesic_step(tr.u, tr.v, velocity * h)

        # Clocks.
        tr.clock += h
        tr.label_clock += h * (1.0 + cfg.label_energy_rate * self._energy
                               + cfg.label_crowd_rate * self._crowd)
        self._t += h
        if self._glide is not None:
            self._glide_at += h / cfg.reseed_glide_s
            if self._glide_at >= 1.0:
                self._glide, self._glide_at = None, 1.0

    def _along_axes(self, rows: np.ndarray) -> np.ndarray:
        """The sum of the selected drives along their axes, a vector in R^dim."""
        coef = np.zeros(self.cfg.axes)
        np.add.at(coef, self._axis_of[rows], self._drive[rows])
        return self._track.axes @ coef

    def _target(self) -> np.ndarray:
        """Where z should be now (unit length): the track's point, leaning, mid-glide."""
        tr = self._track
        z = exp_map(tr.u, tangent(tr.u, self._along_axes(self._offset_rows)))
        if self._glide is None:
            return z
        return slerp(self._glide[0], z, smoothstep(self._glide_at))

    def _labels(self) -> np.ndarray | None:
        tr = self._track
        if tr.labels is None:
            return None
        lab = tr.labels(tr.label_clock)
        if self._glide is not None and self._glide[1] is not None:
            w = smoothstep(self._glide_at)
            lab = (1.0 - w) * self._glide[1] + w * lab  # convex: still sums to 1
        return lab
