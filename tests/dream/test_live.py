"""The live dream's feedback: a still scene's dream keeps growing, a moving region resets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from motion.scenes import Scene

from installation.dream.ascender import DreamAscent
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
    effect = DreamEffect(DreamAscent(net), DreamConfig(steps=1, jitter_px=4), SIZE)
    scores = [score(net, effect, effect(scene.picture(None), i / 30)) for i in range(6)]
    assert all(b > a for a, b in itertools.pairwise(scores))
    first = effect(scene.picture(None), 1.0)  # and the picture moves away from the camera
    assert np.abs(first.astype(float) - scene.picture(None)[::2, ::2]).mean() > 5


def test_a_moving_region_drops_its_dream(net: EfficientNetLite0) -> None:
    scene = Scene(seed=4, noise=0.0)
    effect = DreamEffect(DreamAscent(net), DreamConfig(steps=1), SIZE)
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


@pytest.mark.parametrize(("zoom", "attract", "zooms"), [
    ("attract", False, False), ("attract", True, True), ("always", False, True),
    ("off", True, False),
])
def test_the_dream_zooms_when_asked(net: EfficientNetLite0, zoom: str, attract: bool,
                                    zooms: bool) -> None:
    """A still grey room, the last dream a left-to-right ramp: a zoom of 0.5 / s over 1 s
    looks 1 / 1.5 of the way out from the centre, so the left edge shows the ramp's value
    at x = w/2 · (1 − 1/1.5) = w/6; without zoom it keeps its own value."""
    w, h = SIZE
    effect = DreamEffect(DreamAscent(net),
                         DreamConfig(zoom=zoom, zoom_per_s=0.5, feedback=1.0), SIZE)
    effect.set_attract(attract)
    grey = np.full((h, w, 3), 128, np.uint8)
    effect.start_from(grey, 0.0)
    ramp = np.repeat(np.tile(np.arange(w, dtype=np.float32), (h, 1))[..., None], 3, axis=2)
    effect._last = ramp
    start, keep = effect.start_from(grey, 1.0)
    assert keep.min() > 0.99  # nothing moved: all of the last dream is carried
    left = float(start[h // 2, 0, 0])
    assert left == pytest.approx(w / 6, abs=1.0) if zooms else left == pytest.approx(0, abs=1.0)
    assert start[h // 2, w // 2, 0] == pytest.approx(w / 2, abs=1.0)  # the centre stays


def test_settings_tuned_live_are_checked(net: EfficientNetLite0) -> None:
    effect = DreamEffect(DreamAscent(net), DreamConfig(), SIZE)
    effect.tune("feedback", 0.5)
    effect.tune("steps", 3.0)  # OSC numbers are floats; whole ones fill integer settings
    assert effect.cfg.feedback == 0.5 and effect.cfg.steps == 3
    with pytest.raises(ValueError, match="less than or equal to 1"):
        effect.tune("feedback", 2.0)
    assert effect.cfg.feedback == 0.5  # the last good value stays


def test_a_dream_that_is_not_finite_is_refused_and_never_fed_back(
        net: EfficientNetLite0, monkeypatch: pytest.MonkeyPatch) -> None:
    from installation.dream import ascender

    scene = Scene(seed=4, noise=2.0)
    effect = DreamEffect(DreamAscent(net), DreamConfig(steps=1), SIZE)
    effect(scene.picture(None), 0.0)
    real = ascender.dream

    def nan_dream(*args: object, **kw: object) -> torch.Tensor:
        out = real(*args, **kw)  # type: ignore[arg-type]
        return out * float("nan")

    monkeypatch.setattr(ascender, "dream", nan_dream)
    with pytest.raises(ValueError, match="live dream output is not finite"):
        effect(scene.picture(None), 1 / 30)
    assert effect._last is None  # the next frame starts afresh, not from NaN
    monkeypatch.setattr(ascender, "dream", real)
    assert np.isfinite(effect(scene.picture(None), 2 / 30).astype(float)).all()
