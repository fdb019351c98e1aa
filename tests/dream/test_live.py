"""The live dream's feedback: a still scene's dream keeps growing, a moving region resets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from motion.scenes import Scene

from installation.dream.ascent import objective
from installation.dream.backbone import EfficientNetLite0, load_backbone
from installation.dream.config import DreamConfig
from installation.dream.live import DreamEffect
from installation.models import ModelStore

SIZE = (160, 90)  # half the synthetic scene's 320 x 180


@pytest.fixture(scope="module")
def net(store: ModelStore) -> EfficientNetLite0:
    return load_backbone(store)


def score(net: EfficientNetLite0, effect: DreamEffect, rgb: np.ndarray) -> float:
    x = torch.from_numpy(rgb.astype(np.float32).transpose(2, 0, 1))[None]
    return float(objective(net, x, effect.layers))


def test_a_still_scene_dreams_deeper_frame_after_frame(net: EfficientNetLite0) -> None:
    scene = Scene(seed=4, noise=2.0)
    effect = DreamEffect(net, DreamConfig(steps=1, jitter_px=4), SIZE)
    scores = [score(net, effect, effect(scene.picture(None), i / 30)) for i in range(6)]
    assert all(b > a for a, b in itertools.pairwise(scores))
    first = effect(scene.picture(None), 1.0)  # and the picture moves away from the camera
    assert np.abs(first.astype(float) - scene.picture(None)[::2, ::2]).mean() > 5


def test_a_moving_region_drops_its_dream(net: EfficientNetLite0) -> None:
    scene = Scene(seed=4, noise=0.0)
    effect = DreamEffect(net, DreamConfig(steps=1), SIZE)
    for i in range(5):
        effect(scene.picture(None), i / 30)  # a deep dream of the empty room
    effect(scene.picture(140.0), 5 / 30)  # a visitor steps in on the right...
    start, keep = effect.start_from(scene.picture(128.0), 6 / 30)  # ...and moves left
    still = keep[:, :20].mean()  # the left edge, where nothing moves
    moving = keep[36:54, 66:86].mean()  # the visitor (scene px × 0.5), 6 px/frame here
    assert still > 0.8 and moving < still - 0.3
    cam = scene.picture(128.0)[::2, ::2].astype(np.float32)  # ≈ the camera at SIZE
    assert np.abs(start[38:52, 68:84] - cam[38:52, 68:84]).mean() < np.abs(
        start[:, :20] - cam[:, :20]).mean()  # the moving region is back near the camera
