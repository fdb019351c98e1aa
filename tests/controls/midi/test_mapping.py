"""MIDI messages → commands: knobs through their range and curve (the newest of a batch),
keys to their command, channels honoured, refusals said, and learning."""

from __future__ import annotations

import logging

import mido
import pytest

from installation.commands import Command, Name
from installation.controls.midi.config import CcBinding, MidiConfig, NoteBinding
from installation.controls.midi.mapping import Mapping, Target


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=control, value=value, channel=channel)


def note(n: int, velocity: int = 100, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=n, velocity=velocity, channel=channel)


def test_a_knob_spans_its_range_through_its_curve() -> None:
    m = Mapping([CcBinding(control=1, command="strength"),
                 CcBinding(control=2, command="walk/idle_speed", min=0.0, max=0.5,
                           curve="square"),
                 CcBinding(control=3, command="style", min=0, max=25, whole=True)], [])
    got = m.commands([cc(1, 0), cc(2, 127), cc(3, 64)])
    assert got[0] == Command(Name.STRENGTH, 0.0)
    assert got[1] == Command(Name.WALK, ("idle_speed", 0.5))
    assert got[2] == Command(Name.STYLE, 13) and got[2].source == "midi"
    half = m.commands([cc(2, 64)])[0].value[1]
    assert half == pytest.approx(0.5 * (64 / 127) ** 2)  # square: finer at the bottom


def test_only_the_newest_of_a_knob_in_a_batch_counts() -> None:
    m = Mapping([CcBinding(control=1, command="strength")], [])
    got = m.commands([cc(1, v) for v in range(0, 128, 8)] + [cc(1, 127)])
    assert got == [Command(Name.STRENGTH, 1.0)]


def test_keys_send_their_command_and_channels_are_kept_apart() -> None:
    m = Mapping([], [NoteBinding(note=36, command="blackout"),
                     NoteBinding(note=37, command="preset", value="dusk"),
                     NoteBinding(note=38, channel=9, command="reseed")])
    assert m.commands([note(36), note(36, velocity=0), note(37), note(38, channel=0),
                       note(38, channel=9), note(99)]) == [
        Command(Name.BLACKOUT, None), Command(Name.PRESET, "dusk"), Command(Name.RESEED, None)]


def test_a_value_the_command_refuses_is_a_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "installation.controls.midi")
    m = Mapping([CcBinding(control=1, command="strength", min=0.0, max=5.0)], [])
    assert m.commands([cc(1, 127)]) == []
    assert m.commands([cc(1, 126)]) == []
    assert len([r for r in caplog.records if "strength" in r.getMessage()]) == 1


@pytest.mark.parametrize("bad", [{"command": "quit"}, {"command": "colour"},
                                 {"command": "strength", "control": 128}])
def test_the_config_refuses_bad_bindings(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MidiConfig.model_validate({"cc": [{"control": 1, **bad}]})


def test_learning_binds_the_next_knob_or_key() -> None:
    m = Mapping([CcBinding(control=7, command="strength")], [])
    m.arm(Target.parse("walk/motion_speed=0..2"))
    assert m.learn(note(60, velocity=0)) is None  # a key released binds nothing
    binding = m.learn(cc(7, 10))
    assert isinstance(binding, CcBinding) and m.armed is None
    assert (binding.command, binding.min, binding.max) == ("walk/motion_speed", 0.0, 2.0)
    assert m.commands([cc(7, 127)]) == [Command(Name.WALK, ("motion_speed", 2.0))]  # replaced
    m.arm(Target.parse("preset=3"))
    m.learn(note(40))
    assert m.commands([note(40)]) == [Command(Name.PRESET, 3)]
    m.arm(Target.parse("style"))
    m.learn(cc(8, 0))
    assert m.commands([cc(8, 127)]) == [Command(Name.STYLE, 25)]  # learned whole, 0..25


@pytest.mark.parametrize("bad", ["quit", "nothing", "strength=a..b", "strength=0..inf"])
def test_learning_refuses_what_cannot_be_bound(bad: str) -> None:
    with pytest.raises(ValueError):
        Target.parse(bad)
