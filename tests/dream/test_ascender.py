"""The live dream's ascent as one network call: the same picture as the ascent itself, and
a picture it cannot take refused before any work (the settings: test_ports.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from installation.dream.ascender import DreamAscent, probe
from installation.dream.ascent import dream
from installation.dream.backbone import EfficientNetLite0, load_backbone
from installation.dream.config import DreamConfig
from installation.dream.ports import settings_vector
from installation.models import ModelStore


@pytest.fixture(scope="module")
def net(store: ModelStore) -> EfficientNetLite0:
    return load_backbone(store)


def picture(h: int = 36, w: int = 52, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (1, 3, h, w)).astype(np.float32)


def test_the_call_is_the_ascent(net: EfficientNetLite0) -> None:
    cfg = DreamConfig(layers={"3": 1.0, "6": 0.5}, steps=2, step_size=5.0, octaves=2,
                      jitter_px=4)
    x = picture()
    (out,) = DreamAscent(net).run({"picture": x, "settings": settings_vector(cfg, 17)})
    want = dream(net, torch.from_numpy(x), {3: 1.0, 6: 0.5}, 2, 5.0, 2, 1.4, 4, seed=17)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_array_equal(out, want.numpy())
    assert np.abs(out - x).mean() > 1.0  # it dreamt


def test_a_picture_it_cannot_take_is_refused(net: EfficientNetLite0) -> None:
    settings = settings_vector(DreamConfig(steps=1), 1)
    with pytest.raises(ValueError, match="picture"):
        DreamAscent(net).run({"picture": picture().astype(np.float64), "settings": settings})


def test_the_probe_is_a_default_dream_at_the_size(net: EfficientNetLite0) -> None:
    feeds = probe((48, 32))
    assert feeds["picture"].shape == (1, 3, 32, 48) and feeds["picture"].max() > 1
    (out,) = DreamAscent(net).run(feeds)
    assert out.shape == (1, 3, 32, 48)


def test_it_describes_itself_as_a_network(net: EfficientNetLite0) -> None:
    ascent = DreamAscent(net)
    assert [p.name for p in ascent.inputs] == ["picture", "settings"]
    assert [p.name for p in ascent.outputs] == ["dream"]
    assert ascent.engine == "torch" and "live-dream" in ascent.describe()
