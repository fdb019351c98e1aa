"""Geometry on the unit hypersphere: angles, geodesic steps, parallel transport, slerp.

Every vector here is float64 and, where it stands for a point, of unit length; the walk
scales to the latent radius sqrt(dim) only when it hands `z` out.
"""

from __future__ import annotations

import math

import numpy as np

EPS = 1e-12  # below this a length counts as zero


def angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between unit vectors `a` and `b`, radians (accurate near 0 and near pi)."""
    return 2.0 * math.atan2(float(np.linalg.norm(a - b)), float(np.linalg.norm(a + b)))


def tangent(u: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The part of `x` tangent to the sphere at the unit point `u`."""
    return x - float(np.dot(x, u)) * u


def normalized(x: np.ndarray) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), EPS)


def exp_map(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The point reached from `u` along the geodesic with tangent `w` (|w| radians)."""
    theta = float(np.linalg.norm(w))
    if theta < EPS:
        return u.copy()
    return normalized(math.cos(theta) * u + math.sin(theta) * (w / theta))


def geodesic_step(
    u: np.ndarray, v: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move the point `u` by the tangent `w` (|w| radians) and carry the unit tangent `v` along.

    `v` is parallel-transported, so a heading keeps its meaning from one point to the next
    instead of being re-projected (which would bend it towards wherever it came from).
    """
    theta = float(np.linalg.norm(w))
    if theta < EPS:
        return u.copy(), v.copy()
    e = w / theta
    c, s = math.cos(theta), math.sin(theta)
    ve = float(np.dot(v, e))
    u2 = normalized(c * u + s * e)
    v2 = v + (c - 1.0) * ve * e - s * ve * u
    return u2, normalized(tangent(u2, v2))  # re-orthogonalised against rounding


def slerp(a: np.ndarray, b: np.ndarray, s: float) -> np.ndarray:
    """The point a fraction `s` (0..1) of the way from unit `a` to unit `b` along the sphere."""
    theta = angle(a, b)
    if theta < 1e-9:
        return b.copy()
    if math.pi - theta < 1e-6:  # antipodal: every great circle joins them; take a fixed one
        return exp_map(a, s * theta * normalized(tangent(a, np.roll(a, 1))))
    sin = math.sin(theta)
    return normalized((math.sin((1 - s) * theta) * a + math.sin(s * theta) * b) / sin)


def smoothstep(x: float) -> float:
    """0 → 1 with zero slope at both ends (3x² − 2x³), x clipped to 0..1."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)
