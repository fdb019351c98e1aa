"""The MIDI surface with a fake port behind the same interface as mido's (no MIDI system in
CI): messages become commands, a controller unplugged and plugged back in is found again,
and what is learned is written beside the config and read at the next start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mido
import pytest

from installation.commands import Command, Name
from installation.controls.midi import MidiConfig, MidiControl, Target
from installation.controls.midi.ports import MidoBackend
from installation.errors import UserError


class FakePort:
    def __init__(self, name: str) -> None:
        self.name = name
        self.pending: list[mido.Message] = []
        self.closed = False
        self.broken = False

    def iter_pending(self) -> Iterator[mido.Message]:
        if self.broken:
            raise OSError("device gone")
        out, self.pending = self.pending, []
        return iter(out)

    def close(self) -> None:
        self.closed = True


class FakeBackend:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.opened: list[FakePort] = []

    def inputs(self) -> list[str]:
        return list(self.names)

    def open(self, name: str) -> FakePort:
        port = FakePort(name)
        self.opened.append(port)
        return port


CONFIG = MidiConfig(enabled=True, port="nanokontrol",
                    cc=[{"control": 16, "command": "strength"}],  # type: ignore[list-item]
                    notes=[{"note": 36, "command": "blackout"}])  # type: ignore[list-item]


def test_messages_become_commands_and_a_replugged_controller_is_found(tmp_path: Path) -> None:
    backend = FakeBackend(["Midi Through:0", "nanoKONTROL2:0"])
    midi = MidiControl(CONFIG, tmp_path / "learned.json", backend)
    midi.look()
    port = backend.opened[0]
    assert port.name == "nanoKONTROL2:0"  # by its name, any case
    port.pending += [mido.Message("control_change", control=16, value=127),
                     mido.Message("note_on", note=36, velocity=90)]
    assert midi.drain() == [Command(Name.STRENGTH, 1.0), Command(Name.BLACKOUT, None)]
    backend.names.remove("nanoKONTROL2:0")  # unplugged
    midi.look()
    assert port.closed and midi.port is None and midi.drain() == []
    backend.names.append("nanoKONTROL2:0")  # plugged back in
    midi.look()
    assert midi.port is not None and midi.port is not port
    midi.port.broken = True  # type: ignore[attr-defined]  # fails mid-read
    assert midi.drain() == [] and midi.port is None
    midi.look()
    assert midi.port is not None


def test_no_controller_is_a_line_not_a_stop(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    midi = MidiControl(CONFIG, tmp_path / "learned.json", FakeBackend(["Midi Through:0"]))
    midi.look()
    midi.look()
    assert midi.port is None and midi.drain() == []
    assert len([r for r in caplog.records if "no input port" in r.getMessage()]) == 1


def test_what_is_learned_is_kept_for_the_next_start(tmp_path: Path) -> None:
    learned = tmp_path / "learned.json"
    backend = FakeBackend(["nanoKONTROL2:0"])
    midi = MidiControl(CONFIG, learned, backend)
    midi.look()
    midi.learn(Target.parse("walk/idle_speed=0..0.4"))
    port = backend.opened[0]
    port.pending += [mido.Message("control_change", control=16, value=0),
                     mido.Message("control_change", control=16, value=127)]
    # The first message is learned (it now moves idle_speed); the next is a command.
    assert midi.drain() == [Command(Name.WALK, ("idle_speed", 0.4))]
    on_disk = json.loads(learned.read_text())
    assert [b["command"] for b in on_disk["cc"]] == ["walk/idle_speed"]
    again = MidiControl(CONFIG, learned, FakeBackend(["nanoKONTROL2:0"]))
    assert again.mapping.commands([mido.Message("control_change", control=16, value=127)]) \
        == [Command(Name.WALK, ("idle_speed", 0.4))]  # the learned binding won


def test_a_bad_learned_file_is_one_line(tmp_path: Path) -> None:
    learned = tmp_path / "learned.json"
    learned.write_text('{"cc": [{"control": 500, "command": "strength"}]}')
    with pytest.raises(UserError) as caught:
        MidiControl(CONFIG, learned, FakeBackend([]))
    assert str(learned) in str(caught.value) and "\n" not in str(caught.value)


def test_without_an_alsa_sequencer_there_are_no_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("installation.controls.midi.ports.ALSA_SEQUENCER", "/no/such/seq")
    assert MidoBackend().inputs() == []  # and ALSA is not asked (it prints on stderr)


def test_the_readme_example_is_a_valid_config() -> None:
    import tomllib

    readme = (Path(__file__).parents[3] / "README.md").read_text()
    section = readme.split("### MIDI", 1)[1]
    example = section.split("```toml", 1)[1].split("```", 1)[0]
    cfg = MidiConfig.model_validate(tomllib.loads(example)["midi"])
    assert cfg.enabled and len(cfg.cc) == 1 and len(cfg.notes) == 2
