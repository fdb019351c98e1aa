"""Operator adapters: each translates one surface to and from the two shared types.

    keys (window events) · OSC (UDP) ──► Command ──► the show's dispatcher
    FrameState ──► status (/health, /metrics)

`open_surfaces` is where a new input surface (a web console, MIDI) is added: one adapter
module and one line here; the show takes whatever this returns.
"""

from __future__ import annotations

from typing import Protocol

from installation.commands import Surface
from installation.controls.osc import OscConfig, OscControl


class SurfaceSettings(Protocol):
    """The config sections of the surfaces (the show's root config has them all)."""

    @property
    def osc(self) -> OscConfig: ...


def open_surfaces(cfg: SurfaceSettings) -> list[Surface]:
    """The network surfaces the config switches on, bound now (a port in use stops
    start-up in one line); started and stopped with the show. The keyboard joins when a
    window opens."""
    surfaces: list[Surface] = []
    if cfg.osc.enabled:
        surfaces.append(OscControl(cfg.osc))
    return surfaces
