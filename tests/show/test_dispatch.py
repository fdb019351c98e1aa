"""The dispatcher: every command applied to a (not yet running) show, and a command the
show cannot take costs one log line and a count, never an exception."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from installation.commands import Command, Name, parse
from installation.effects import MultiStyleEffect
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show


@pytest.fixture
def show(tmp_path: Path, store: ModelStore, cpu: Device) -> Show:
    path = tmp_path / "config.toml"
    path.write_text("[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\nstyles = [3, 9]\n"
                    "temporal = {enabled = true}\n"
                    "[[scenes]]\nname = 'two'\nsize = [96, 64]\neffect = 'none'\n")
    return Show(load_config(path), store, cpu, RunOptions(headless=True, max_frames=1))


def test_scenes_by_name_index_and_step(show: Show) -> None:
    apply = show.dispatcher.apply
    apply(Command(Name.SCENE, "two"))
    assert show.scene == "two" and show.worker.effect is show.effects["two"]
    apply(Command(Name.SCENE, 0))
    assert show.scene == "one"
    apply(Command(Name.SCENE_STEP, -1))  # wraps
    assert show.scene == "two"
    assert show.dispatcher.errors == 0


def test_styles_strength_and_temporal(show: Show) -> None:
    apply = show.dispatcher.apply
    style = next(e for e in show.effects["one"].effects  # type: ignore[attr-defined]
                 if isinstance(e, MultiStyleEffect))
    apply(parse("style", [12]))
    assert style.describe().endswith("12")
    apply(parse("style/weights", [3, 0.5, 9, 0.5]))
    apply(parse("strength", [0.25]))
    assert style.strength == 0.25
    apply(parse("temporal", [0]))
    assert show.worker.effect.describe() == style.describe()  # no "~steady": it is off
    apply(parse("temporal", []))
    assert show.worker.effect.describe().endswith("~steady")
    assert show.dispatcher.errors == 0


def test_switches_set_or_flip(show: Show) -> None:
    apply = show.dispatcher.apply
    hud, mirror = show.hud_on, show.mirror
    apply(parse("hud", []))
    apply(parse("mirror", []))
    assert (show.hud_on, show.mirror) == (not hud, not mirror)
    apply(parse("blackout", [1]))
    apply(parse("blackout", [1]))  # set, not flipped
    apply(parse("pause", [1]))
    assert show.blackout and show.paused
    apply(Command(Name.QUIT))
    assert show.report.shown == 0 and show.run().shown == 0  # quit before the first frame


@pytest.mark.parametrize(("command", "says"), [
    (Command(Name.SCENE, "nowhere"), "'nowhere' is not in list"),
    (Command(Name.SCENE, 7), "scene index 7: 0..1"),
    (parse("fullscreen", []), "no window"),
    (parse("reseed", []), "no generated imagery"),
    (parse("walk/idle_speed", [0.1]), "no generated imagery"),
    (parse("overlay", []), "no generated imagery"),
    (parse("dream/steps", [2]), "has no live dream"),
])
def test_what_the_show_cannot_take_is_one_log_line(
        show: Show, command: Command, says: str, caplog: pytest.LogCaptureFixture) -> None:
    scene = show.scene
    with caplog.at_level(logging.WARNING, logger="installation"):
        show.dispatcher.apply(command)
    assert show.dispatcher.errors == 1 and show.scene == scene
    assert [r for r in caplog.records if says in r.getMessage()]


def test_a_style_for_a_scene_without_a_style_network(show: Show,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    show.dispatcher.apply(Command(Name.SCENE, "two"))
    with caplog.at_level(logging.WARNING, logger="installation"):
        show.dispatcher.apply(parse("style", [4], source="osc"))
        show.dispatcher.apply(parse("temporal", [1], source="osc"))
    assert show.dispatcher.errors == 2
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("osc: style 4: scene 'two' has no style network") for m in said)
    assert any("has no temporal stabilisation" in m for m in said)


def test_a_flood_of_heavy_commands_is_cut_to_one_a_second(
        show: Show, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots over the network, a hundred at once: one is taken, the rest are said and
    dropped (each PNG takes the loop for tens of ms)."""
    monkeypatch.chdir(tmp_path)
    taken: list[object] = []
    monkeypatch.setattr(show, "snapshot", lambda picture: taken.append(picture))
    show.picture = np.zeros((8, 8, 3), np.uint8)
    for _ in range(100):
        show.dispatcher.apply(parse("snapshot", [], source="osc"))
    assert len(taken) == 1 and show.dispatcher.errors == 99


class Fails:
    """A surface that cannot deliver, then a command whose handler meets the unexpected."""

    def start(self) -> Fails:
        return self

    def stop(self) -> None: ...

    def drain(self) -> list[Command]:
        raise RuntimeError("the device went away")


def test_nothing_a_surface_or_a_handler_raises_ends_the_show(
        show: Show, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(step: int) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(show, "change_scene", broken)
    with caplog.at_level(logging.WARNING, logger="installation"):
        show.dispatcher.drain([Fails()])
        show.dispatcher.apply(parse("scene/step", [1], source="midi"))
    said = [r.getMessage() for r in caplog.records]
    assert any("Fails: RuntimeError: the device went away" in m for m in said)
    assert any(m.startswith("midi: scene/step 1: a bug in a handler") for m in said)
    assert show.dispatcher.errors == 1
