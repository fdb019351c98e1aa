"""Latent and label conventions shared by the GAN generators (no torch needed).

A generator's input is a latent `z` of `LATENT_DIM` numbers (standard normal) and, for the
conditional eye generator, a label vector over `EYE_CLASSES`: one-hot for a pure class, a
convex blend of one-hots for a picture between classes.
"""

from __future__ import annotations

import numpy as np

LATENT_DIM = 100  # numbers in z, both generators

# The eye generator's classes, in the order of its one-hot label (shared/MODELS.md).
EYE_CLASSES: tuple[str, ...] = (
    "amber", "blue", "brown", "gray", "grayscale", "green", "hazel", "red",
)


def one_hot(name: str, classes: tuple[str, ...] = EYE_CLASSES) -> np.ndarray:
    """The float32 one-hot label of class `name`; ValueError names the known classes."""
    if name not in classes:
        raise ValueError(f"unknown class {name!r}; known: {', '.join(classes)}")
    label = np.zeros(len(classes), np.float32)
    label[classes.index(name)] = 1.0
    return label


def blend(a: str, b: str, t: float, classes: tuple[str, ...] = EYE_CLASSES) -> np.ndarray:
    """The label a fraction `t` (0..1, clipped) of the way from class `a` to class `b`."""
    u = float(np.clip(t, 0.0, 1.0))
    return ((1.0 - u) * one_hot(a, classes) + u * one_hot(b, classes)).astype(np.float32)
