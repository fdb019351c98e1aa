"""Live config: `config.toml` watched while the show runs.

`ConfigWatcher.changed()` (called from the main loop, at most every `interval_s`) says
when the file's content changed. The show then loads it through the same strict checks as
at start: an invalid edit is reported (log, HUD, /health) and the last good config keeps
running. A valid one is split by `split_changes` into what applies at once (scenes,
styles, layers, mappings, dream settings, HUD, mirror, fit, durations of fades, attract,
adaptive resolution) and what needs a restart (camera, window, device, recording, OSC and
status addresses, logging, motion analysis), which keeps its running value and is named
in one log line.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from installation.show.config import Config

# Sections that apply live; every other section needs a restart.
LIVE = ("scenes", "start_scene", "style", "compositor", "attract", "adaptive", "walk",
        "playlist", "watchdog")
# In [display], these apply live; the rest (the window itself) needs a restart.
LIVE_DISPLAY = ("hud", "mirror", "fit", "idle_fps")


class ConfigWatcher:
    """Notices edits of one file by its content (robust to editors that replace it)."""

    def __init__(self, path: Path, interval_s: float = 0.25) -> None:
        self.path, self.interval_s = path, interval_s
        self._digest = self._read()  # the content last reported (or found at start)
        self._seen = self._digest  # the content at the last look
        self._checked = time.monotonic()

    def _read(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:  # mid-save, or removed: judge again at the next look
            return None

    def changed(self) -> bool:
        """Whether the content differs from the last one reported and stayed the same over
        two looks (an editor that truncates, then writes, is not caught half way)."""
        now = time.monotonic()
        if now - self._checked < self.interval_s:
            return False
        self._checked = now
        digest = self._read()
        settled = digest is not None and digest == self._seen
        self._seen = digest
        if not settled or digest == self._digest:
            return False
        self._digest = digest
        return True


def split_changes(old: Config, new: Config) -> tuple[Config, list[str], list[str]]:
    """(the config to run, what changed live, what needs a restart and was kept as it was)."""
    live: list[str] = []
    restart: list[str] = []
    keep: dict[str, Any] = {}
    for name in type(old).model_fields:
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        if name in LIVE:
            live.append(name)
        elif name == "display":
            window = {k: v for k, v in after.model_dump().items() if k not in LIVE_DISPLAY}
            if window != {k: v for k, v in before.model_dump().items()
                          if k not in LIVE_DISPLAY}:
                restart.append("display (window)")
            live.append("display")
            # The window keeps its settings; hud, mirror, fit, idle_fps come from the edit.
            keep["display"] = before.model_copy(
                update={k: getattr(after, k) for k in LIVE_DISPLAY})
        else:
            restart.append(name)
            keep[name] = before
    return new.model_copy(update=keep), live, restart
