"""MIDI input ports: the system's through mido and python-rtmidi, behind a small interface
a test can stand in for (no MIDI hardware in CI), and the watch that finds a controller
again after it is unplugged and plugged back in."""

from __future__ import annotations

import logging
import os
from typing import Any, Protocol

log = logging.getLogger(__name__)

ALSA_SEQUENCER = "/dev/snd/seq"  # without it ALSA has no MIDI (containers, CI)


class InPort(Protocol):
    name: str

    def iter_pending(self) -> Any: ...  # mido messages received since the last call

    def close(self) -> None: ...


class Backend(Protocol):
    def inputs(self) -> list[str]: ...  # the input ports present now

    def open(self, name: str) -> InPort: ...


class MidoBackend:
    """The system's MIDI through mido (python-rtmidi). On Linux without an ALSA sequencer
    there are no ports (asking rtmidi then prints ALSA's complaint on stderr each time)."""

    def inputs(self) -> list[str]:
        if os.name == "posix" and not os.path.exists(ALSA_SEQUENCER) \
                and os.uname().sysname == "Linux":
            return []
        import mido

        return list(mido.get_input_names())

    def open(self, name: str) -> InPort:
        import mido

        port: InPort = mido.open_input(name)
        return port


def pick(names: list[str], pattern: str) -> str | None:
    """The first input whose name holds `pattern` (any case; "" = the first input)."""
    wanted = pattern.lower()
    return next((n for n in names if wanted in n.lower()), None)
