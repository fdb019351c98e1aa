"""Presets: saved whole to a file beside the config, read back, refused in one line when
the file is bad; in a running show a preset saved and recalled brings back the scene, the
style blend, the strength, the walk's settings and seed."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from installation.capture import ReplaySource
from installation.commands import Command, Name
from installation.effects import MultiStyleEffect, members, strength_of
from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show
from installation.show.presets import Preset, Presets, PresetsConfig, presets_path


def frames(n: int = 8) -> list[np.ndarray]:
    ramp = np.linspace(0, 255, 96, dtype=np.float32)[None, :, None]
    return [np.broadcast_to(ramp, (64, 96, 3)).astype(np.uint8) // (1 + i % 3)
            for i in range(n)]


def preset(name: str = "calm", **kw: object) -> Preset:
    return Preset(name, "eyes", **kw)  # type: ignore[arg-type]


def test_saved_whole_and_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "presets.json"
    presets = Presets.load(path)
    assert presets.names == ()
    presets.save(preset("calm", style={"3": 1.0}, strength=0.5, seed=7,
                        walk={"idle_speed": 0.1}, dream={"steps": 2.0}))
    presets.save(preset("wild", strength=1.0))
    presets.save(preset("calm", strength=0.25))  # replaced, keeps its place
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["presets.json"]
    again = Presets.load(path)
    assert again.names == ("calm", "wild")
    assert again.find("calm").strength == 0.25 and again.find(2).name == "wild"
    for missing in ("nope", 3, 0):
        with pytest.raises(ValueError, match="no preset"):
            again.find(missing)


def test_a_preset_is_the_commands_that_bring_the_show_there() -> None:
    p = preset(style={"3": 0.5, "7": 0.5}, strength=0.4, walk={"idle_speed": 0.2}, seed=9,
               dream={"feedback": 0.3})
    assert [(c.name, c.value) for c in p.commands()] == [
        (Name.SCENE, "eyes"), (Name.WEIGHTS, {"3": 0.5, "7": 0.5}), (Name.STRENGTH, 0.4),
        (Name.WALK, ("idle_speed", 0.2)), (Name.RESEED, 9), (Name.DREAM, ("feedback", 0.3))]
    assert [c.name for c in preset().commands()] == [Name.SCENE]  # nothing else kept


@pytest.mark.parametrize("text", [
    "{", "[]", '{"presets": 3}', '{"presets": [{"name": "a"}]}',
    '{"presets": [{"name": "a", "scene": "s", "colour": 1}]}',
    '{"presets": [{"name": "a", "scene": "s", "walk": {"speed": 1}}]}',
    '{"presets": [{"name": "a", "scene": "s", "seed": -1}]}',
    '{"presets": [{"name": "", "scene": "s"}]}',
    '{"presets": [{"name": "a", "scene": "s", "strength": "high"}]}',
])
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "presets.json"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        Presets.load(path)
    said = str(caught.value)
    assert str(path) in said and "\n" not in said


def test_the_file_lies_beside_the_config(tmp_path: Path) -> None:
    cfg = PresetsConfig()
    assert presets_path(cfg, tmp_path / "config.toml") == tmp_path / "presets.json"
    assert presets_path(PresetsConfig(file="/srv/p.json"), tmp_path / "c.toml") == \
        Path("/srv/p.json")


class Operator:
    """An input surface for the test: commands put in `inbox` reach the loop like OSC's.
    `turns` counts the loop's drains since the last command was taken."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.turns = 0

    def start(self) -> Operator:
        return self

    def stop(self) -> None:
        """Nothing to stop."""

    def drain(self) -> list[Command]:
        self.turns = 0 if not self.inbox.empty() else self.turns + 1  # before it empties
        out = []
        while not self.inbox.empty():
            out.append(self.inbox.get())
        return out


CONFIG = (
    "[attract]\nenabled = false\n[headless]\nrecord = false\n"
    "[[scenes]]\nname = 'eyes'\nsize = [96, 64]\nstyles = [3, 9]\ngenerator = 'eyes'\n"
    "layers = [{source = 'camera'}, {source = 'gan', blend = 'screen', opacity = 0.9}]\n"
    "[[scenes]]\nname = 'plain'\nsize = [96, 64]\nstyles = [1]\n")


def test_saved_and_recalled_in_the_running_show(
        tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    show = Show(load_config(path), store, cpu,
                RunOptions(headless=True, duration_s=120, config_path=path),
                source=ReplaySource(frames(), 30.0))
    operator = Operator()
    show.surfaces.append(operator)
    thread = threading.Thread(target=show.run, daemon=True)
    thread.start()

    def apply(name: Name, value: object = None) -> None:
        """One command through a surface, as the loop takes them; back once applied."""
        operator.inbox.put(Command(name, value, "test"))
        assert until(lambda: operator.inbox.empty() and operator.turns >= 2, 10)

    def style_target() -> list[float]:
        (painter,) = [e for e in members(show.worker.effect) if isinstance(e, MultiStyleEffect)]
        return [round(float(w), 4) for w in painter.mixer.target]

    try:
        assert until(lambda: show.report.shown > 3, 60)
        apply(Name.WEIGHTS, {"3": 0.25, "9": 0.75})
        apply(Name.STRENGTH, 0.6)
        apply(Name.WALK, ("idle_speed", 0.07))
        apply(Name.RESEED, 41)
        apply(Name.PRESET_SAVE, "dusk")
        saved_style = style_target()
        assert show.presets.names == ("dusk",)
        on_disk = json.loads((tmp_path / "presets.json").read_text())["presets"][0]
        assert on_disk["scene"] == "eyes" and on_disk["seed"] == 41
        assert on_disk["walk"]["idle_speed"] == pytest.approx(0.07)

        apply(Name.SCENE, "plain")
        apply(Name.SCENE, "eyes")  # (a scene's effect keeps its settings: change them)
        apply(Name.STYLE, 9)
        apply(Name.STRENGTH, 1.0)
        apply(Name.WALK, ("idle_speed", 0.3))
        apply(Name.RESEED, 5)
        apply(Name.SCENE, "plain")
        errors = show.dispatcher.errors
        apply(Name.PRESET, "dusk")
        assert show.dispatcher.errors == errors  # every part applied
        assert show.scene == "eyes" and strength_of(show.worker.effect) == 0.6
        assert style_target() == saved_style
        assert show.play is not None
        walk = show.play.current_walk()
        assert walk.seed == 41 and walk.cfg.idle_speed == pytest.approx(0.07)
        assert until(lambda: show.reporter.state.presets == ("dusk",), 10)
        apply(Name.PRESET, 1)  # by number (the key 1)
        apply(Name.PRESET, "nowhere")  # said, refused, nothing else
        assert show.dispatcher.errors == errors + 1
    finally:
        show.stop()
        thread.join(30)
