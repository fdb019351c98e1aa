"""The operator's view of the visitors: the frame state built from the moment's visitors,
the overlay mapped into the scene, and the V key and the OSC address that toggle it
through the one dispatcher."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.capture import ReplaySource
from installation.commands import Command
from installation.controls.keys import KeyControl
from installation.controls.osc import OscControl
from installation.display.overlay import Overlay
from installation.models import ModelStore
from installation.motion import MotionSignals
from installation.perception import Visitor, Visitors
from installation.runtime import Device
from installation.show.interaction import Moment
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show
from installation.show.report import perception_state, visitor_overlay


def people(mask: np.ndarray | None = None) -> Visitors:
    """Two visitors in a 4:3 camera frame (mask 64x48: the analysis keeps the aspect)."""
    walker = Visitor(id=4, x=0.25, y=0.5, head=(0.25, 0.37), height=0.3, width=0.1,
                     vx=1.0, vy=1.0, motion=0.812345, age_s=3.0, still_s=0.0)
    stander = Visitor(id=9, x=0.7, y=0.6, head=(0.7, 0.45), height=0.35, width=0.12,
                      motion=0.01, age_s=30.0, still_s=25.04, face=True)
    return Visitors((walker, stander), np.zeros((48, 64), np.float32) if mask is None else mask,
                    energy_raw=0.3012, energy=0.55, gain=1.83, presence=1.0, crowd=0.5,
                    segmenter="person network not pulled", ms=7.25)


def test_the_frame_state_copies_the_visitors() -> None:
    state = perception_state(people())
    assert state.count == 2 and state.network == "person network not pulled"
    assert (state.energy_raw, state.energy, state.gain) == (0.3012, 0.55, 1.83)
    assert (state.presence, state.crowd, state.ms) == (1.0, 0.5, 7.25)
    walker, stander = state.visitors
    assert (walker.id, walker.x, walker.y, walker.width, walker.height) == (4, 0.25, 0.5, 0.1,
                                                                           0.3)
    assert walker.motion == 0.812345 and not walker.face
    assert stander.still_s == 25.04 and stander.face


def test_the_overlay_lies_on_the_visitors_in_the_part_the_scene_shows() -> None:
    """A 4:3 camera in a 16:9 scene loses a 1/8 band at the top and at the bottom: heights
    grow by 4/3, the mask keeps its middle 36 of 48 rows."""
    mask = np.zeros((48, 64), np.float32)
    mask[6:42, 10:20] = np.arange(36, dtype=np.float32)[:, None] / 36  # rows say where
    overlay = visitor_overlay(people(mask), (160, 90))
    walker = overlay.marks[0]
    assert walker.box == pytest.approx((0.2, (0.35 - 0.125) / 0.75, 0.3, (0.65 - 0.125) / 0.75))
    assert walker.head == pytest.approx((0.25, (0.37 - 0.125) / 0.75))
    # 1 body height/s = 0.3 frame heights/s: 0.3 x 3/4 of the width, 0.3 / 0.75 of the height
    assert walker.velocity == pytest.approx((0.225, 0.4))
    assert overlay.mask.shape == (36, 64)
    assert overlay.mask[0, 15] == mask[6, 15] and overlay.mask[-1, 15] == mask[41, 15]
    assert overlay.marks[1].face and overlay.marks[1].id == 9
    # Nothing analysed yet: the marks as they are, no mask to cut.
    assert visitor_overlay(people(np.zeros((1, 1), np.float32)), (160, 90)).mask.shape == (1, 1)


def config_text(perception: bool) -> str:
    return ("[attract]\nenabled = true\n[headless]\nrecord = false\n"
            f"[perception]\nenabled = {str(perception).lower()}\n"
            "[osc]\nenabled = true\nhost = '127.0.0.1'\nport = 0\n"
            "[[scenes]]\nname = 'eyes'\nsize = [96, 64]\neffect = 'none'\n"
            "generator = 'eyes'\nlayers = [{source = 'camera'}, {source = 'gan'}]\n")


def make_show(tmp_path: Path, store: ModelStore, cpu: Device, perception: bool = True,
              max_frames: int = 1) -> Show:
    path = tmp_path / "config.toml"
    path.write_text(config_text(perception))
    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(4)]
    return Show(load_config(path), store, cpu,
                RunOptions(headless=True, max_frames=max_frames, duration_s=120.0),
                source=ReplaySource(frames, 30.0))


def close(show: Show) -> None:
    for surface in show.surfaces:
        surface.stop()


def test_the_frame_state_reads_the_moments_visitors(tmp_path: Path, store: ModelStore,
                                                    cpu: Device) -> None:
    show = make_show(tmp_path, store, cpu)
    try:
        build = show.reporter.build
        assert build(1.0, False, None, {}).perception is None  # no moment yet
        show.moment = Moment(MotionSignals(), False, people())
        state = build(1.0, False, None, {})
        assert state.perception == perception_state(people())
        assert state.stats_record()["perception"]["visitors"][0]["motion"] == 0.812
        show.moment = Moment(MotionSignals(), False)  # perception off
        assert build(1.0, False, None, {}).perception is None
        assert show.reporter.overlay() is None
        show.picture = np.zeros((64, 96, 3), np.uint8)
        show.moment = Moment(MotionSignals(), False, people())
        overlay = show.reporter.overlay()
        assert overlay is not None and len(overlay.marks) == 2
    finally:
        close(show)


def test_the_v_key_and_osc_toggle_the_overlay_through_the_dispatcher(
        tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool]) -> None:
    show = make_show(tmp_path, store, cpu)
    (osc,) = [s for s in show.surfaces if isinstance(s, OscControl)]
    osc.start()
    try:
        v_key = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_v, mod=0, unicode="v")
        keys = KeyControl(lambda: [v_key])
        assert not show.overlay_on
        show.dispatcher.drain([keys])
        assert show.overlay_on and show.reporter.build(1.0, False, None, {}).overlay
        show.dispatcher.drain([keys])
        assert not show.overlay_on
        client = SimpleUDPClient(*osc.address)
        client.send_message("/installation/overlay", 1)
        got: list[Command] = []
        assert until(lambda: bool(got.extend(osc.drain())) or bool(got), 10)
        show.dispatcher.drain([Replay(got)])
        assert show.overlay_on
        client.send_message("/installation/overlay", [])  # no argument: flip
        got.clear()
        assert until(lambda: bool(got.extend(osc.drain())) or bool(got), 10)
        show.dispatcher.drain([Replay(got)])
        assert not show.overlay_on and show.dispatcher.errors == 0
    finally:
        close(show)


class Replay:
    """Commands already received, as a surface."""

    def __init__(self, commands: list[Command]) -> None:
        self.commands = list(commands)

    def start(self) -> Replay:
        return self

    def stop(self) -> None: ...

    def drain(self) -> list[Command]:
        out, self.commands = self.commands, []
        return out


def test_without_perception_the_overlay_is_refused_in_one_line(
        tmp_path: Path, store: ModelStore, cpu: Device,
        caplog: pytest.LogCaptureFixture) -> None:
    show = make_show(tmp_path, store, cpu, perception=False)
    try:
        v_key = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_v, mod=0, unicode="v")
        with caplog.at_level(logging.WARNING, logger="installation"):
            show.dispatcher.drain([KeyControl(lambda: [v_key])])
        assert not show.overlay_on and show.dispatcher.errors == 1
        assert any("perception is off" in r.getMessage() for r in caplog.records)
    finally:
        close(show)


def test_the_shown_picture_carries_the_overlay_only_when_on(
        tmp_path: Path, store: ModelStore, cpu: Device) -> None:
    show = make_show(tmp_path, store, cpu, max_frames=3)
    show.run()
    assert show.on_screen is not None and show.on_screen.overlay is None
    show = make_show(tmp_path, store, cpu, max_frames=3)
    show.overlay_on = True
    show.run()
    assert show.on_screen is not None and isinstance(show.on_screen.overlay, Overlay)
    assert show.reporter.state.perception is not None  # the visitors reach the frame state
