"""Faults in the effect stage while the show runs headless: a stage that hangs is
restarted and then bypassed, a stage that raises every frame is bypassed — and in both the
show goes on, frames passing through unpainted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fakes import Hangs, SlowMachine

from installation.effects.worker import EffectWorker
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

CONFIG = ("[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
          "[headless]\nrecord = false\n[watchdog]\nstall_s = {stall_s}\n"
          "restarts_before_bypass = 2\n[[scenes]]\nname = 'one'\nsize = [96, 64]\n"
          "styles = [3]\n")
HANG_S = 0.3  # the stall time where a call hangs for good, s
NO_STALL_S = 600.0  # the stall time elsewhere: no real call, however slow the machine, gets there




class Raises(SlowMachine):
    def __init__(self, inner: object) -> None:
        super().__init__(inner, ms_per_kpx=0.0)
        self.calls = 0

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        self.calls += 1
        raise RuntimeError("out of paint")


def run_until(show: Show, done: Callable[[], bool], until: Callable[..., bool]) -> bool:
    result: dict[str, bool] = {}

    def watch() -> None:
        try:
            result["done"] = until(done, 60)
        finally:
            show.stop()

    threading.Thread(target=watch, daemon=True).start()
    show.run()
    return result.get("done", False)


def test_a_hanging_stage_is_restarted_then_bypassed(
        tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool],
        caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "c.toml").write_text(CONFIG.format(stall_s=HANG_S))
    show = Show(load_config(tmp_path / "c.toml"), store, cpu,
                RunOptions(headless=True, duration_s=120))
    hang = Hangs(show.effects["one"])
    show.effects["one"] = hang
    try:
        with caplog.at_level(logging.ERROR, logger="installation"):
            assert run_until(show, lambda: show.report.shown > 10, until)
    finally:
        hang.release.set()  # let the abandoned threads finish
    stalls = [r.getMessage() for r in caplog.records if "stalled" in r.getMessage()]
    assert len(stalls) == 2 and "bypassed" in stalls[-1] and "bypassed" not in stalls[0]
    assert hang.calls == 2  # one call per thread; then frames passed through
    assert show.picture is not None and show.picture.shape[:2] != (64, 96)  # unpainted


def test_a_stage_that_raises_every_frame_is_bypassed(
        tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool],
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EffectWorker, "failure_limit", 5)
    (tmp_path / "c.toml").write_text(CONFIG.format(stall_s=NO_STALL_S))
    show = Show(load_config(tmp_path / "c.toml"), store, cpu,
                RunOptions(headless=True, duration_s=120))
    broken = Raises(show.effects["one"])
    show.effects["one"] = broken
    with caplog.at_level(logging.ERROR, logger="installation"):
        assert run_until(show, lambda: show.report.shown > 20, until)
    assert broken.calls == 5  # then bypassed: no more calls
    assert any("keeps failing" in r.getMessage() for r in caplog.records)
    assert show.report.effect_errors == 5


class OutOfMemoryAbove(SlowMachine):
    """The real effect on a GPU with too little memory: above `max_px` pixels a call
    fails as CUDA does."""

    def __init__(self, inner: object, max_px: float) -> None:
        super().__init__(inner, ms_per_kpx=0.0)
        self.max_px = max_px

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        w, h = self.size
        if w * h > self.max_px:
            raise RuntimeError("CUDA failure 2: out of memory")
        return super().__call__(image, t)


# A GPU stand-in: the CUDA device kind (what the show's choices follow), the CPU provider.
FAKE_GPU = Device("cuda", ["CPUExecutionProvider"], "test stand-in for a GPU", 2)


def test_out_of_gpu_memory_steps_the_size_down(tmp_path: Path, store: ModelStore,
                                               until: Callable[..., bool]) -> None:
    (tmp_path / "c.toml").write_text(CONFIG.format(stall_s=NO_STALL_S))
    show = Show(load_config(tmp_path / "c.toml"), store, FAKE_GPU,
                RunOptions(headless=True, duration_s=120))
    small = OutOfMemoryAbove(show.effects["one"], max_px=80 * 52)
    show.effects["one"] = small
    assert run_until(show, lambda: show.report.shown > 10, until)
    w, h = small.size
    assert w * h <= 80 * 52 and show.scenes.device.kind == "cuda"  # smaller, still on the GPU


def test_out_of_memory_at_the_floor_moves_to_the_cpu(tmp_path: Path, store: ModelStore,
                                                     until: Callable[..., bool],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "c.toml").write_text(CONFIG.format(stall_s=NO_STALL_S))
    show = Show(load_config(tmp_path / "c.toml"), store, FAKE_GPU,
                RunOptions(headless=True, duration_s=120))
    show.effects["one"] = OutOfMemoryAbove(show.effects["one"], max_px=0)  # never fits
    with caplog.at_level(logging.ERROR, logger="installation"):
        assert run_until(show, lambda: show.scenes.device.kind == "cpu"
                         and show.report.shown > 10, until)
    assert any("moving the effects to the CPU" in r.getMessage() for r in caplog.records)
    assert not isinstance(show.effects["one"], OutOfMemoryAbove)  # built again, on the CPU
