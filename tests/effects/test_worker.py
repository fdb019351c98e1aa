"""The effect thread: with adaptive resolution, a scene too slow for its target steps its
processing size down while running, and the pictures it hands on come at that size; a
hanging effect is restarted, then bypassed until it is swapped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
import pytest
from fakes import Hangs, SlowMachine

from installation.capture import ReplaySource
from installation.capture.base import Source
from installation.effects import PassThrough
from installation.effects.adaptive import AdaptiveConfig, ResolutionController
from installation.effects.worker import EffectWorker
from installation.pictures import resize_to
from installation.show.config import SceneConfig
from installation.slots import Frame

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
        worker.swap(hang)  # back, with its two hung calls still running: not called again
        assert worker.restarts == 2 and worker.held and worker.abandoned == 2

        def unpainted() -> bool:  # (a frame `other` was painting at the swap may come first)
            nonlocal seen
            seen, frame = worker.slot.get(after=seen, timeout=0.1)
            return frame is not None and frame.image.shape == (64, 96, 3)

        assert until(unpainted)
        assert hang.calls == 2
        hang.release.set()  # the hung calls return: their threads end, it is painted again
        assert until(lambda: worker.abandoned == 0 and not worker.held)
        assert until(painted)
    finally:
        hang.release.set()
        worker.stop()
        source.stop()


class Fed(Source):
    """A source the test feeds by hand (`feed`), one frame at a time; never started."""

    def __init__(self) -> None:
        super().__init__("fed")

    def feed(self, rgb: np.ndarray) -> None:
        self._emit(rgb)

    def _run(self) -> None:
        self._stop.wait()


class Blocks:
    """An effect whose calls wait for `go` (after setting `entered`), then raise `error`,
    or paint (the picture at its size) when `error` is None."""

    scalable = True

    def __init__(self, name: str, size: tuple[int, int],
                 error: Exception | None = None) -> None:
        self.name, self.size, self.error = name, size, error
        self.entered, self.go = threading.Event(), threading.Event()

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        self.entered.set()
        assert self.go.wait(DEADLINE_S)
        if self.error is not None:
            raise self.error
        return resize_to(image, self.size)

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size

    def step_style(self, delta: int, t: float) -> None:
        """No styles."""

    def describe(self) -> str:
        return self.name


class Recording(ResolutionController):
    """A controller that remembers what it was told: each `observe` and `force_down`."""

    def __init__(self, full: tuple[int, int]) -> None:
        super().__init__(AdaptiveConfig(target_fps=25.0), full)
        self.told: list[str] = []

    def observe(self, effect_ms: float, t: float) -> tuple[int, int] | None:
        self.told.append("observe")
        return super().observe(effect_ms, t)

    def force_down(self, t: float) -> tuple[int, int] | None:
        self.told.append("force_down")
        return super().force_down(t)


SIZE_A, SIZE_B, CAMERA = (96, 64), (48, 32), np.full((48, 80, 3), 9, np.uint8)


def run_swapped_mid_call(a: Blocks, ctl_a: ResolutionController | None, b: Blocks,
                         ctl_b: ResolutionController) -> EffectWorker:
    """One frame through `a`, with `b` swapped in while `a`'s call runs; returns the
    stopped worker once the frame's result (or pass-through) is out."""
    source = Fed()
    worker = EffectWorker(source, a, ctl_a).start()
    try:
        source.feed(CAMERA)
        assert a.entered.wait(DEADLINE_S)
        worker.swap(b, ctl_b)
        a.go.set()
        _, out = worker.slot.get(timeout=DEADLINE_S)  # published after the hooks ran
        assert out is not None
    finally:
        worker.stop()
        source.stop()
    return worker


def test_an_out_of_memory_swapped_out_mid_call_steps_its_own_effect_down(
        caplog: pytest.LogCaptureFixture) -> None:
    a = Blocks("a", SIZE_A, RuntimeError("CUDA out of memory"))
    b = Blocks("b", SIZE_B)
    ctl_a, ctl_b = Recording(SIZE_A), Recording(SIZE_B)
    with caplog.at_level(logging.ERROR, logger="installation.effects.worker"):
        worker = run_swapped_mid_call(a, ctl_a, b, ctl_b)
    assert ctl_a.told == ["force_down"] and ctl_a.level == 1 and a.size == ctl_a.size
    assert ctl_b.told == [] and ctl_b.level == 0 and b.size == SIZE_B  # b untouched
    assert not worker.out_of_memory and worker.streak == 0
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"effect a ran out of memory: processing size down to {ctl_a.size[0]}x"
        f"{ctl_a.size[1]}",
        "effect a failed: RuntimeError: CUDA out of memory (frame passes through; "
        "1 errors so far)",
    ]


def test_an_out_of_memory_of_an_effect_without_a_controller_is_its_own(
        caplog: pytest.LogCaptureFixture) -> None:
    """No controller: `a` has no smaller size, so the show is asked for the CPU; the
    scene swapped in meanwhile is not stepped down in its place."""
    a = Blocks("a", SIZE_A, MemoryError("failed to allocate memory"))
    b = Blocks("b", SIZE_B)
    ctl_b = Recording(SIZE_B)
    with caplog.at_level(logging.ERROR, logger="installation.effects.worker"):
        worker = run_swapped_mid_call(a, None, b, ctl_b)
    assert ctl_b.told == [] and ctl_b.level == 0 and b.size == SIZE_B
    assert worker.out_of_memory and a.size == SIZE_A
    assert [r.getMessage() for r in caplog.records] == [
        "effect a failed: MemoryError: failed to allocate memory (frame passes through; "
        "1 errors so far)",
    ]


def test_a_call_swapped_out_mid_call_steers_its_own_controller() -> None:
    a, b = Blocks("a", SIZE_A), Blocks("b", SIZE_B)
    ctl_a, ctl_b = Recording(SIZE_A), Recording(SIZE_B)
    run_swapped_mid_call(a, ctl_a, b, ctl_b)
    assert ctl_a.told == ["observe"] and ctl_b.told == []


def test_a_stall_swapped_out_mid_call_names_the_effect_that_hangs() -> None:
    a, b = Blocks("a", SIZE_A), Blocks("b", SIZE_B)
    source = Fed()
    worker = EffectWorker(source, a).start()
    try:
        source.feed(CAMERA)
        assert a.entered.wait(DEADLINE_S)
        busy = worker.busy_since
        assert busy is not None
        worker.swap(b)
        line = worker.watch(busy + 10.0, 5.0, most_restarts=3)
        assert line == "effect a stalled (10.0 s in one call): thread restarted"
        assert worker.label == "effect b"  # nothing runs now: the current effect
    finally:
        a.go.set()
        b.go.set()
        worker.stop()
        source.stop()


def test_abandoned_calls_stay_bounded_across_scene_changes_and_new_effects(
        until: Callable[..., bool]) -> None:
    """A scene that hangs every call, visited again and again and rebuilt (a live edit
    makes a new effect object), never leaves more than `restarts_before_bypass` calls of
    one effect, nor twice that over all, running behind the watchdog's back; frames pass
    through meanwhile, a healthy scene still paints below the overall cap, and when the
    hung calls return the threads end and the count falls to 0."""
    most = 2
    scene = SceneConfig(name="s", effect="none", size=(48, 32))
    release = threading.Event()
    healthy = PassThrough(scene)
    source = ReplaySource([np.full((64, 96, 3), 7, np.uint8)], 200.0).start()
    hangs: list[Hangs] = []
    worker = EffectWorker(source, healthy).start()
    peak_abandoned = peak_threads = 0

    def stall_once() -> bool:
        """The watchdog looks at a hung call; False when no call started (held)."""
        if not until(lambda: worker.busy_since is not None or worker.held
                     or worker.bypassed, timeout=2.0):
            return False
        busy = worker.busy_since
        if busy is None:
            return False
        worker.watch(busy + 10.0, 5.0, most_restarts=most)
        return True

    try:
        for visit in range(12):
            if visit % 3 == 0:  # a live edit: the hanging scene is built again
                hangs.append(Hangs(PassThrough(scene), DEADLINE_S))
                hangs[-1].release = release
            worker.swap(hangs[-1])
            for _ in range(most + 1):
                stall_once()
                peak_abandoned = max(peak_abandoned, worker.abandoned)
                peak_threads = max(peak_threads, sum(
                    1 for t in threading.enumerate() if t.name == "effect"))
            worker.swap(healthy)
            seen = worker.slot.peek()[0]
            # A healthy scene paints, unless all effects together are at the cap: then
            # frames pass through unpainted until some hung calls return.
            size = (64, 96, 3) if worker.abandoned >= 2 * most else (32, 48, 3)

            def shows(seen: int = seen, size: tuple[int, ...] = size) -> bool:
                frame = worker.slot.get(after=seen, timeout=0.1)[1]
                return frame is not None and frame.image.shape == size

            assert until(shows)
        assert peak_abandoned == 2 * most  # reached, never passed
        assert peak_threads <= 2 * most + 1
        assert sum(h.calls for h in hangs) <= 2 * most + len(hangs)
        release.set()
        assert until(lambda: worker.abandoned == 0)
        assert until(lambda: sum(1 for t in threading.enumerate() if t.name == "effect") == 1)
    finally:
        release.set()
        worker.stop()
        source.stop()


class Nan:
    """An effect whose network gives NaN (an overflowing blend weight): through the same
    cast the style effects use."""

    name, scalable = "nan", False

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        from installation.effects.style import to_uint8

        return to_uint8(np.full(image.shape, np.nan, np.float32))

    def resize(self, size: tuple[int, int]) -> None:
        """Fixed size."""

    def step_style(self, delta: int, t: float) -> None:
        """No styles."""

    def describe(self) -> str:
        return self.name


def test_a_stage_that_outputs_nan_is_caught_and_the_frame_passes_through(
        caplog: pytest.LogCaptureFixture) -> None:
    source = Fed()
    worker = EffectWorker(source, Nan()).start()
    camera = np.full((48, 80, 3), 77, np.uint8)
    try:
        seen = 0
        for _ in range(3):
            source.feed(camera)
            seen, out = worker.slot.get(after=seen, timeout=DEADLINE_S)
            assert out is not None
            np.testing.assert_array_equal(out.image, camera)  # the camera, not black
    finally:
        worker.stop()
        source.stop()
    assert worker.errors == 3 and worker.streak == 3
    lines = [r.getMessage() for r in caplog.records if "not finite" in r.getMessage()]
    assert len(lines) == 1  # rate-limited


class Counted(SlowMachine):
    calls = 0

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        self.calls += 1
        return super().__call__(image, t)


def test_a_frame_passed_for_a_held_effect_is_not_an_effect_call() -> None:
    """A frame taken before a swap to a held effect (its hung calls still running) passes
    unpainted, and adaptive resolution does not read its near-zero time as the new
    effect's."""
    scene = SceneConfig(name="s", effect="none", size=(96, 64))
    effect = Counted(PassThrough(scene), ms_per_kpx=1.0)
    ctl = ResolutionController(AdaptiveConfig(target_fps=25.0), scene.size)
    worker = EffectWorker(ReplaySource([np.zeros((64, 96, 3), np.uint8)], 30.0), effect, ctl)
    worker.most_abandoned = 1
    worker._abandoned[threading.Thread()] = effect  # one hung call of it still runs
    frame = Frame(np.full((64, 96, 3), 9, np.uint8), seq=1, t_capture=0.0)
    out = worker._work(frame)
    assert out.image is frame.image and effect.calls == 0  # unpainted, the effect not called
    worker._succeeded(frame, out)
    assert ctl._mean_ms is None  # nothing observed
    worker._abandoned.clear()  # the hung call returned: the next frame is painted and seen
    out = worker._work(frame)
    worker._succeeded(frame, out)
    assert effect.calls == 1 and ctl._mean_ms is not None
