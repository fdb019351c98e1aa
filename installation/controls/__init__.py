"""Operator adapters: each translates one surface to and from the two shared types.

    keys (window events) · OSC (UDP) · MIDI · web ──► Command ──► the show's dispatcher
    FrameState ──► status (/health, /metrics)

`open_surfaces` is where a new input surface (a web console, MIDI) is added: one adapter
module and one line here; the show takes whatever this returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from installation.commands import Surface
from installation.controls.midi import MidiConfig, MidiControl
from installation.controls.osc import OscConfig, OscControl


class SurfaceSettings(Protocol):
    """The config sections of the surfaces (the show's root config has them all)."""

    @property
    def osc(self) -> OscConfig: ...

    @property
    def midi(self) -> MidiConfig: ...


def beside(config_path: Path | None, name: str) -> Path:
    """A file the show keeps: `name`, a relative one beside the config file (or in the
    working folder when the config came from elsewhere)."""
    path = Path(name)
    return path if path.is_absolute() or config_path is None else config_path.parent / path


def open_surfaces(cfg: SurfaceSettings, config_path: Path | None = None) -> list[Surface]:
    """The surfaces the config switches on, bound now (a port in use stops start-up in one
    line); started and stopped with the show. The keyboard joins when a window opens; the
    web console comes with the status server."""
    surfaces: list[Surface] = []
    if cfg.osc.enabled:
        surfaces.append(OscControl(cfg.osc))
    if cfg.midi.enabled:
        surfaces.append(MidiControl(cfg.midi, beside(config_path, cfg.midi.learned)))
    return surfaces
