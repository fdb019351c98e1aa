"""Seeded randomness for the walk, indexed by what it describes, never by call order.

Each draw comes from its own generator, seeded by (stream, seed, index): the drift's
control point number 7 is the same vector whether the walk reached it in 420 frames at
60 fps or in 105 at 15 fps, and whether or not anything else was drawn before it.
"""

from __future__ import annotations

import math

import numpy as np

# Stream numbers keep the walk's independent draws apart for one seed.
STREAM_AXES, STREAM_START, STREAM_DRIFT, STREAM_LABELS = 1, 2, 3, 4


def rng(stream: int, seed: int, index: int = 0) -> np.random.Generator:
    """The generator for draw `index` of `stream` under `seed` (all >= 0)."""
    return np.random.default_rng([stream, seed, index])


def orthonormal_axes(seed: int, dim: int, count: int) -> np.ndarray:
    """`count` seeded orthonormal directions in R^dim, as the columns of a [dim, count] array.

    QR of a Gaussian matrix, with the signs fixed by R's diagonal so the result is unique
    (uniformly distributed, and the same on every LAPACK).
    """
    q, r = np.linalg.qr(rng(STREAM_AXES, seed).standard_normal((dim, count)))
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return np.ascontiguousarray(q * signs)


def start(seed: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded start point on the unit sphere and a unit heading tangent to it there."""
    g = rng(STREAM_START, seed)
    u = g.standard_normal(dim)
    u /= np.linalg.norm(u)
    v = g.standard_normal(dim)
    v -= np.dot(v, u) * u
    return u, v / np.linalg.norm(v)


class SmoothNoise:
    """A smooth random vector-valued function of time: n(t) in R^dim, C2-continuous.

    Standard-normal control vectors (scaled by 1/sqrt(dim), so |n| ≈ 0.7 on average) sit
    every `period_s` seconds and a uniform cubic B-spline joins them. Evaluating at any t
    needs only the four control points around it; they are drawn on demand by index and
    the few in use are cached, so memory stays constant over weeks of running.
    """

    def __init__(self, seed: int, dim: int, period_s: float, stream: int = STREAM_DRIFT) -> None:
        self.seed, self.dim, self.period_s, self.stream = seed, dim, period_s, stream
        self._cache: dict[int, np.ndarray] = {}

    def _point(self, j: int) -> np.ndarray:
        p = self._cache.get(j)
        if p is None:
            # Index must be >= 0 for the seed sequence; t >= 0 reaches j = -1 only.
            p = rng(self.stream, self.seed, j + 1).standard_normal(self.dim) / math.sqrt(self.dim)
            self._cache[j] = p
        return p

    def __call__(self, t: float) -> np.ndarray:
        x = max(t, 0.0) / self.period_s
        j = math.floor(x)
        s = x - j
        # Uniform cubic B-spline weights for control points j-1, j, j+1, j+2 (sum to 1).
        s2, s3 = s * s, s * s * s
        w = (
            (1.0 - s) ** 3 / 6.0,
            (3.0 * s3 - 6.0 * s2 + 4.0) / 6.0,
            (-3.0 * s3 + 3.0 * s2 + 3.0 * s + 1.0) / 6.0,
            s3 / 6.0,
        )
        out = w[0] * self._point(j - 1)
        for k in range(1, 4):
            out = out + w[k] * self._point(j - 1 + k)
        for old in [i for i in self._cache if i < j - 1]:
            del self._cache[old]
        return out
