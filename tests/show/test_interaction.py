"""The interactive half in the running show: motion → walk → GAN picture → layers, attract
mode coming and going, the operator's keys, and the telemetry it adds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import pytest
from fakes import Room

from installation.compositor.layers import LayerConfig
from installation.dream.live import DreamEffect
from installation.effects import Chain
from installation.models import ModelStore
from installation.motion import MotionSignals
from installation.perception import Visitors
from installation.runtime import Device
from installation.show import composition
from installation.show.config import Config
from installation.show.interaction import Interaction
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

SCENES = (
    "[[scenes]]\nname = 'eyes'\nsize = [96, 64]\nstyles = [3]\ngenerator = 'eyes'\n"
    "layers = [{source = 'camera'}, {source = 'gan', blend = 'screen', opacity = 0.9}]\n"
    "[[scenes]]\nname = 'faces'\nsize = [96, 64]\nstyles = [1, 2]\ngenerator = 'faces'\n"
    "paint_gan = true\ntemporal = {enabled = true}\n"
    "layers = [{source = 'camera'}, {source = 'gan', placement = 'grid', grid = [3, 2]}]\n"
    "[[scenes]]\nname = 'plain'\nsize = [96, 64]\nstyles = [5]\n"
)


def config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "config.toml"
    path.write_text("[display]\nfullscreen = false\nwidth = 192\nheight = 128\n"
                    "[recording]\nwidth = 192\nheight = 128\nfps = 10.0\n" + extra + SCENES)
    return load_config(path)


def test_interaction_walks_renders_and_switches(
    tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool]
) -> None:
    cfg = config(tmp_path)
    room = Room().start()
    play = Interaction(cfg, room, cpu, store, {}, cfg.scenes[0], time.monotonic()).start()
    try:
        def moment_with_picture(generator: str) -> bool:
            m = play.update(time.monotonic())
            return m.gan is not None and m.generator == generator

        assert until(lambda: moment_with_picture("eyes"))
        m = play.update(time.monotonic())
        assert m.walk is not None and m.walk.labels is not None and len(m.walk.labels) == 8
        assert m.gan is not None and m.gan.image.shape == (64, 96, 3)  # the scene's size
        assert m.signals.energy < 0.05 and not m.attract  # an empty room: nobody moves
        assert m.walk.speed < cfg.walk.idle_speed + 0.05 * cfg.walk.motion_speed  # drift only

        assert play.switch_generator() == "faces"
        assert until(lambda: moment_with_picture("faces"))
        m = play.update(time.monotonic())
        assert m.walk is not None and m.walk.labels is None  # faces take no labels
        seed = m.seed
        assert play.reseed() == seed + 1

        play.scene = cfg.scenes[2]  # no generator, attract not on: nothing generated
        m = play.update(time.monotonic())
        assert m.generator == "" and m.walk is None
        play.schedule.force(True)  # attract shows the attract generator even here
        assert until(lambda: moment_with_picture(cfg.attract.generator))
    finally:
        play.stop()
        room.stop()


def test_show_with_gan_layers_records_and_reports(
    tmp_path: Path, store: ModelStore, cpu: Device
) -> None:
    cfg = config(tmp_path)
    room = Room()
    room.visitor = True
    rec, stats = tmp_path / "gan.mp4", tmp_path / "stats.jsonl"
    # A run of 120 shown frames (4 s at the room's 30 frames/s), not of 4 s of a clock that
    # a loaded machine may spend starting up: the late half below is >= 2 s of the room.
    show = Show(cfg, store, cpu, RunOptions(headless=True, duration_s=120.0, max_frames=120,
                                            record=rec, stats=stats), source=room)
    report = show.run()

    assert report.recorded_frames > 0 and report.effect_errors == 0
    lines = [json.loads(ln) for ln in stats.read_text().splitlines()]
    assert lines and all(r["generator"] == "eyes" for r in lines)
    late = lines[len(lines) // 2:]
    assert max(r["motion"]["energy"] for r in late) > 0.05  # the visitor is seen
    assert max(r["motion"]["presence"] for r in late) > 0.5
    assert all(0.0 <= r["motion"]["centroid"][0] <= 1.0 for r in lines)
    speeds = [r["walk_speed"] for r in late]
    assert min(speeds) >= cfg.walk.idle_speed  # never still
    assert any(r["gan_ms"] is not None and r["gan_ms"] > 0 for r in late)
    assert all("compose" in r["stages_ms"] for r in lines)
    # The picture shown is the composite: a generated layer over the painted camera.
    assert show.moment is not None and show.moment.gan is not None
    assert show.picture is not None and show.picture.shape == (64, 96, 3)


def test_attract_comes_with_nobody_and_goes_when_someone_arrives(
    tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool]
) -> None:
    cfg = config(tmp_path, "[attract]\nafter_s = 1.0\nfade_in_s = 0.2\n"
                           "[motion]\npresence_hold_s = 1.0\n")
    room = Room()
    show = Show(cfg, store, cpu, RunOptions(headless=True, duration_s=60.0), source=room)
    seen: dict[str, float] = {}

    def visit() -> None:
        try:
            if until(lambda: show.composition.attract, 30):
                seen["attract"] = time.monotonic()
            room.visitor = True
            if until(lambda: not show.composition.attract, 30):
                seen["back"] = time.monotonic()
        finally:
            show.stop()

    threading.Thread(target=visit, daemon=True).start()
    show.run()

    assert "attract" in seen and "back" in seen  # it came, and went when someone arrived
    assert show.play is not None and show.play.schedule.changes == 2
    # No timing bound here (a loaded machine may lag): test_attract checks the schedule.


def test_keys_reseed_switch_generator_and_attract(
    tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool]
) -> None:
    cfg = config(tmp_path)
    show = Show(cfg, store, cpu, RunOptions(duration_s=120.0), source=Room())
    assert show.play is not None
    play = show.play

    def press(*keys: int) -> None:
        until(lambda: show.report.shown > 0, 60)
        for key in keys:  # applied in order, between two frames
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, mod=0,
                                             unicode=""))

    keys = (pygame.K_r, pygame.K_g, pygame.K_a, pygame.K_h, pygame.K_DOWN, pygame.K_RIGHT,
            pygame.K_t)
    threading.Thread(target=press, args=keys, daemon=True).start()
    show.run()

    assert play.walks[("eyes", "eyes")].seed == cfg.walk.seed + 1  # R
    assert play.chosen == {"eyes": "faces"}  # G
    assert play.schedule.changes >= 1  # A started attract by hand
    assert show.scene == "faces" and show.hud_on
    # Right steps the scene's style and the effect that paints its generated pictures.
    assert show.effects["faces"].describe().endswith("2")  # "1→2" while crossfading
    faces = show.effects["faces"]  # T turned its temporal stabilisation off
    assert isinstance(faces, Chain) and faces.temporal is not None and not faces.temporal.on
    assert play.painters["faces"].describe().endswith("2")
    assert show.picture is not None and show.picture.shape == (64, 96, 3)  # faces' size


def test_attract_zooms_the_dream_through_the_scenes_own_layers(
    tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A live dream scene: attract switches its zoom on and composes its `attract_layers`
    (the dreamt camera under the GAN) instead of [attract]'s; leaving attract stops both."""
    cfg = config(tmp_path, "[[scenes]]\nname = 'dream'\nsize = [64, 48]\neffect = 'dream'\n"
                 "dream = {steps = 1, zoom_per_s = 0.2}\n"
                 "attract_layers = [{source = 'camera'}, {source = 'gan', opacity = 0.5}]\n")
    used: list[object] = []
    real = composition.compose

    def spy(layers: list[LayerConfig], *args: object, **kw: object) -> object:
        used.append(layers)
        return real(layers, *args, **kw)

    monkeypatch.setattr(composition, "compose", spy)
    show = Show(cfg, store, cpu, RunOptions(headless=True, duration_s=120.0), source=Room())
    dream = show.effects["dream"]
    assert isinstance(dream, DreamEffect) and not dream.zooming
    assert show.play is not None
    seen: dict[str, bool] = {}

    def drive() -> None:
        try:
            assert until(lambda: show.report.shown > 0, 60)
            show.play.schedule.force(True)
            seen["on"] = until(lambda: show.composition.attract and dream.zooming, 30)
            used.clear()
            seen["layers"] = until(lambda: bool(used), 30) and \
                used[-1] == cfg.scenes[0].attract_layers
            show.play.schedule.force(False)
            seen["off"] = until(lambda: not show.composition.attract and not dream.zooming, 30)
        finally:
            show.stop()

    threading.Thread(target=drive, daemon=True).start()
    show.run()
    assert seen == {"on": True, "layers": True, "off": True}


def test_a_live_edit_reaches_the_walks_and_attract(tmp_path: Path, store: ModelStore,
                                                   cpu: Device) -> None:
    path = tmp_path / "config.toml"  # written by config()
    cfg = config(tmp_path)
    show = Show(cfg, store, cpu, RunOptions(headless=True), source=Room())
    play = show.play
    assert play is not None
    play._walk(show.scene_cfg, "eyes")  # a walk exists for 'eyes'
    assert ("eyes", "eyes") in play.walks
    path.write_text("[attract]\nafter_s = 5.0\n" +
                    path.read_text().replace("styles = [3]", "styles = [4]"))
    assert show.reload(path)
    assert play.cfg is show.cfg and play.schedule.cfg.after_s == 5.0
    assert ("eyes", "eyes") not in play.walks  # the changed scene's walk starts afresh
    assert show.effects["eyes"].describe() == "4" and show.worker.effect is show.effects["eyes"]
    # Turning every generated layer and attract off needs the threads gone: refused.
    path.write_text("[attract]\nenabled = false\n[[scenes]]\nname = 'plain'\n")
    assert not show.reload(path)
    assert show.config_error is not None and "needs a restart" in show.config_error
    assert show.cfg.scenes[0].name == "eyes"  # the last good config runs on


def test_stalled_motion_perception_and_gan_threads_are_restarted(
    tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool]
) -> None:
    """Analyses and a render that never return: the watchdog leaves the threads behind,
    fresh ones take over (the GAN's last picture kept), and no more than `most` times."""
    cfg = config(tmp_path)
    room = Room().start()
    play = Interaction(cfg, room, cpu, store, {}, cfg.scenes[0], time.monotonic()).start()
    release = threading.Event()
    # each hung call entered
    analysing, perceiving, rendering = threading.Event(), threading.Event(), threading.Event()
    try:
        assert until(lambda: play.update(time.monotonic()).gan is not None)
        motion, renderer = play.motion, play.renderer
        stuck = motion.analyzer
        real_update = stuck.update

        def hang(rgb: np.ndarray, t: float) -> MotionSignals:
            analysing.set()
            assert release.wait(60)
            return real_update(rgb, t)

        stuck.update = hang  # type: ignore[method-assign]
        perception = play.perception
        assert perception is not None
        perceiver = perception.perceiver
        real_perceive = perceiver.update

        def hang_perceiving(rgb: np.ndarray, t: float) -> Visitors:
            perceiving.set()
            assert release.wait(60)
            return real_perceive(rgb, t)

        perceiver.update = hang_perceiving  # type: ignore[method-assign]
        real = play.generators["eyes"]

        class Hangs:
            name, n_labels = real.name, real.n_labels

            def render(self, z: object, labels: object) -> object:
                rendering.set()
                assert release.wait(60)
                return real.render(z, labels)  # type: ignore[arg-type]

        renderer.swap(Hangs())  # type: ignore[arg-type]
        play.renderer.submit(np.zeros(100, np.float32), np.ones(8, np.float32) / 8)
        # Both threads are inside the call that hangs (not in an ordinary one that may end
        # before the watchdog looks): `busy_since` is that call's start until it returns.
        assert analysing.wait(30) and perceiving.wait(30) and rendering.wait(30)
        assert motion.busy_since is not None and renderer.busy_since is not None
        assert perception.busy_since is not None
        later = time.monotonic() + 10.0
        analysed = play.motion.slot.peek()[0]
        assert play.restart_stalled(later, 5.0, most=1) == ["motion", "perception", "gan"]
        # Restarted in place, by generation: the same stages, fresh threads.
        assert play.motion is motion and play.renderer is renderer
        assert play.perception is perception
        assert until(lambda: perception.perceiver is not perceiver)  # fresh, in its thread
        assert play.renderer.slot.peek()[1] is not None  # the last picture stays
        assert until(lambda: play.motion.slot.peek()[0] > analysed)  # analysing again
        seq = play.renderer.renders
        assert until(lambda: play.update(time.monotonic()).gan is not None
                     and play.renderer.renders > seq)  # rendering again, real generator
        assert play.restart_stalled(later, 5.0, most=1) == []  # the cap: no more restarts
        assert play.restarts == {"motion": 1, "perception": 1, "gan": 1}
    finally:
        release.set()
        play.stop()
        room.stop()
