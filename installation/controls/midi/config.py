"""`[midi]`: which controller, and what its knobs and keys do.

    [midi]
    enabled = true
    port = "nanoKONTROL"            # part of the input port's name ("" = the first one)
    [[midi.cc]]                     # a knob or fader → a continuous parameter
    control = 16                    # CC number 0..127
    command = "strength"            # any command that takes a number
    min = 0.0
    max = 1.0
    curve = "linear"                # linear | square (fine at the low end) | root
    [[midi.notes]]                  # a key or pad → a command
    note = 36
    command = "blackout"            # no value: a toggle flips, a trigger fires
    [[midi.notes]]
    note = 37
    command = "preset"
    value = "dusk"

Bindings learned live (`midi/learn`) are kept in `learned` beside the config, and added to
these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from installation import commands
from installation.section import Section

Curve = Literal["linear", "square", "root"]
CHANNELS = "0..15, or -1 for any"


def _command(v: str) -> str:
    if not commands.known(v) or v == commands.Name.QUIT.value:
        raise ValueError(f"unknown command {v!r}; see the README's OSC table (without "
                         "/installation/)")
    return v


class CcBinding(Section):
    """A controller's knob or fader (control change) → a number for `command`."""

    control: int = Field(ge=0, le=127, description="CC number")
    channel: int = Field(-1, ge=-1, le=15, description=f"MIDI channel {CHANNELS}")
    command: str = Field(description="a command taking a number: strength, style, scene, "
                         "walk/FIELD, dream/FIELD")
    min: float = Field(0.0, ge=-1e6, le=1e6, description="the value at the knob's bottom")
    max: float = Field(1.0, ge=-1e6, le=1e6, description="the value at the knob's top")
    curve: Curve = "linear"
    whole: bool = Field(False, description="round to a whole number (style, scene indices)")

    @field_validator("command")
    @classmethod
    def _known(cls, v: str) -> str:
        return _command(v)


class NoteBinding(Section):
    """A key or pad (note on) → `command` with `value` (none: flip a toggle, fire a
    trigger)."""

    note: int = Field(ge=0, le=127, description="note number")
    channel: int = Field(-1, ge=-1, le=15, description=f"MIDI channel {CHANNELS}")
    command: str
    value: int | float | str | None = None

    @field_validator("command")
    @classmethod
    def _known(cls, v: str) -> str:
        return _command(v)


class MidiConfig(Section):
    """`[midi]`: a MIDI controller (mido with python-rtmidi)."""

    enabled: bool = False
    port: str = Field("", max_length=200, description="part of the input port's name; "
                      "empty: the first input port")
    learned: str = Field("midi-learned.json", min_length=1,
                         description="bindings learned live; relative: beside the config")
    cc: list[CcBinding] = Field(default_factory=list, max_length=512)
    notes: list[NoteBinding] = Field(default_factory=list, max_length=512)
