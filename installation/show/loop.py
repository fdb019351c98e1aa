"""The show: wires the stages and runs the short loop on the main thread.

    capture ─┬─► effect thread ─────────────────────────┐
             └─► motion thread ─► walk ─► GAN thread ────┴─► loop ─► sinks (window, recording)
    keys · OSC · web ─► Command ─► dispatcher    loop ─► FrameState ─► HUD · /health · stats
                                                                        · web · OSC out

Each turn (pygame wants the main thread): commands → a prepared config edit → watchdog →
playlist → the newest painted frame → the moment (walk step, attract) → compose → hand to
the sinks → frame state. Between threads sit newest-wins slots, so the screen always shows
the newest pictures the stages have finished.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path

import numpy as np

from installation.capture import Source, open_source
from installation.commands import Surface
from installation.controls import open_surfaces
from installation.controls.osc_out import open_sender
from installation.controls.status import open_status
from installation.display.sinks import Shown, ThreadedSink, WindowSink
from installation.display.snapshots import write_snapshot
from installation.display.window import Window
from installation.effects.worker import EffectWorker
from installation.models import ModelStore
from installation.runtime import Device
from installation.show import lifecycle
from installation.show.composition import Composition
from installation.show.config import Config
from installation.show.core import RunOptions as RunOptions
from installation.show.core import ShowCore, ShowReport
from installation.show.dispatch import Dispatcher
from installation.show.faults import LoopFaults
from installation.show.interaction import Interaction, Moment
from installation.show.live_config import Edit, Reloader, adopt, prepare
from installation.show.playlist import Playlist
from installation.show.presets import Presets, presets_path
from installation.show.report import Reporter
from installation.show.scenes import SceneSet
from installation.show.watchdog import watch
from installation.slots import Frame
from installation.state import SinkState

log = logging.getLogger(__name__)

HEADLESS_WAIT_S = 0.05  # longest wait for a new result before checking the clock again, s
FAULT_PAUSE_S = 0.05  # after a turn that failed, before the next one, s


class Show(ShowCore):
    """The installation: one source, the scenes' effects, the sinks, the operator's reach."""

    reporter: Reporter  # (ShowCore sees these two through what its parts ask of them)
    reloader: Reloader | None

    def __init__(self, cfg: Config, store: ModelStore, device: Device, opts: RunOptions,
                 source: Source | None = None) -> None:
        self.cfg, self.opts, self.store = cfg, opts, store
        self.scene_names = [s.name for s in cfg.scenes]
        self.scene_index = self.scene_names.index(cfg.first_scene)
        # Fail at start-up, never mid-show: every scene's models load and warm up now.
        self.scenes = SceneSet(cfg, device, store)
        self.source = source or open_source(cfg.source, store)
        self.worker = EffectWorker(self.source, self.effects[self.scene],
                                   self.scenes.controllers.get(self.scene))
        # The interactive half only when a scene shows generated imagery or attract is on.
        self.play = Interaction(cfg, self.source, device, store, self.scenes.painters,
                                self.scene_cfg, time.monotonic()) if cfg.interactive else None
        self.moment: Moment | None = None
        self.picture: np.ndarray | None = None  # the last composed picture
        self.on_screen: Shown | None = None  # what the sinks were last handed (blackout: black)
        self.composition = Composition(self.scenes, time.monotonic())
        self.window: Window | None = None
        self.hud_on, self.mirror = cfg.display.hud, cfg.display.mirror
        self.overlay_on = False  # the visitors overlay in the window (V key, OSC `overlay`)
        self.paused = self.blackout = False
        self.config_error: str | None = None  # the last edit refused, until a good one
        self.stalls: dict[str, int] = {}  # stage → watchdog restarts
        self.faults = LoopFaults()  # turns of the loop that failed (a bug), for the report
        self.playlist = Playlist(cfg.playlist, self.scene_names, self.scene, time.monotonic())
        self.presets = Presets.load(presets_path(cfg.presets, opts.config_path))
        # The operator's surfaces (OSC, ...): bound now, so a port in use stops start-up.
        self.surfaces: list[Surface] = open_surfaces(cfg, opts.config_path)
        self.reloader: Reloader | None = None  # watches config.toml while the show runs
        self.status = open_status(cfg.status)
        if self.status is not None and self.status.console is not None:
            self.surfaces.append(self.status.console)  # the web console's commands
        self.dispatcher = Dispatcher(self)
        self.sender = open_sender(cfg.osc.send_to, cfg.osc.send_hz)  # OSC out, or None
        self.reporter = Reporter(self, self.status, self.sender)
        self.outputs: list[ThreadedSink] = []
        self.screen: WindowSink | None = None  # the window as a sink, once open
        self._stop = threading.Event()

    def run(self) -> ShowReport:
        t_start = time.monotonic()
        try:
            duration = lifecycle.open_show(self)  # inside the try: whatever opened is closed
            t_start = self.composition.t0 = self.playlist.since = time.monotonic()
            if self.opts.config_path is not None:
                self.reloader = Reloader(self.opts.config_path, self.opts.config_overrides,
                                         self.scenes)
            seen, shown = 0, None
            while not self._stop.is_set():
                try:
                    seen, shown = self._turn(seen, shown)
                except Exception as exc:  # a bug mid-show: said, the last picture stays
                    self.faults.failed(exc)
                    with contextlib.suppress(Exception):  # /health says so, if it can
                        self.reporter.refresh(time.monotonic())
                    self._stop.wait(FAULT_PAUSE_S)  # never a hot loop of failing turns
                t = time.monotonic()
                if duration is not None and t - t_start >= duration:
                    break
                if self.opts.max_frames is not None and self.report.shown >= self.opts.max_frames:
                    break
        except KeyboardInterrupt:
            log.info("interrupted: closing")
        finally:
            self.report.elapsed_s = time.monotonic() - t_start
            lifecycle.close_show(self)
        return self.report

    def _turn(self, seen: int, shown: Frame | None) -> tuple[int, Frame | None]:
        """One turn of the loop; returns the slot version seen and the frame on screen."""
        # Commands, a prepared config edit, the watchdog, the playlist.
        self.dispatcher.drain(self.surfaces)
        edit = self.reloader.poll(self.cfg) if self.reloader is not None else None
        if edit is not None:
            self.adopt(edit)
        watch(self)
        self._playlist()
        # Read newest.
        wait = HEADLESS_WAIT_S if self.window is None else 1.0 / self.cfg.display.idle_fps
        version, result = self.worker.slot.get(after=seen, timeout=wait)
        fresh = result is not None and not self.paused
        seen = version if result is not None else seen
        shown = result if fresh else shown
        # Compose: the scene's layers (camera, GAN), any dissolve.
        t = time.monotonic()
        changed = False
        if shown is not None and not self.paused:
            self.moment = self.play.update(t) if self.play is not None else None
            picture = self.composition.step(shown, self.moment, self.scene_cfg,
                                            self.cfg.attract, self.picture, t, fresh)
            if picture is not None:
                self.picture, changed = picture, True
        # Hand to the sinks.
        t_composed = time.monotonic()
        if self.picture is not None:
            out = np.zeros_like(self.picture) if self.blackout else self.picture
            hud = self.reporter.state.hud_lines() if self.hud_on else None
            overlay = self.reporter.overlay() if self.overlay_on else None
            self.on_screen = Shown(out, t_composed, self.mirror, self.cfg.display.fit, hud,
                                   new=changed, overlay=overlay)
            for sink in self._sinks():
                sink.offer(self.on_screen)
        # Frame state.
        t_present = time.monotonic()
        if fresh and shown is not None:
            self.reporter.frame(shown, t, t_composed, t_present, self.play is not None)
        else:
            self.reporter.refresh(t_present)
        return seen, shown

    def _sinks(self) -> list[WindowSink | ThreadedSink]:
        return ([self.screen] if self.screen is not None else []) + self.outputs

    def sink_states(self) -> tuple[SinkState, ...]:
        return tuple(s.state() for s in self._sinks())

    def stop(self) -> None:
        self._stop.set()

    def _playlist(self) -> None:
        """The playlist's next scene when time is up, the attract scene and back."""
        nxt = self.playlist.due(time.monotonic(), self.scene)
        if self.composition.attract_changed:
            self.composition.attract_changed = False
            nxt = self.playlist.attract(self.composition.attract, self.scene) or nxt
        if nxt is not None:
            log.info("scene: %s", nxt)
            self.change_scene(self.scene_names.index(nxt) - self.scene_index)

    def change_scene(self, step: int) -> None:
        """`step` scenes on (wrapping), dissolving from the picture on screen."""
        if step == 0:
            return
        self.scene_index = (self.scene_index + step) % len(self.scene_names)
        self.worker.swap(self.effects[self.scene], self.scenes.controllers.get(self.scene))
        if self.play is not None:
            self.play.scene = self.scene_cfg
        self.composition.cut(self.picture, time.monotonic(), self.cfg.compositor.scene_fade_s)
        log.info("scene: %s", self.scene)

    def reload(self, path: Path) -> bool:
        """Apply an edited config file now, on this thread (the loop prepares edits off the
        loop instead); False (reported, the last good kept) when it is refused."""
        return self.adopt(prepare(path, self.opts.config_overrides, self.cfg, self.scenes))

    def adopt(self, edit: Edit) -> bool:
        """Swap in a prepared edit between frames; a refused one is reported."""
        return adopt(self, edit)

    def snapshot(self, image: np.ndarray) -> Path | None:
        """Write the shown picture as PNG, only when `snapshots.enabled` (privacy)."""
        return write_snapshot(image, self.cfg.snapshots, self.mirror)
