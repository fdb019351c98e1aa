"""Class labels for conditional generators: a seeded tour of the classes, crossfading.

The tour is a function of a *label clock* (seconds; the walk runs it faster while people
move). The clock is cut into slots of `hold_s + fade_s`: a slot shows its class alone for
`hold_s`, then crossfades to the next slot's class over `fade_s` with a smoothstep, so
the label vector is continuous and its rate of change has no kinks. Classes come in
seeded random orders (each class once per round, never the same class twice in a row),
so the eyes visit every colour without a fixed, predictable sequence.
"""

from __future__ import annotations

import math

import numpy as np

from installation.latent.noise import STREAM_LABELS, rng
from installation.latent.sphere import smoothstep


class LabelCycle:
    """Label vectors over `count` classes (float64, >= 0, summing to 1) as a function of time."""

    def __init__(self, count: int, seed: int, hold_s: float, fade_s: float) -> None:
        if count < 1:
            raise ValueError("a label cycle needs at least one class")
        self.count, self.seed, self.hold_s, self.fade_s = count, seed, hold_s, fade_s
        self._rounds: dict[int, np.ndarray] = {}  # the few rounds in use, drawn once

    def _round(self, k: int) -> np.ndarray:
        """Round k's order before the no-repeat fix: a seeded permutation of the classes."""
        order = self._rounds.get(k)
        if order is None:
            if len(self._rounds) >= 4:
                self._rounds.clear()
            order = rng(STREAM_LABELS, self.seed, k).permutation(self.count)
            self._rounds[k] = order
        return order.copy()

    def class_at(self, slot: int) -> int:
        """The class shown in slot `slot` (>= 0)."""
        n = self.count
        if n == 1:
            return 0
        if n == 2:  # two classes can only alternate; the seed picks the first
            return (slot + int(self._round(0)[0])) % 2
        k, i = divmod(slot, n)
        order = self._round(k)
        # With n >= 3, swapping the first two never moves the last, so the fix needs only
        # the previous round's raw order: random access, no recursion.
        if k > 0 and order[0] == self._round(k - 1)[-1]:
            order[0], order[1] = order[1], order[0]
        return int(order[i])

    def __call__(self, clock: float) -> np.ndarray:
        slot_s = self.hold_s + self.fade_s
        slot = math.floor(max(clock, 0.0) / slot_s)
        into = max(clock, 0.0) - slot * slot_s
        out = np.zeros(self.count)
        a = self.class_at(slot)
        if into <= self.hold_s:
            out[a] = 1.0
            return out
        w = smoothstep((into - self.hold_s) / self.fade_s)
        out[a] += 1.0 - w
        out[self.class_at(slot + 1)] += w
        return out
