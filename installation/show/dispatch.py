"""The dispatcher: applies operator commands to the show, between frames.

Every surface (keys, OSC, later the web console and MIDI) hands its `Command`s here; one
handler per `Name`. A command the running show cannot take (no such scene, no style
network in this scene, a walk value out of range), or that fails in any way, costs one log
line (rate-limited per surface and name) and a count, never the show.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from installation.commands import WALK_FIELDS, Command, Name, Surface
from installation.controls.midi import MidiControl, Target
from installation.effects import (
    MultiStyleEffect,
    members,
    painters_of,
    stabiliser_of,
    strength_of,
)
from installation.effects.base import Tunable
from installation.logs import RateLimitedLog
from installation.show.presets import Preset, check_name

if TYPE_CHECKING:  # the show builds its dispatcher: only the type is needed here
    from installation.show.core import ShowCore

log = logging.getLogger(__name__)

# Commands that take the loop for a while (a file written, a window changed).
HEAVY = frozenset({Name.SNAPSHOT, Name.FULLSCREEN, Name.PRESET_SAVE})
HEAVY_EVERY_S = 1.0  # at most one of each heavy command per this long, s


class Dispatcher:
    """`apply(command)` from the loop; `errors` counts commands refused."""

    def __init__(self, show: ShowCore) -> None:
        self.show = show
        self.faults = RateLimitedLog(log)
        self.errors = 0
        self._heavy: dict[Name, float] = {}  # heavy command → when last applied, monotonic s
        self._handlers: dict[Name, Callable[[Any], None]] = {
            Name.SCENE: self._scene, Name.SCENE_STEP: self._scene_step,
            Name.STYLE: self._style, Name.STYLE_STEP: self._style_step,
            Name.WEIGHTS: self._weights, Name.STRENGTH: self._strength,
            Name.TEMPORAL: self._temporal, Name.HUD: self._hud,
            Name.BLACKOUT: self._blackout, Name.MIRROR: self._mirror,
            Name.PAUSE: self._pause, Name.FULLSCREEN: self._fullscreen,
            Name.ATTRACT: self._attract, Name.OVERLAY: self._overlay,
            Name.RESEED: self._reseed,
            Name.GENERATOR: self._generator, Name.SNAPSHOT: self._snapshot,
            Name.QUIT: lambda _: self.show.stop(), Name.WALK: self._walk,
            Name.DREAM: self._dream, Name.PRESET: self._preset,
            Name.PRESET_SAVE: self._preset_save, Name.MIDI_LEARN: self._midi_learn,
        }

    def drain(self, surfaces: Sequence[Surface]) -> None:
        """Apply every command the surfaces received since the last turn, in order. A
        surface that fails to deliver (a broken window) is said and skipped this turn."""
        for surface in surfaces:
            try:
                received = surface.drain()
            except Exception as exc:  # never the loop: the surface, this turn
                self.faults.warning(f"surface {type(surface).__name__}",
                                    f"{type(surface).__name__}: {type(exc).__name__}: {exc}")
                continue
            for command in received:
                self.apply(command)

    def apply(self, command: Command) -> None:
        """Apply one command; one log line (rate-limited per surface and name) when the
        show cannot take it. Heavy ones (a snapshot, a window change) at most once per
        `HEAVY_EVERY_S`, so a flood of them cannot freeze the picture."""
        where = command.source or "command"
        try:
            if command.name in HEAVY:
                now = time.monotonic()
                if now - self._heavy.get(command.name, -HEAVY_EVERY_S) < HEAVY_EVERY_S:
                    raise ValueError(f"at most one every {HEAVY_EVERY_S:g} s")
                self._heavy[command.name] = now
            self._handlers[command.name](command.value)
        except Exception as exc:  # a command never ends the show, whatever it meets
            self.errors += 1
            self.faults.warning(f"{where} {command.name.value}",
                                f"{where}: {command.name.value} {command.value!r}: {exc}")

    # -- scenes and styles ------------------------------------------------------------------

    def _scene(self, value: str | int) -> None:
        show = self.show
        names = show.scene_names
        index = value if isinstance(value, int) else names.index(value)
        if not 0 <= index < len(names):
            raise IndexError(f"scene index {index}: 0..{len(names) - 1}")
        show.change_scene(index - show.scene_index)
        show.playlist.manual(show.scene, time.monotonic())

    def _scene_step(self, step: int) -> None:
        self.show.change_scene(step)
        self.show.playlist.manual(self.show.scene, time.monotonic())

    def _style(self, index: int) -> None:
        self._set_style(index)

    def _weights(self, weights: dict[str, float]) -> None:
        self._set_style(weights)

    def _set_style(self, entry: int | dict[str, float]) -> None:
        styled = [e for e in members(self.show.worker.effect) if isinstance(e, MultiStyleEffect)]
        if not styled:
            raise ValueError(f"scene {self.show.scene!r} has no style network")
        for painter in styled:
            painter.set_style(entry, time.monotonic())

    def _style_step(self, step: int) -> None:
        show, t = self.show, time.monotonic()
        show.worker.effect.step_style(step, t)
        painter = show.scenes.painters.get(show.scene)
        if painter is not None:
            painter.step_style(step, t)  # the generated picture painted alike

    def _strength(self, value: float) -> None:
        painters = painters_of(self.show.worker.effect)
        if not painters:
            raise ValueError(f"scene {self.show.scene!r} has no style network")
        for part in painters:
            part.strength = float(value)

    def _temporal(self, on: bool | None) -> None:
        """Temporal stabilisation of this scene on, off or flipped (None)."""
        stabiliser = stabiliser_of(self.show.worker.effect)
        if stabiliser is None:
            raise ValueError(f"scene {self.show.scene!r} has no temporal stabilisation: set "
                             "temporal.enabled = true in its config")
        stabiliser.on = not stabiliser.on if on is None else bool(on)
        log.info("temporal stabilisation %s (scene %s)", "on" if stabiliser.on else "off",
                 self.show.scene)

    def _dream(self, value: tuple[str, float]) -> None:
        field, number = value
        tuned = [e for e in members(self.show.worker.effect) if isinstance(e, Tunable)]
        if not tuned:
            raise ValueError(f"scene {self.show.scene!r} has no live dream")
        for dream in tuned:
            dream.tune(field, number)

    # -- the show's switches ----------------------------------------------------------------

    def _hud(self, on: bool | None) -> None:
        self.show.hud_on = _switch(self.show.hud_on, on)

    def _blackout(self, on: bool | None) -> None:
        self.show.blackout = _switch(self.show.blackout, on)

    def _mirror(self, on: bool | None) -> None:
        self.show.mirror = _switch(self.show.mirror, on)

    def _pause(self, on: bool | None) -> None:
        self.show.paused = _switch(self.show.paused, on)

    def _fullscreen(self, on: bool | None) -> None:
        window = self.show.window
        if window is None:
            raise ValueError("no window: the show runs headless")
        if on is None or on != window.fullscreen:
            window.toggle_fullscreen()

    def _snapshot(self, _: None) -> None:
        if self.show.picture is not None:
            self.show.snapshot(self.show.picture)

    # -- the interactive half ---------------------------------------------------------------

    def _play(self) -> Any:
        play = self.show.play
        if play is None:
            raise ValueError("the show has no generated imagery or attract mode")
        return play

    def _attract(self, on: bool | None) -> None:
        self._play().force_attract(on)

    def _overlay(self, on: bool | None) -> None:
        """The visitors overlay on, off or flipped (None): only where there are visitors."""
        if self._play().perception is None:
            raise ValueError("perception is off ([perception] enabled = false): no visitors "
                             "to draw")
        self.show.overlay_on = _switch(self.show.overlay_on, on)

    def _reseed(self, seed: int | None) -> None:
        log.info("walk reseeded: seed %d", self._play().reseed(seed))

    # -- presets ----------------------------------------------------------------------------

    def _preset(self, key: str | int) -> None:
        """Recall: the preset's commands, each applied (and refused) as any other."""
        preset = self.show.presets.find(key)
        if preset.scene not in self.show.scene_names:
            raise ValueError(f"preset {preset.name!r} is of scene {preset.scene!r}, which "
                             "the config no longer has")
        log.info("preset %r", preset.name)
        for command in preset.commands():
            self.apply(command)

    def _preset_save(self, name: str) -> None:
        self.show.presets.save(self.snapshot(name))

    def snapshot(self, name: str) -> Preset:
        """The live parameters of the show now, as a preset called `name`."""
        show = self.show
        effect = show.worker.effect
        styled = [e for e in members(effect) if isinstance(e, MultiStyleEffect)]
        style = None
        if styled:
            style = {str(i): round(float(w), 6) for i, w in enumerate(styled[0].mixer.target)
                     if w}
        walk, seed = {}, None
        if show.play is not None:
            current = show.play.current_walk()
            walk = {f: float(getattr(current.cfg, f)) for f in WALK_FIELDS}
            seed = current.seed
        tuned = [e for e in members(effect) if isinstance(e, Tunable)]
        return Preset(check_name(name), show.scene, style, strength_of(effect), walk, seed,
                      tuned[0].settings() if tuned else {})

    def _midi_learn(self, text: str) -> None:
        midi = [s for s in self.show.surfaces if isinstance(s, MidiControl)]
        if not midi:
            raise ValueError("MIDI is off: set [midi] enabled = true")
        midi[0].learn(Target.parse(text))

    def _generator(self, _: None) -> None:
        log.info("generator: %s", self._play().switch_generator())

    def _walk(self, value: tuple[str, float]) -> None:
        field, number = value
        self._play().tune_walk(field, number)


def _switch(now: bool, on: bool | None) -> bool:
    """A switch set (True / False) or flipped (None)."""
    return not now if on is None else bool(on)
