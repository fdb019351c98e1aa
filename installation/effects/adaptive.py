"""Adaptive resolution: the processing size steps down when the effect cannot hold
`target_fps`, and back up when there is room again.

The effect thread reports each frame's effect time. The controller keeps a smoothed time
and compares it with the frame budget (1 / target_fps):

- **down** one rung when the smoothed time has been over budget × (1 + tolerance) for
  `down_after_s` (a visitor sees a slow frame rate at once: react in seconds);
- **up** one rung when the time *predicted at the next size* (scaled by its pixel count)
  has been under budget × (1 − tolerance) for `up_after_s` (longer: no see-saw);
- never below the floor (`min_scale` of the scene's size), never above the scene's size.

Between the two thresholds nothing changes (hysteresis), and after each change the
controller waits for fresh measurements at the new size before judging again. The rungs
keep the scene's aspect ratio, with both sides multiples of the networks' multiple (4).
"""

from __future__ import annotations

import math

from pydantic import Field

from installation.section import Section

MULTIPLE = 4  # every network we run pads to a multiple of 4; sizes stay on it
MEMORY_HOLD_S = 600.0  # after running out of GPU memory, no step back up for this long, s


class AdaptiveConfig(Section):
    """`[adaptive]`: hold a frame rate by lowering the processing resolution."""

    target_fps: float = Field(
        0.0, ge=0.0, le=240.0,
        description="frame rate to hold, frames/s; 0 = off (the scene's size always)",
    )
    min_scale: float = Field(
        0.5, ge=0.1, le=1.0, description="the floor: never below this share of each side"
    )
    steps: int = Field(
        6, ge=1, le=32, description="rungs between the scene's size and the floor"
    )
    tolerance: float = Field(
        0.15, ge=0.0, le=0.9, description="dead band around the frame budget, fraction"
    )
    down_after_s: float = Field(2.0, gt=0.0, le=60.0, description="over budget this long, s")
    up_after_s: float = Field(6.0, gt=0.0, le=600.0, description="room to spare this long, s")


def ladder(full: tuple[int, int], min_scale: float, steps: int,
           multiple: int = MULTIPLE) -> list[tuple[int, int]]:
    """Sizes from `full` (W, H) down to `min_scale` of it, in `steps` equal steps of scale,
    each side rounded up to a multiple of `multiple`; duplicates
    dropped. The first rung is `full` itself, as given."""
    w, h = full
    rungs = [full]
    for k in range(1, steps + 1):
        s = 1.0 - (1.0 - min_scale) * k / steps
        # rounded up, so no side goes below min_scale of the scene's
        size = (max(multiple, math.ceil(w * s / multiple) * multiple),
                max(multiple, math.ceil(h * s / multiple) * multiple))
        if size != rungs[-1] and size[0] <= rungs[-1][0] and size[1] <= rungs[-1][1]:
            rungs.append(size)
    return rungs


class ResolutionController:
    """Chooses the processing size from the effect's time per frame (see module doc)."""

    SMOOTHING = 0.2  # weight of a new measurement in the running mean

    def __init__(self, cfg: AdaptiveConfig, full: tuple[int, int]) -> None:
        self.cfg = cfg
        self.rungs = ladder(full, cfg.min_scale, cfg.steps)
        self.level = 0  # index into rungs; 0 = the scene's size
        self.changes = 0
        self._mean_ms: float | None = None
        self._over_since: float | None = None
        self._room_since: float | None = None
        self._ceiling = (0, float("-inf"))  # (smallest level allowed, until when, s)

    @property
    def enabled(self) -> bool:
        return self.cfg.target_fps > 0

    @property
    def size(self) -> tuple[int, int]:
        return self.rungs[self.level]

    @property
    def budget_ms(self) -> float:
        return 1000.0 / self.cfg.target_fps if self.enabled else float("inf")

    @property
    def scale(self) -> float:
        """The current width over the scene's width (1.0 at full size)."""
        return self.size[0] / self.rungs[0][0]

    def observe(self, effect_ms: float, t: float) -> tuple[int, int] | None:
        """One frame's effect time (ms) at show time `t` (s); the new size when it changes."""
        if not self.enabled:
            return None
        mean = self._mean_ms
        mean = effect_ms if mean is None else mean + self.SMOOTHING * (effect_ms - mean)
        self._mean_ms = mean
        budget, tol = self.budget_ms, self.cfg.tolerance
        if mean > budget * (1.0 + tol) and self.level < len(self.rungs) - 1:
            self._room_since = None
            self._over_since = t if self._over_since is None else self._over_since
            if t - self._over_since >= self.cfg.down_after_s:
                return self._move(+1)
            return None
        self._over_since = None
        level, until = self._ceiling
        if self.level > 0 and not (self.level <= level and t < until):
            (w, h), (uw, uh) = self.size, self.rungs[self.level - 1]
            predicted = mean * (uw * uh) / (w * h)  # cost grows with the pixel count
            if predicted < budget * (1.0 - tol):
                self._room_since = t if self._room_since is None else self._room_since
                if t - self._room_since >= self.cfg.up_after_s:
                    return self._move(-1)
                return None
        self._room_since = None
        return None

    def force_down(self, t: float) -> tuple[int, int] | None:
        """One rung down now, whatever the timing (the GPU ran out of memory at show time
        `t`), and no way back above it for `MEMORY_HOLD_S`; None at the floor. Works with
        adaptive resolution off too: memory is not a frame-rate choice."""
        if self.level >= len(self.rungs) - 1:
            return None
        size = self._move(+1)
        self._ceiling = (self.level, t + MEMORY_HOLD_S)
        return size

    def _move(self, step: int) -> tuple[int, int]:
        self.level += step
        self.changes += 1
        self._mean_ms = None  # judge the new size by its own frames
        self._over_since = self._room_since = None
        return self.size
