"""Presets: named snapshots of the live parameters, saved to a file beside the config and
recalled by key (1-9), OSC, the web console or MIDI.

    preset/save NAME ──► Dispatcher.snapshot ──► presets.json (written whole, then renamed)
    preset NAME | N  ──► the commands that bring the show there ──► the dispatcher

A preset holds the scene, its style blend and strength, the walk's settings and seed and
the live dream's settings — each only where the scene has it. Recalling one is a list of
ordinary commands (`commands`), so it goes where every surface goes and crossfades as they
do: the scene dissolves (`compositor.scene_fade_s`), the style crossfades (`crossfade_s`),
the walk glides to its seed. A part the show can no longer take (a walk setting now out of
range) costs a log line and the rest still applies.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from installation.commands import DREAM_FIELDS, WALK_FIELDS, Command, Name, preset_name
from installation.controls import beside
from installation.errors import UserError
from installation.section import Section
from installation.storage import write_whole

log = logging.getLogger(__name__)

MAX_PRESETS = 64


class PresetsConfig(Section):
    """`[presets]`: where the presets are kept."""

    file: str = Field("presets.json", min_length=1, description="the presets file; "
                      "relative: beside the config file")


def presets_path(cfg: PresetsConfig, config_path: Path | None) -> Path:
    """The presets file: `cfg.file`, a relative one beside the config file."""
    return beside(config_path, cfg.file)


@dataclass(frozen=True)
class Preset:
    """One snapshot. None / empty: the scene had no such thing when it was saved."""

    name: str
    scene: str
    style: dict[str, float] | None = None  # style index → weight (normalised)
    strength: float | None = None
    walk: dict[str, float] = field(default_factory=dict)  # WALK_FIELDS
    seed: int | None = None
    dream: dict[str, float] = field(default_factory=dict)  # DREAM_FIELDS

    def commands(self) -> list[Command]:
        """The commands that bring the show to this preset, in order (the scene first:
        what follows applies to its effect)."""
        out = [Command(Name.SCENE, self.scene, "preset")]
        if self.style:
            out.append(Command(Name.WEIGHTS, dict(self.style), "preset"))
        if self.strength is not None:
            out.append(Command(Name.STRENGTH, self.strength, "preset"))
        out += [Command(Name.WALK, (k, v), "preset") for k, v in self.walk.items()]
        if self.seed is not None:
            out.append(Command(Name.RESEED, self.seed, "preset"))
        out += [Command(Name.DREAM, (k, v), "preset") for k, v in self.dream.items()]
        return out


def check_name(name: str) -> str:
    """`name` if it is a preset's name; ValueError saying what one is."""
    return preset_name([name])


def _preset(raw: Any) -> Preset:
    """A preset read from the file; ValueError saying what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("each preset is an object")
    known = {"name", "scene", "style", "strength", "walk", "seed", "dream"}
    if set(raw) - known:
        raise ValueError(f"unknown field {sorted(set(raw) - known)[0]!r}")

    def numbers(value: Any, fields: tuple[str, ...], what: str) -> dict[str, float]:
        if not isinstance(value, dict) or not set(value) <= set(fields) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()):
            raise ValueError(f"{what} holds numbers for {', '.join(fields)}")
        return {k: float(v) for k, v in value.items()}

    name, scene = raw.get("name"), raw.get("scene")
    if not isinstance(name, str) or not isinstance(scene, str):
        raise ValueError("a preset needs a name and a scene")
    style = raw.get("style")
    if style is not None and not (isinstance(style, dict) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in style.values())):
        raise ValueError("style is {index: weight}")
    strength, seed = raw.get("strength"), raw.get("seed")
    if strength is not None and (isinstance(strength, bool)
                                 or not isinstance(strength, int | float)):
        raise ValueError("strength is a number 0..1")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError("seed is a whole number from 0")
    return Preset(check_name(name), scene, None if style is None else
                  {str(k): float(v) for k, v in style.items()},
                  None if strength is None else float(strength),
                  numbers(raw.get("walk", {}), WALK_FIELDS, "walk"), seed,
                  numbers(raw.get("dream", {}), DREAM_FIELDS, "dream"))


class Presets:
    """The presets of one show, in the order they were first saved; kept in `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: dict[str, Preset] = {}

    @classmethod
    def load(cls, path: Path) -> Presets:
        """The presets in `path` (none when it does not exist); UserError in one line
        naming the file when it cannot be read."""
        presets = cls(path)
        if not path.exists():
            return presets
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or not isinstance(raw.get("presets"), list):
                raise ValueError('give {"presets": [...]}')
            for entry in raw["presets"][:MAX_PRESETS]:
                preset = _preset(entry)
                presets.items[preset.name] = preset
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UserError(f"presets file {path}: {str(reason)[:160]}; fix it, or move it "
                            "away to start without presets") from None
        return presets

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.items)

    def find(self, key: str | int) -> Preset:
        """A preset by name, or by number from 1 (the keys 1-9); ValueError if none."""
        if isinstance(key, int):
            if not 1 <= key <= len(self.items):
                raise ValueError(f"no preset {key}: {len(self.items)} saved")
            return list(self.items.values())[key - 1]
        if key not in self.items:
            raise ValueError(f"no preset {key!r}; saved: {', '.join(self.items) or 'none'}")
        return self.items[key]

    def save(self, preset: Preset) -> None:
        """Keep `preset` (replacing one of its name) and write the file whole: a temporary
        file beside it, then renamed over it, so a power cut leaves the old or the new."""
        if preset.name not in self.items and len(self.items) >= MAX_PRESETS:
            raise ValueError(f"{MAX_PRESETS} presets already: replace one")
        items = {**self.items, preset.name: preset}
        data = json.dumps({"presets": [asdict(p) for p in items.values()]}, indent=2)
        write_whole(self.path, data + "\n")
        self.items = items
        log.info("preset %r saved to %s", preset.name, self.path)

