"""The effect thread: with adaptive resolution, a scene too slow for its target steps its
processing size down while running, and the pictures it hands on come at that size; a
hanging effect is restarted, then bypassed until it is swapped."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from fakes import Hangs, SlowMachine

from installation.capture import ReplaySource
from installation.effects import PassThrough
from installation.effects.adaptive import AdaptiveConfig, ResolutionController
from installation.effects.worker import EffectWorker
from installation.show.config import SceneConfig

DEADLINE_S = 15.0  # a hang guard for waits, never a speed requirement


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




def restart_stalled(worker: EffectWorker, until: Callable[..., bool]) -> str | None:
    """Wait for the effect call to hang, then let the watchdog (2 restarts before the
    bypass) look at it 10 s later."""
    assert until(lambda: worker.busy_since is not None)
    busy = worker.busy_since
    assert busy is not None
    return worker.watch(busy + 10.0, 5.0, most_restarts=2)


def test_a_hanging_effect_is_restarted_then_bypassed_until_swapped(
        until: Callable[..., bool]) -> None:
    scene = SceneConfig(name="s", effect="none", size=(48, 32))
    hang, other = Hangs(PassThrough(scene), DEADLINE_S), PassThrough(scene)
    source = ReplaySource([np.full((64, 96, 3), 7, np.uint8)], 60.0).start()
    worker = EffectWorker(source, hang).start()
    try:
        first = restart_stalled(worker, until)
        assert first is not None and first.startswith("effect none stalled (10.0 s")
        assert first.endswith("thread restarted") and not worker.bypassed
        second = restart_stalled(worker, until)  # the fresh thread hangs as well
        assert second is not None and "bypassed" in second and worker.bypassed
        seen, frame = worker.slot.get(timeout=DEADLINE_S)
        assert frame is not None and frame.image.shape == (64, 96, 3)  # unpainted
        assert hang.calls == 2 and worker.restarts == 2
        worker.swap(other)  # a new scene: painted again, its own restart count
        assert not worker.bypassed and worker.restarts == 0

        def painted() -> bool:
            nonlocal seen
            seen, frame = worker.slot.get(after=seen, timeout=0.1)
            return frame is not None and frame.image.shape == (32, 48, 3)

        assert until(painted)
        worker.swap(hang)  # back: it hung twice before, so the next stall bypasses at once
        assert worker.restarts == 2
        third = restart_stalled(worker, until)
        assert third is not None and "bypassed" in third and worker.restarts == 3
    finally:
        hang.release.set()
        worker.stop()
        source.stop()
