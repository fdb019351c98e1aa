"""Live config: `config.toml` watched while the show runs.

`ConfigWatcher.changed()` (called from the main loop, at most every `interval_s`) says
when the file's content changed. The show then loads it through the same strict checks as
at start: an invalid edit is reported (log, HUD, /health) and the last good config keeps
running. A valid one is split by `split_changes` into what applies at once (scenes,
styles, layers, mappings, dream settings, HUD, mirror, fit, durations of fades, attract,
adaptive resolution) and what needs a restart (camera, window, device, recording, OSC and
status addresses, logging, motion analysis), which keeps its running value and is named
in one log line.

`Reloader` does the heavy part off the loop: when the file changed, a helper thread loads
it, splits it and builds the effects of new and changed scenes (`SceneSet.prepare`); the
loop picks up the finished `Edit` between frames and swaps it in. A big edit never freezes
the picture.
"""

from __future__ import annotations

import hashlib
import logging
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installation.errors import UserError
from installation.show.config import Config
from installation.show.loading import MAX_BYTES, EmptyConfigError, load_config
from installation.show.playlist import Playlist
from installation.show.scenes import Built, SceneSet

if TYPE_CHECKING:  # the show calls `adopt` with itself
    from installation.show.core import ShowCore

log = logging.getLogger(__name__)

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
        """The content's digest; for something that is not a plain file of at most
        `MAX_BYTES` (a pipe, a device, a runaway file) a digest of what `stat` says, so the
        loop never blocks on it or reads it whole — loading it then says what is wrong."""
        try:
            st = self.path.stat()
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
                return f"not a plain file of at most {MAX_BYTES} bytes: {st.st_mode} " \
                       f"{st.st_size} {st.st_mtime_ns}"
            with self.path.open("rb") as f:
                return hashlib.sha256(f.read(MAX_BYTES + 1)).hexdigest()
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


@dataclass
class Edit:
    """A prepared edit: the config to run and its new effects, or why it was refused."""

    cfg: Config | None = None
    live: list[str] = field(default_factory=list)
    restart: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # scenes whose effects were rebuilt
    built: Built = field(default_factory=Built)
    error: str | None = None


def prepare(path: Path, overrides: Mapping[str, Any], running: Config,
            scenes: SceneSet) -> Edit:
    """Load `path`, split it against the running config, build what changed and run each
    new effect once on a test picture. Never raises: whatever fails (decoding, checking,
    building, the first frame, or a bug) comes back in `Edit.error`, one line."""
    try:
        new = load_config(path, overrides)
        cfg, live, restart = split_changes(running, new)
        if cfg.interactive != running.interactive:
            raise UserError("generated imagery or attract switched on or off: that needs "
                            "a restart (the motion and GAN threads start with the show)")
        # [style] (crossfade, painting folders) is read when effects are built: all again.
        old = {s.name: s for s in running.scenes}
        changed = [s for s in cfg.scenes if old.get(s.name) != s or "style" in live]
        built = scenes.prepare(cfg, changed)  # a bad scene refuses the whole edit
    except EmptyConfigError:
        return Edit(error=f"{path.name} is empty: not applied; the last good config keeps "
                          "running")
    except UserError as exc:
        return Edit(error=str(exc))
    except Exception as exc:  # a bug in loading or building must not end the show either
        text = " ".join(str(exc).split())[:200] or "no message"
        return Edit(error=f"{path.name}: not applied ({type(exc).__name__}: {text})")
    return Edit(cfg, live, restart, {s.name for s in changed}, built)


class Reloader:
    """Watches the config file and prepares each edit on a helper thread."""

    def __init__(self, path: Path, overrides: Mapping[str, Any], scenes: SceneSet) -> None:
        self.watcher = ConfigWatcher(path)
        self.overrides = overrides
        self.scenes = scenes
        self._thread: threading.Thread | None = None
        self._ready: Edit | None = None

    def poll(self, running: Config) -> Edit | None:
        """Each loop turn: a finished edit to apply, or None. A new change starts being
        prepared only when the last one has been picked up."""
        thread = self._thread
        if thread is not None:
            if thread.is_alive():
                return None
            self._thread, edit, self._ready = None, self._ready, None
            if edit is None or not self.scenes.stale(edit.built):
                return edit
            log.info("config edit built before the effects moved to the CPU: building it "
                     "again")
            self._start(running)
            return None
        if self.watcher.changed():
            self._start(running)
        return None

    def close(self, wait_s: float = 10.0) -> None:
        """At the end: wait (at most `wait_s`) for an edit still being built, so no thread
        is left inside a network runtime while the interpreter finishes."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout=wait_s)
            if thread.is_alive():
                log.warning("config edit still being built at the end; left behind")

    def _start(self, running: Config) -> None:
        self._thread = threading.Thread(target=self._prepare, args=(running,),
                                        name="reload", daemon=True)
        self._thread.start()

    def _prepare(self, running: Config) -> None:
        try:
            self._ready = prepare(self.watcher.path, self.overrides, running, self.scenes)
        except Exception as exc:  # a bug in building must not end the show either
            self._ready = Edit(error=f"{type(exc).__name__}: {exc}")


def adopt(show: ShowCore, edit: Edit) -> bool:
    """Swap a prepared edit into `show` between frames; a refused one is reported (log,
    HUD, /health) and the last good config runs on. False when refused."""
    if edit.cfg is None:
        show.config_error = edit.error
        if edit.error and "not applied" in edit.error:
            log.error("config: %s", edit.error)
        else:
            log.error("config not applied, the last good one keeps running: %s", edit.error)
        return False
    show.config_error = None
    if edit.restart:
        log.warning("config: %s changed; that needs a restart (running as before)",
                    ", ".join(edit.restart))
    current, cfg = show.scene, edit.cfg
    show.cfg = cfg
    show.scenes.adopt(cfg, edit.built, "adaptive" in edit.live)
    show.scene_names = [s.name for s in cfg.scenes]
    show.scene_index = show.scene_names.index(current) if current in show.scene_names \
        else show.scene_names.index(cfg.first_scene)
    show.worker.swap(show.effects[show.scene], show.scenes.controllers.get(show.scene))
    if "display" in edit.live:
        show.hud_on, show.mirror = cfg.display.hud, cfg.display.mirror
    if "playlist" in edit.live or "scenes" in edit.live:
        show.playlist = Playlist(cfg.playlist, show.scene_names, show.scene,
                                 time.monotonic()).carry(show.playlist)
    if show.play is not None:
        show.play.reconfigure(cfg, show.scene_cfg,
                              edit.changed | ({"*"} if "walk" in edit.live else set()))
    log.info("config: applied (%s)", ", ".join(edit.live) or "no change")
    return True
