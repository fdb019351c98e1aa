"""The effect thread with adaptive resolution: a scene too slow for its target steps its
processing size down while running, and the pictures it hands on come at that size."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from fakes import SlowMachine

from installation.capture import ReplaySource
from installation.effects import PassThrough
from installation.effects.adaptive import AdaptiveConfig, ResolutionController
from installation.effects.worker import EffectWorker
from installation.show.config import SceneConfig


def test_a_slow_scene_steps_down_while_running(until: Callable[..., bool]) -> None:
    scene = SceneConfig(name="s", effect="none", size=(320, 180))
    effect = SlowMachine(PassThrough(scene), ms_per_kpx=1.0)  # 57.6 ms at full size
    cfg = AdaptiveConfig(target_fps=25.0, down_after_s=0.3, steps=4)
    ctl = ResolutionController(cfg, scene.size)
    frames = [np.full((180, 320, 3), v, np.uint8) for v in (60, 120)]
    source = ReplaySource(frames, 60.0).start()
    worker = EffectWorker(source, effect, ctl).start()
    try:
        assert until(lambda: ctl.level > 0, 30)
        assert until(lambda: effect.size == ctl.size, 30) and ctl.size[0] < 320
        w, h = ctl.size
        seen = 0

        def handed_on_at_new_size() -> bool:
            nonlocal seen
            seen, frame = worker.slot.get(after=seen, timeout=0.1)
            return frame is not None and frame.image.shape[:2] == (h, w)

        assert until(handed_on_at_new_size, 30) or ctl.size != (w, h)
    finally:
        worker.stop()
        source.stop()


def test_no_controller_keeps_the_scene_size(until: Callable[..., bool]) -> None:
    scene = SceneConfig(name="s", effect="none", size=(96, 64))
    effect = SlowMachine(PassThrough(scene), ms_per_kpx=5.0)
    source = ReplaySource([np.zeros((64, 96, 3), np.uint8)], 60.0).start()
    worker = EffectWorker(source, effect).start()
    try:
        seen = 0
        for _ in range(5):
            seen, frame = worker.slot.get(after=seen, timeout=5.0)
            assert frame is not None and frame.image.shape[:2] == (64, 96)
    finally:
        worker.stop()
        source.stop()
