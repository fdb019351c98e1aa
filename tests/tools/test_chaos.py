"""The chaos soak's parts (the soak itself runs for minutes: `python main.py soak --chaos`,
figures in docs/soak.md): its schedule gives every fault, its camera dies and comes back
through the real reconnect logic, its hanging effect hangs once per `hang()`, and its
settings load over the shipped config."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from installation.capture import CameraSource
from installation.show.loading import load_config
from installation.tools.chaos import (
    FAULT_S,
    KINDS,
    WARMUP_S,
    ClipCamera,
    Hanging,
    overrides,
    schedule,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_schedule_gives_every_fault_after_the_warm_up() -> None:
    plan = schedule(600.0, 20.0, random.Random(3), disk=True)
    kinds = [k for _, k in plan]
    assert set(kinds) == {*KINDS, "disk-full"} and kinds.count("disk-full") == 1
    assert all(2 * WARMUP_S <= t <= 600.0 - FAULT_S for t, _ in plan)  # baseline first
    assert plan == sorted(plan)
    assert plan == schedule(600.0, 20.0, random.Random(3), disk=True)  # seeded
    assert "disk-full" not in {k for _, k in schedule(600.0, 20.0, random.Random(3), False)}


def test_the_camera_dies_and_comes_back(until: Callable[..., bool]) -> None:
    frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(10)]
    alive = threading.Event()
    alive.set()
    source = CameraSource("chaos", lambda: ClipCamera(frames, alive.is_set),
                          stall_timeout_s=0.3, reconnect_min_s=0.05, reconnect_max_s=0.2)
    source.start()
    try:
        assert until(lambda: source.status == "live" and source.frames > 3, 30)
        alive.clear()
        assert until(lambda: source.status == "reconnecting", 30)
        alive.set()
        assert until(lambda: source.status == "live" and source.reconnects >= 1, 30)
    finally:
        source.stop()


def test_the_effect_hangs_once_per_hang(until: Callable[..., bool]) -> None:
    calls: list[int] = []
    effect = Hanging(lambda image, t: calls.append(1) or image)  # type: ignore[arg-type]
    picture = np.zeros((4, 4, 3), np.uint8)
    assert effect(picture, 0.0) is picture  # no hang asked: straight through
    effect.hang()
    done = threading.Event()
    threading.Thread(target=lambda: (effect(picture, 0.0), done.set()), daemon=True).start()
    assert not done.wait(0.2)  # hanging (a guard, not a measurement)
    effect.release()
    assert done.wait(30) and len(calls) == 2
    assert effect(picture, 0.0) is picture and len(calls) == 3  # once per hang()


def test_its_settings_load_over_the_shipped_config() -> None:
    cfg = load_config(ROOT / "config.toml", overrides(9999))
    assert cfg.osc.enabled and cfg.osc.port == 9999 and cfg.status.enabled
    assert cfg.watchdog.restarts_before_bypass == 100 and not cfg.playlist.enabled
