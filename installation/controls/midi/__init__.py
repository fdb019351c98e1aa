"""MIDI in: a controller's knobs and keys as commands (`[midi]`), learned live, found again
when replugged.

    controller ──(rtmidi)──► port ──drain (the loop, between frames)──► Mapping ──► Command
                 watch thread: every HOTPLUG_S, is the port still there? is it back?

`midi/learn COMMAND` (OSC, the console) arms learning: the next knob moved or key pressed is
bound to COMMAND and the binding written to `[midi] learned` (beside the config), read
again at each start. No port, a port that fails or one unplugged costs a line, never the
show.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from installation.commands import Command
from installation.controls.midi.config import CcBinding, MidiConfig, NoteBinding
from installation.controls.midi.mapping import Mapping, Target
from installation.controls.midi.ports import Backend, InPort, MidoBackend, pick
from installation.errors import UserError
from installation.logs import RateLimitedLog
from installation.storage import write_whole

log = logging.getLogger(__name__)

HOTPLUG_S = 2.0  # the port list is looked at this often, s
MAX_PENDING = 1024  # messages taken from the port a turn at most (the rest wait)

__all__ = ["MidiConfig", "MidiControl", "Target"]


def load_learned(path: Path) -> tuple[list[CcBinding], list[NoteBinding]]:
    """The bindings learned before; UserError in one line naming the file if it is bad."""
    if not path.exists():
        return [], []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ([CcBinding.model_validate(b) for b in raw.get("cc", [])],
                [NoteBinding.model_validate(b) for b in raw.get("notes", [])])
    except (OSError, ValueError, AttributeError) as exc:
        raise UserError(f"midi learned file {path}: {str(exc).splitlines()[0][:160]}; fix "
                        "it, or move it away to start without what was learned") from None


class MidiControl:
    """The MIDI surface: `drain` from the loop; a watch thread for hot-plug."""

    def __init__(self, cfg: MidiConfig, learned: Path, backend: Backend | None = None) -> None:
        self.pattern = cfg.port
        self.learned_path = learned
        cc, notes = load_learned(learned)
        self.mapping = Mapping([*cfg.cc, *cc], [*cfg.notes, *notes])
        self.backend = backend or MidoBackend()
        self.port: InPort | None = None
        self.received = 0
        self.faults = RateLimitedLog(log, interval_s=30.0)
        self._configured = (list(cfg.cc), list(cfg.notes))  # the rest was learned
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="midi", daemon=True)

    def start(self) -> MidiControl:
        self.look()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        self._close("closed: the show ends", logging.INFO)

    def learn(self, target: Target) -> None:
        """Bind the next knob or key to `target`."""
        self.mapping.arm(target)

    def drain(self) -> list[Command]:
        """The commands of the messages received since the last call."""
        with self._lock:
            port = self.port
            if port is None:
                return []
            try:
                messages = []
                for message in port.iter_pending():
                    messages.append(message)
                    if len(messages) >= MAX_PENDING:
                        break
            except Exception as exc:  # unplugged mid-read: the watch finds it again
                self._close(f"it failed ({type(exc).__name__}: {exc})")
                return []
        self.received += len(messages)
        if self.mapping.armed is not None:
            for i, message in enumerate(messages):
                if self.mapping.learn(message) is not None:
                    self._save()
                    return self.mapping.commands(messages[i + 1:])
        return self.mapping.commands(messages)

    def look(self) -> None:
        """Open the controller if it is there and not open; close it if it went away."""
        try:
            names = self.backend.inputs()
        except Exception as exc:
            self.faults.warning("ports", f"midi: the ports cannot be listed ({exc})")
            return
        with self._lock:
            if self.port is not None and self.port.name not in names:
                self._close("unplugged; waiting for it to come back")
            if self.port is not None:
                return
            name = pick(names, self.pattern)
            if name is None:
                self.faults.warning("none", "midi: no input port"
                                    + (f" named like {self.pattern!r}" if self.pattern else "")
                                    + f" (there are: {', '.join(names) or 'none'}); looking "
                                    f"again every {HOTPLUG_S:g} s")
                return
            try:
                self.port = self.backend.open(name)
            except Exception as exc:
                self.faults.warning("open", f"midi: {name} does not open ({exc})")
                return
        log.info("midi: listening to %s", name)

    def _close(self, why: str, level: int = logging.WARNING) -> None:
        port, self.port = self.port, None
        if port is None:
            return
        with contextlib.suppress(Exception):  # a port already gone closes no better
            port.close()
        log.log(level, "midi: %s %s", port.name, why)

    def _watch(self) -> None:
        while not self._stop.wait(HOTPLUG_S):
            self.look()

    def _save(self) -> None:
        """What was learned, all of it, written whole (temp file, then renamed)."""
        cc = [b for b in self.mapping.cc if b not in self._configured[0]]
        notes = [b for b in self.mapping.notes if b not in self._configured[1]]
        data: dict[str, Any] = {"cc": [b.model_dump() for b in cc],
                                "notes": [b.model_dump() for b in notes]}
        try:
            write_whole(self.learned_path, json.dumps(data, indent=2) + "\n")
        except OSError as exc:
            log.error("midi: what was learned cannot be written to %s (%s); it holds until "
                      "the show ends", self.learned_path, exc.strerror or exc)
