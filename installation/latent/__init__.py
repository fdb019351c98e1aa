"""The latent walk: motion signals in, a latent (and class labels) for the GAN out.

    walk = LatentWalk(WalkConfig(seed=7, labels=8))
    state = walk.step(dt, WalkInput(energy=0.4, centroid=(0.7, 0.5)))   # once per frame
    state.z, state.labels, state.speed, state.intensity

- `config`: `WalkConfig` (speeds, smoothing, the signal → axis mapping, labels, intensity);
- `walk`: `LatentWalk`, `WalkInput`, `WalkState`: the state and how it moves with dt;
- `noise`, `labels`, `sphere`: seeded time-indexed randomness, the class tour, geometry.
"""

from __future__ import annotations

from installation.latent.config import AxisMapping, IntensityConfig, WalkConfig
from installation.latent.walk import LatentWalk, WalkInput, WalkState

__all__ = [
    "AxisMapping",
    "IntensityConfig",
    "LatentWalk",
    "WalkConfig",
    "WalkInput",
    "WalkState",
]
