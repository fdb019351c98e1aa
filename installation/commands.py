"""The operator's one vocabulary: every input surface produces the same typed `Command`.

    keys · OSC · (web, MIDI, presets) ──► Command ──► the show's dispatcher, between frames

A command is a `Name` and a checked value. Names are the OSC addresses without their prefix
(`scene`, `style/step`, `walk/idle_speed` → `walk` with a field), so a web console or a
MIDI map can speak them as they are. `parse(name, args)` is the one place where a surface's
raw input becomes a command: a wrong name, value, type or range is a ValueError that says
what is allowed. What depends on the running show (is there such a scene, a style network, a
live dream) is checked where the command is applied.

Adding a command: a `Name`, a line in `SPECS`, its parsing below (if not a plain toggle or
trigger) and a handler in `installation.show.dispatch`. Adding a surface: one adapter that
turns its input into `parse(...)` calls and offers them through `drain()` (`Surface`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

NUM_STYLES = 26  # the multi-style network's style count (indices 0..25)
MAX_STYLE_WEIGHT = 1000.0  # the largest weight in a style blend (they are normalised)
WALK_FIELDS = ("idle_speed", "motion_speed", "max_step", "response_tau_s")
DREAM_FIELDS = ("steps", "step_size", "feedback", "reset_px", "zoom_per_s")
PRESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$")


class Name(Enum):
    """What a command does. The value is the name surfaces use (OSC address, web API)."""

    SCENE = "scene"  # go to a scene: its name or index
    SCENE_STEP = "scene/step"  # ±1: next / previous scene
    STYLE = "style"  # a style index of the 26-style network
    STYLE_STEP = "style/step"  # ±1: next / previous style of the scene (crossfades)
    WEIGHTS = "style/weights"  # a blend: {index: weight}
    STRENGTH = "strength"  # 0..1: how much of the painting
    HUD = "hud"  # toggles: True / False, or None to flip
    BLACKOUT = "blackout"
    TEMPORAL = "temporal"
    MIRROR = "mirror"
    PAUSE = "pause"
    FULLSCREEN = "fullscreen"
    ATTRACT = "attract"
    OVERLAY = "overlay"  # the visitors overlay (tracks, silhouettes) in the window
    RESEED = "reseed"  # triggers: no value (reseed: or a seed)
    GENERATOR = "generator"
    SNAPSHOT = "snapshot"
    QUIT = "quit"
    WALK = "walk"  # (field, number): a walk setting, live
    DREAM = "dream"  # (field, number): a live-dream setting
    PRESET = "preset"  # recall a preset: its name, or its number from 1
    PRESET_SAVE = "preset/save"  # save the live parameters as a preset: its name
    MIDI_LEARN = "midi/learn"  # bind the next MIDI knob or key: "COMMAND[=VALUE|=LO..HI]"


_NAMES = frozenset(n.value for n in Name)
TOGGLES = frozenset({Name.HUD, Name.BLACKOUT, Name.TEMPORAL, Name.MIRROR, Name.PAUSE,
                     Name.FULLSCREEN, Name.ATTRACT, Name.OVERLAY})
TRIGGERS = frozenset({Name.RESEED, Name.GENERATOR, Name.SNAPSHOT, Name.QUIT})

# What each command takes, in words: `--help-keys`, the README table, later a discoverable
# address list (OSC out, the web console).
SPECS: dict[Name, str] = {
    Name.SCENE: "scene name, or index from 0",
    Name.SCENE_STEP: "+1 or -1 (or 'next' / 'prev')",
    Name.STYLE: f"style index 0..{NUM_STYLES - 1}, or 'next' / 'prev'",
    Name.STYLE_STEP: "+1 or -1 (or 'next' / 'prev')",
    Name.WEIGHTS: f"{NUM_STYLES} weights, or index, weight pairs",
    Name.STRENGTH: "0..1",
    **{n: "1 / 0, none: toggle" for n in TOGGLES},
    **{n: "none" for n in TRIGGERS},
    Name.RESEED: "none (the next seed), or a seed from 0",
    Name.PRESET: "preset name, or number from 1",
    Name.PRESET_SAVE: "preset name (1-40 letters, digits, spaces, _ - .)",
    Name.MIDI_LEARN: "COMMAND, COMMAND=VALUE (a key's) or COMMAND=LOW..HIGH (a knob's)",
    Name.WALK: f"walk/FIELD number; FIELD: {', '.join(WALK_FIELDS)}",
    Name.DREAM: f"dream/FIELD number; FIELD: {', '.join(DREAM_FIELDS)}",
}

Value = Any  # checked per name by `parse`: see `Command`


@dataclass(frozen=True)
class Command:
    """One operator command. `value` by name: SCENE str | int; SCENE_STEP, STYLE_STEP ±1;
    STYLE int; WEIGHTS {str(index): weight}; STRENGTH float; toggles bool | None (flip);
    triggers None (RESEED: or a seed, int); WALK, DREAM (field, float); PRESET str (name)
    | int (number from 1); PRESET_SAVE str (name); MIDI_LEARN str (what to bind).
    `source` names the surface, for the log."""

    name: Name
    value: Value = None
    source: str = field(default="", compare=False)


class Surface(Protocol):
    """An input surface: started and stopped with the show; `drain` gives the commands
    received since the last call, oldest first (the loop calls it between frames)."""

    def start(self) -> object: ...

    def stop(self) -> None: ...

    def drain(self) -> list[Command]: ...


def addresses() -> list[tuple[str, str]]:
    """Every command a network surface takes (all but quit), as (name, what it takes):
    `walk/FIELD` and `dream/FIELD` one per field. OSC prefixes `/installation/`."""
    out = []
    for kind, takes in SPECS.items():
        if kind is Name.QUIT:
            continue
        if kind in (Name.WALK, Name.DREAM):
            fields = WALK_FIELDS if kind is Name.WALK else DREAM_FIELDS
            out += [(f"{kind.value}/{f}", f"number, in the range of [{kind.value}] {f}")
                    for f in fields]
        else:
            out.append((kind.value, takes))
    return out


def known(name: str) -> bool:
    """Whether `name` names a command (`walk/FIELD` and `dream/FIELD` by their head)."""
    head, _, tail = name.partition("/")
    if head in (Name.WALK.value, Name.DREAM.value):
        return bool(tail)
    return name in _NAMES


def parse(name: str, args: Sequence[Any], source: str = "") -> Command:
    """The command `name` with raw arguments `args` (0 or 1 values, or a list for weights);
    ValueError saying what is wrong."""
    head, _, tail = name.partition("/")
    if head in ("walk", "dream") and tail:
        fields = WALK_FIELDS if head == "walk" else DREAM_FIELDS
        if tail not in fields:
            raise ValueError(f"unknown {head} setting; known: {', '.join(fields)}")
        return Command(Name(head), (tail, _number(args)), source)
    try:
        kind = Name(name)
    except ValueError:
        known = ", ".join(n.value for n in Name if n not in (Name.WALK, Name.DREAM))
        raise ValueError(f"unknown command; known: {known}, walk/FIELD, dream/FIELD") from None
    if kind in TOGGLES:
        return Command(kind, None if not args else _switch(args), source)
    if kind is Name.RESEED and args:
        return Command(kind, _seed(args), source)
    if kind in TRIGGERS:
        _exactly(args, 0)
        return Command(kind, None, source)
    if kind is Name.STYLE and len(args) == 1 and args[0] in ("next", "prev"):
        return Command(Name.STYLE_STEP, _step(args), source)
    return Command(kind, _VALUES[kind](args), source)


def _seed(args: Sequence[Any]) -> int:
    (value,) = _exactly(args, 1)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    raise ValueError("give a seed: a whole number from 0")


def _preset(args: Sequence[Any]) -> str | int:
    (value,) = _exactly(args, 1)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and 0 < len(value) <= 40:
        return value
    raise ValueError("give a preset's name, or its number from 1")


def preset_name(args: Sequence[Any]) -> str:
    """A preset's name (the one argument), checked; ValueError saying what one is."""
    (value,) = _exactly(args, 1)
    if not isinstance(value, str) or not PRESET_NAME.match(value):
        raise ValueError("a preset's name is 1-40 letters, digits, spaces, '_', '-' or '.', "
                         "starting with a letter or digit")
    return value


def _text(args: Sequence[Any]) -> str:
    (value,) = _exactly(args, 1)
    if not isinstance(value, str) or not 0 < len(value) <= 80:
        raise ValueError("give a text of 1-80 characters")
    return value


def _scene(args: Sequence[Any]) -> str | int:
    (value,) = _exactly(args, 1)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("give a scene name or index")
    return value


def _step(args: Sequence[Any]) -> int:
    (value,) = _exactly(args, 1)
    if value in ("next", "prev"):
        return 1 if value == "next" else -1
    if isinstance(value, int) and not isinstance(value, bool) and value in (1, -1):
        return value
    raise ValueError("give +1 or -1, 'next' or 'prev'")


def _style(args: Sequence[Any]) -> int:
    (value,) = _exactly(args, 1)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < NUM_STYLES:
        return value
    raise ValueError(f"give a style index 0..{NUM_STYLES - 1}, 'next' or 'prev'")


def _strength(args: Sequence[Any]) -> float:
    value = _number(args)
    if not 0.0 <= value <= 1.0:
        raise ValueError("strength is 0..1")
    return value


def _switch(args: Sequence[Any]) -> bool:
    value = _number(args)
    if value not in (0.0, 1.0):
        raise ValueError("give 1 (on) or 0 (off), or nothing to flip")
    return value == 1.0


def _weights(args: Sequence[Any]) -> dict[str, float]:
    if not args or not all(isinstance(a, int | float) and not isinstance(a, bool)
                           and _finite(a) for a in args):
        raise ValueError(f"give {NUM_STYLES} weights, or index, weight pairs")
    if len(args) == NUM_STYLES:
        pairs = {str(i): float(w) for i, w in enumerate(args) if w}
    elif len(args) % 2:
        raise ValueError(f"give {NUM_STYLES} weights, or index, weight pairs")
    else:
        pairs = {}
        for index, weight in zip(args[::2], args[1::2], strict=True):
            if not float(index).is_integer() or not 0 <= index < NUM_STYLES:
                raise ValueError(f"style index {index} is not one of 0..{NUM_STYLES - 1}")
            pairs[str(int(index))] = float(weight)
    if not all(0.0 <= w <= MAX_STYLE_WEIGHT for w in pairs.values()) \
            or not any(pairs.values()):
        raise ValueError(f"style weights are 0..{MAX_STYLE_WEIGHT:g}, not all 0")
    return pairs


_VALUES = {Name.SCENE: _scene, Name.SCENE_STEP: _step, Name.STYLE: _style,
           Name.STYLE_STEP: _step, Name.WEIGHTS: _weights, Name.STRENGTH: _strength,
           Name.PRESET: _preset, Name.PRESET_SAVE: preset_name, Name.MIDI_LEARN: _text}


def _exactly(args: Sequence[Any], n: int) -> Sequence[Any]:
    if len(args) != n:
        raise ValueError(f"give {n} argument{'' if n == 1 else 's'}, not {len(args)}")
    return args


def _finite(value: int | float) -> bool:
    """Whether a number is finite as a float (an int of 400 digits is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _number(args: Sequence[Any]) -> float:
    (value,) = _exactly(args, 1)
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        raise ValueError("give a (finite) number")
    return float(value)
