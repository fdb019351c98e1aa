"""The automatic gain: the room's usual motion learned over minutes, so energy reads the
same in a quiet gallery and a busy one.

The gain follows a *level*: the motion the room usually has while someone moves. The level
rises towards busier motion ten times faster than it falls back (`gain_learn_s`), and only
moves while someone moves above the noise floor, so a quiet night does not turn the gain
up until a sneeze is full energy. Energy is motion / level x `typical_energy`, at most 1;
the level stays within `gain_range` of its start (`typical_motion`), so the gain is bounded.
Motion below `noise_floor` reads zero (ramping in to full at twice the floor), so jitter
never becomes motion, whatever the gain.
"""

from __future__ import annotations

import math

from installation.perception.config import PerceptionConfig

RISE = 10.0  # the level rises this many times faster than it falls


def above_floor(motion: float, floor: float) -> float:
    """`motion` with the noise floor taken out: 0 up to `floor`, then ramping to the full
    value at twice the floor (continuous, and unbiased above it)."""
    if floor <= 0.0:
        return max(motion, 0.0)
    return max(motion, 0.0) * min(max((motion - floor) / floor, 0.0), 1.0)


class AutoGain:
    """Learns the room's usual motion (body heights/s) and maps motion to energy 0..1."""

    def __init__(self, cfg: PerceptionConfig) -> None:
        self.cfg = cfg
        self.level = cfg.typical_motion  # body heights/s

    @property
    def gain(self) -> float:
        """Energy per body height/s, as the room reads now."""
        return self.cfg.typical_energy / self.level

    def update(self, motion: float, dt: float) -> float:
        """Energy 0..1 for `motion` (body heights/s, floor already out) after `dt` s."""
        cfg = self.cfg
        if motion > 0.0 and dt > 0.0:
            tau = cfg.gain_learn_s / (RISE if motion > self.level else 1.0)
            self.level += (1.0 - math.exp(-dt / tau)) * (motion - self.level)
            low, high = cfg.gain_range
            # The level bounds are the gain's, inverted: a high gain is a low level.
            self.level = min(max(self.level, cfg.typical_motion / high),
                             cfg.typical_motion / low)
        return min(motion * self.gain, 1.0)
