"""Gradient ascent raises the dream objective; octaves and jitter keep the picture whole."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from installation.dream.ascent import ascent_step, dream, objective
from installation.dream.backbone import EfficientNetLite0, load_backbone
from installation.models import ModelStore

LAYERS = {6: 1.0, 9: 0.5}


@pytest.fixture(scope="module")
def net(store: ModelStore) -> EfficientNetLite0:
    return load_backbone(store)


@pytest.fixture(scope="module")
def picture() -> torch.Tensor:
    import cv2

    rgb = cv2.resize(data.coffee(), (160, 120), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float()


def test_a_step_increases_the_objective(net: EfficientNetLite0, picture: torch.Tensor) -> None:
    rng = np.random.default_rng(0)
    before = float(objective(net, picture, LAYERS))
    x = picture
    for _ in range(3):
        x = ascent_step(net, x, LAYERS, step_size=4.0, jitter_px=0, rng=rng)
    after = float(objective(net, x, LAYERS))
    assert after > before * 1.05
    change = (x - picture).abs().mean()
    assert 1.0 < float(change) < 20.0  # ≈ 4 grey levels a step, clipped at the ends
    assert float(x.min()) >= 0.0 and float(x.max()) <= 255.0


def test_dream_with_octaves_and_jitter(net: EfficientNetLite0, picture: torch.Tensor) -> None:
    out = dream(net, picture, LAYERS, steps=2, octaves=2, jitter_px=6, seed=1)
    assert out.shape == picture.shape
    assert float(objective(net, out, LAYERS)) > float(objective(net, picture, LAYERS))
    again = dream(net, picture, LAYERS, steps=2, octaves=2, jitter_px=6, seed=1)
    assert torch.equal(out, again)  # seeded jitter: repeatable
