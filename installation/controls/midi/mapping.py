"""MIDI messages → commands, by the bindings of `[midi]` and those learned live.

A knob sends many control changes a second: only the newest of each control in a batch
becomes a command (the loop drains once a frame), so turning a knob fast never floods the
show. A message no binding takes is ignored; a value a command refuses is a rate-limited
line. Learning (`arm`): the next knob moved or key pressed is bound to the armed command.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from installation import commands
from installation.commands import Command
from installation.controls.midi.config import CcBinding, NoteBinding
from installation.logs import RateLimitedLog

log = logging.getLogger(__name__)

CURVES = {"linear": lambda t: t, "square": lambda t: t * t, "root": math.sqrt}
# What a knob learned for a command spans when the operator does not say: (min, max, whole).
LEARN_RANGES: dict[str, tuple[float, float, bool]] = {
    "strength": (0.0, 1.0, False),
    "style": (0.0, commands.NUM_STYLES - 1.0, True),
    "scene": (0.0, 7.0, True),
}


@dataclass(frozen=True)
class Target:
    """What learning is armed for: a command, its value for a key, its range for a knob."""

    command: str
    value: int | float | str | None = None
    low: float | None = None
    high: float | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        """"strength", "walk/idle_speed=0..0.5" (a knob's range), "preset=dusk" (a key's
        value); ValueError saying what is wrong."""
        name, _, value = text.strip().partition("=")
        if not commands.known(name) or name == commands.Name.QUIT.value:
            raise ValueError(f"unknown command {name[:40]!r} to learn")
        if not value:
            return cls(name)
        low, dots, high = value.partition("..")
        if dots:
            try:
                lo, hi = float(low), float(high)
            except ValueError:
                raise ValueError(f"a knob's range is LOW..HIGH, not {value[:40]!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError("a knob's range is finite")
            return cls(name, low=lo, high=hi)
        number: int | float | str = value
        for kind in (int, float):
            try:
                number = kind(value)
                break
            except ValueError:
                continue
        return cls(name, number)


def _what(binding: CcBinding | NoteBinding) -> tuple[str, int]:
    """The knob or key a binding listens to."""
    if isinstance(binding, CcBinding):
        return ("cc", binding.control)
    return ("note", binding.note)


def _channel_ok(binding: CcBinding | NoteBinding, message: Any) -> bool:
    return binding.channel in (-1, message.channel)


class Mapping:
    """The bindings; `commands(messages)` for a batch, `learn(message)` while armed."""

    def __init__(self, cc: list[CcBinding], notes: list[NoteBinding]) -> None:
        """`cc` and `notes` in order: a later binding of the same knob or key (one
        learned) replaces an earlier one (the config's)."""
        self.cc: list[CcBinding] = []
        self.notes: list[NoteBinding] = []
        for binding in cc:
            self._bind(binding)
        for key in notes:
            self._bind(key)
        self.armed: Target | None = None
        self.faults = RateLimitedLog(log)

    def commands(self, messages: list[Any]) -> list[Command]:
        """The commands a batch of mido messages asks for, in order (a knob's newest)."""
        newest: dict[tuple[int, int], Any] = {}
        order: list[tuple[str, Any]] = []
        for m in messages:
            if m.type == "control_change":
                key = (m.channel, m.control)
                if key not in newest:
                    order.append(("cc", key))
                newest[key] = m
            elif m.type == "note_on" and m.velocity > 0:
                order.append(("note", m))
        out = []
        for kind, item in order:
            if kind == "cc":
                out += self._cc(newest[item])
            else:
                out += self._note(item)
        return out

    def _cc(self, m: Any) -> list[Command]:
        out = []
        for b in self.cc:
            if b.control == m.control and _channel_ok(b, m):
                t = CURVES[b.curve](m.value / 127.0)
                value: float | int = b.min + (b.max - b.min) * t
                if b.whole:
                    value = round(value)
                out += self._parse(b.command, [value], f"CC {m.control}")
        return out

    def _note(self, m: Any) -> list[Command]:
        out = []
        for b in self.notes:
            if b.note == m.note and _channel_ok(b, m):
                out += self._parse(b.command, [] if b.value is None else [b.value],
                                   f"note {m.note}")
        return out

    def _parse(self, name: str, args: list[Any], what: str) -> list[Command]:
        try:
            return [commands.parse(name, args, source="midi")]
        except ValueError as exc:
            self.faults.warning(f"midi {what}", f"midi: {what} → {name} {args!r}: {exc}")
            return []

    def _bind(self, binding: CcBinding | NoteBinding) -> None:
        """Add `binding`, dropping those it overlaps: the same knob or key, on a channel
        both take (-1 takes every channel)."""
        def overlaps(a: CcBinding | NoteBinding) -> bool:
            return _what(a) == _what(binding) and (a.channel == binding.channel
                                                   or -1 in (a.channel, binding.channel))

        if isinstance(binding, CcBinding):
            self.cc = [b for b in self.cc if not overlaps(b)] + [binding]
        else:
            self.notes = [b for b in self.notes if not overlaps(b)] + [binding]

    # -- learning ---------------------------------------------------------------------------

    def arm(self, target: Target) -> None:
        self.armed = target
        log.info("midi: learning %s: move a knob or press a key", target.command)

    def learn(self, message: Any) -> CcBinding | NoteBinding | None:
        """Bind `message` (a control change or a note on) to the armed target, replacing
        what that knob or key did; the new binding, or None (not armed, not bindable)."""
        target = self.armed
        if target is None:
            return None
        binding: CcBinding | NoteBinding
        if message.type == "control_change":
            low, high, whole = LEARN_RANGES.get(target.command, (0.0, 1.0, False))
            binding = CcBinding(control=message.control, channel=message.channel,
                                command=target.command,
                                min=low if target.low is None else target.low,
                                max=high if target.high is None else target.high,
                                whole=whole)
            self._bind(binding)
        elif message.type == "note_on" and message.velocity > 0:
            binding = NoteBinding(note=message.note, channel=message.channel,
                                  command=target.command, value=target.value)
            self._bind(binding)
        else:
            return None
        self.armed = None
        log.info("midi: learned %s", binding.model_dump())
        return binding
