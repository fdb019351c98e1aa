"""Wires the stages and owns the loop and shutdown.

    capture thread ─┬─► effect thread ──────────────────────┐
                    └─► motion thread ─► walk ─► GAN thread ─┴─► main loop: compose → present

The main loop runs in the main thread (pygame wants it there): events, the newest painted
frame, the interactive state (`Interaction.update`: walk step, attract), the scene's layers
composed, dissolves, present, record. Between threads sit newest-wins slots, so the screen
always shows the newest pictures the stages have finished.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.capture import Source, open_source
from installation.compositor import compose
from installation.compositor.dissolve import Dissolve
from installation.controls.keys import Action, actions
from installation.controls.osc import Command, OscControl
from installation.controls.status import Snapshot, StatusServer
from installation.display.hud import format_hud
from installation.display.recorder import Recorder
from installation.display.screen import ScreenFitter
from installation.display.window import Window, open_window
from installation.effects import (
    ArbitraryStyleEffect,
    Chain,
    Loaded,
    MultiStyleEffect,
    build_effect,
    members,
)
from installation.effects.adaptive import ResolutionController
from installation.effects.base import Attractable, Effect, Tunable
from installation.effects.worker import EffectWorker
from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device, choose_device
from installation.show.config import Config, SceneConfig, load_config
from installation.show.interaction import Interaction, Moment
from installation.show.live_config import ConfigWatcher, split_changes
from installation.show.playlist import Playlist
from installation.slots import Frame
from installation.storage import cap_folder
from installation.telemetry import FpsMeter, StatsWriter

log = logging.getLogger(__name__)

HEADLESS_WAIT_S = 0.05  # longest wait for a new result before checking the clock again, s
SAMPLES = 20_000  # per-frame figures kept for the report: ~10 min at 30 fps


@dataclass
class RunOptions:
    headless: bool = False
    duration_s: float | None = None  # None: run until quit (headless: headless.duration_s)
    record: Path | None = None
    stats: Path | None = None
    max_frames: int | None = None  # stop after this many shown frames (benchmarks)
    config_path: Path | None = None  # watched while running: valid edits apply live
    config_overrides: dict[str, Any] = field(default_factory=dict)  # flags, kept on reload


@dataclass
class ShowReport:
    """What a run did: for the closing message, tests and the benchmark."""

    shown: int = 0
    elapsed_s: float = 0.0
    # The newest SAMPLES shown frames: a show runs for weeks, memory must not grow with it.
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    present_times: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    stage_ms: dict[str, deque[float]] = field(default_factory=dict)
    recording: Path | None = None
    recorded_frames: int = 0
    effect_errors: int = 0

    @property
    def fps(self) -> float:
        return self.shown / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def median_latency_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0


class Show:
    """The installation: one source, the scenes' effects, a window or none, a recorder."""

    def __init__(
        self,
        cfg: Config,
        store: ModelStore,
        device: Device,
        opts: RunOptions,
        source: Source | None = None,
    ) -> None:
        self.cfg = cfg
        self.opts = opts
        self.device = device
        self.scene_names = [s.name for s in cfg.scenes]
        self.scene_index = self.scene_names.index(cfg.first_scene)
        # Fail at start-up, never mid-show: every scene's models and paintings load (and warm
        # up) now, so a scene change mid-show costs nothing.
        self.store = store
        self._loaded: Loaded = {}  # models by name, shared by every scene (and reloads)
        loaded = self._loaded
        self.effects: dict[str, Effect] = {
            s.name: build_effect(s, cfg.style, device, store, loaded) for s in cfg.scenes
        }
        # Adaptive resolution (when [adaptive] target_fps is set): one controller per scene
        # whose effect gets cheaper at a smaller size.
        self.controllers = self._controllers(cfg)
        self.source = source or open_source(cfg.source, store)
        # The interactive half only when a scene shows generated imagery or attract is on:
        # a painting-only show spends no CPU on motion analysis.
        self.play: Interaction | None = None
        if cfg.interactive:
            painters = {  # own instances, the painting effect alone: they run in the GAN thread
                s.name: build_effect(s, cfg.style, device, store, loaded, (s.painter,))
                for s in cfg.scenes if s.paint_gan and s.has_gan and s.painter
            }
            self.play = Interaction(cfg, self.source, device, store, painters,
                                    self.scene_cfg, time.monotonic())
        self.moment: Moment | None = None
        self.picture: np.ndarray | None = None  # the last composed picture
        self.dissolve = Dissolve()
        self._attract = False
        self._gan_seq = 0
        self._t0 = time.monotonic()
        self.window: Window | None = None
        self.hud_on = cfg.display.hud
        self.mirror = cfg.display.mirror
        self.paused = False
        self.blackout = False  # OSC: show (and record) black, the pipeline running on
        # Remote control over OSC: bound now, so a port in use stops start-up in one line.
        self.osc = OscControl(cfg.osc) if cfg.osc.enabled else None
        self.status: StatusServer | None = None
        if cfg.status.enabled:
            try:
                self.status = StatusServer(cfg.status)
            except UserError as exc:  # observability is not worth the show: say, go on
                log.error("%s; the show runs without it", exc)
        self.config_error: str | None = None  # the last edit refused, until a good one
        self.playlist = Playlist(cfg.playlist, self.scene_names, self.scene, time.monotonic())
        self._attract_changed = False  # attract came or went: the playlist may switch
        self._errors_counted = 0  # effect errors already in the metrics
        self._t_frame: float | None = None  # when the last frame was shown, s
        self._latency_ms: float | None = None  # and its latency, ms
        self._t_health = 0.0  # when /health was last refreshed, s
        self.fps = FpsMeter()
        self.report = ShowReport()
        self._stop = threading.Event()
        self._recording: Path | None = None

    @property
    def scene(self) -> str:
        return self.scene_names[self.scene_index]

    @property
    def scene_cfg(self) -> SceneConfig:
        return self.cfg.scenes[self.scene_index]

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> ShowReport:
        opts = self.opts
        rc = self.cfg.recording
        worker = EffectWorker(self.source, self.effects[self.scene],
                              self.controllers.get(self.scene))
        recorder: Recorder | None = None
        stats: StatsWriter | None = None
        t_start = time.monotonic()
        try:
            # Set-up inside the try: whatever opened is closed again, whatever fails later.
            stats = StatsWriter(opts.stats)
            if not opts.headless:
                self.window = open_window(self.cfg.display)
            headless = self.window is None
            duration, record = opts.duration_s, opts.record
            if headless and opts.max_frames is None:
                duration = duration if duration is not None else self.cfg.headless.duration_s
                record = record or self._headless_recording()
            if record is not None:
                recorder = Recorder(record, (rc.width, rc.height), rc.fps, rc.crf)
                self._recording = record
            # What would be shown, at the recording's size: the display's fit and mirror.
            fitter = ScreenFitter((rc.width, rc.height), self.cfg.display.fit, self.mirror)
            self._install_signals()
            log.info("%s", self.device.describe())
            log.info("source: %s; scene: %s; %s", self.source.name, self.scene,
                     "headless" if headless else "window open")
            self.source.start()
            worker.start()
            if self.osc is not None:
                self.osc.start()
            if self.status is not None:
                self.status.start()
            if self.play is not None:
                self.play.start()
            t_start = self._t0 = self.playlist.since = time.monotonic()
            watcher = ConfigWatcher(opts.config_path) if opts.config_path else None
            seen = 0
            shown: Frame | None = None
            while not self._stop.is_set():
                # Events.
                if self.window is not None:
                    for action in actions(self.window.events()):
                        self._act(action, worker)
                if self.osc is not None:
                    for command in self.osc.drain():
                        self._command(command, worker)
                if watcher is not None and watcher.changed():
                    self.reload(watcher.path, worker)
                self._watch(worker)
                if time.monotonic() - self._t_health >= 1.0:
                    self._health(time.monotonic(), worker)
                # The playlist: its next scene when time is up, the attract scene and back.
                nxt = self.playlist.due(time.monotonic(), self.scene)
                if self._attract_changed:
                    self._attract_changed = False
                    nxt = self.playlist.attract(self._attract, self.scene) or nxt
                if nxt is not None:
                    self.go_to(nxt, worker)
                # Read newest.
                wait = HEADLESS_WAIT_S if headless else 1.0 / self.cfg.display.idle_fps
                version, result = worker.slot.get(after=seen, timeout=wait)
                fresh = result is not None and not self.paused
                if result is not None:
                    seen = version
                if fresh:
                    shown = result
                # Compose: the scene's layers (camera, GAN), any dissolve.
                t = time.monotonic()
                changed = False
                if shown is not None and not self.paused:
                    picture = self._compose(shown, t, fresh)
                    if picture is not None:
                        self.picture, changed = picture, True
                # Present.
                t_composed = time.monotonic()
                if self.picture is not None:
                    self._present(self._black(self.picture), worker)
                t_present = time.monotonic()
                if fresh and shown is not None:
                    self._account(shown, t, t_composed, t_present, stats, worker)
                if changed and recorder is not None and self.picture is not None:
                    # The recorder repeats the last picture over gaps itself.
                    fitter.mirror = self.mirror
                    recorder = self._record(recorder, fitter.apply(self._black(self.picture)),
                                            t_present)
                # Tick.
                if duration is not None and t_present - t_start >= duration:
                    break
                if opts.max_frames is not None and self.report.shown >= opts.max_frames:
                    break
        except KeyboardInterrupt:
            log.info("interrupted: closing")
        finally:
            self.report.elapsed_s = time.monotonic() - t_start
            if self.osc is not None:
                self.osc.stop()
            if self.status is not None:
                self.status.stop()
            self.source.stop()  # first: wakes the effect thread at once
            worker.stop()
            if self.play is not None:
                self.play.stop()
            self.report.effect_errors = worker.errors
            if recorder is not None:
                recorder.close()
                self.report.recording = self._recording
                self.report.recorded_frames = recorder.frames_written
            if stats is not None:
                stats.close()
            if self.window is not None:
                self.window.close()
        return self.report

    def _headless_recording(self) -> Path | None:
        """The automatic recording of a headless run: never of a live camera (privacy)."""
        if not self.cfg.headless.record:
            return None
        if self.source.kind == "camera":
            log.info("headless with a camera: not recording visitors (pass --record to do so)")
            return None
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path(self.cfg.headless.folder)
        # Room for this run: 50 MB (6 s of the dream-eyes scene at 1280x720, crf 23: 3.1 MB).
        cap_folder(folder, "installation-*.mp4", self.cfg.headless.max_mb, room_mb=50.0)
        return folder / f"installation-{stamp}.mp4"

    def _record(self, recorder: Recorder, picture: np.ndarray, t: float) -> Recorder | None:
        """Write to the recording; a full disk stops the recording, never the show."""
        try:
            recorder.write(picture, t)
            return recorder
        except Exception as exc:  # OSError, av errors: all mean "cannot write"
            log.error("recording stopped: %s (the show goes on)", exc)
            self.report.recorded_frames = recorder.frames_written
            with contextlib.suppress(Exception):  # already failing; the file is what it is
                recorder.close()
            return None

    def stop(self) -> None:
        self._stop.set()

    # -- steps ----------------------------------------------------------------------------

    def _compose(self, frame: Frame, t: float, fresh: bool) -> np.ndarray | None:
        """The picture to show at `t`, or None when nothing in it has changed."""
        m = self.moment = self.play.update(t) if self.play is not None else None
        attract = m is not None and m.attract
        if attract != self._attract:
            self._attract = attract
            a = self.cfg.attract
            self.dissolve.start(self.picture, t, a.fade_in_s if attract else a.fade_out_s)
            log.info("attract mode %s", "on: nobody there" if attract else "off: welcome")
            self._attract_changed = True
            for effect in self.effects.values():  # the live dream zooms while nobody is there
                if isinstance(effect, Attractable):
                    effect.set_attract(attract)
        gan_seq = m.gan.seq if m is not None and m.gan is not None else 0
        if not (fresh or gan_seq != self._gan_seq or self.dissolve.active):
            return None
        self._gan_seq = gan_seq
        if m is None:
            picture = frame.image
        else:
            scene = self.scene_cfg
            layers = (scene.attract_layers or self.cfg.attract.layers) if m.attract \
                else scene.layers
            # Presence strengthens the generated layers (not in attract: it is all there is).
            gain = 1.0 if m.attract or m.walk is None else m.walk.intensity
            mask = m.signals.mask if m.signals.mask.size > 1 else None
            gan = m.gan.image if m.gan is not None else None
            picture = compose(layers, frame.image, gan, mask, t - self._t0, gain)
        return self.dissolve.apply(picture, t)

    def _present(self, picture: np.ndarray, worker: EffectWorker) -> None:
        if self.window is None:
            return
        self.window.mirror = self.mirror
        lines = self._hud_lines(worker) if self.hud_on else None
        self.window.present(picture, lines)

    def _account(
        self, frame: Frame, t: float, t_composed: float, t_present: float,
        stats: StatsWriter, worker: EffectWorker,
    ) -> None:
        rep = self.report
        rep.shown += 1
        latency = (t_present - frame.t_capture) * 1000.0
        rep.latencies_ms.append(latency)
        rep.present_times.append(t_present)
        stages = {**frame.stages}
        if self.play is not None:
            stages["compose"] = (t_composed - t) * 1000.0
        stages["present"] = (t_present - t_composed) * 1000.0
        for k, v in stages.items():
            rep.stage_ms.setdefault(k, deque(maxlen=SAMPLES)).append(v)
        fps = self.fps.tick(t_present)
        record = {
            "frame": rep.shown,
            "seq": frame.seq,
            "t_capture": round(frame.t_capture, 6),
            "t_present": round(t_present, 6),
            "latency_ms": round(latency, 2),
            "stages_ms": {k: round(v, 2) for k, v in stages.items()},
            "fps": round(fps, 2),
            "scene": self.scene,
            "style": worker.effect.describe(),
            "processing": list(self._processing(worker)),
        }
        m = self.moment
        if m is not None:
            s = m.signals
            record.update({
                "motion": {"energy": round(s.energy, 4), "presence": round(s.presence, 4),
                           "centroid": [round(s.centroid[0], 4), round(s.centroid[1], 4)],
                           "direction": [round(s.direction[0], 3), round(s.direction[1], 3)],
                           "ms": round(s.ms, 2)},
                "attract": m.attract,
                "generator": m.generator,
                "walk_speed": None if m.walk is None else round(m.walk.speed, 4),
                "intensity": None if m.walk is None else round(m.walk.intensity, 4),
                "gan_ms": None if m.gan is None else round(m.gan.render_ms, 2),
            })
        stats.write(record)
        if self.status is not None:
            self._publish(latency, fps, t_present, worker)

    def _publish(self, latency_ms: float, fps: float, t: float, worker: EffectWorker) -> None:
        """A shown frame into the metrics and into /health."""
        assert self.status is not None
        m = self.status.metrics
        m.frames.inc()
        m.fps.set(fps)
        m.latency.observe(latency_ms / 1000.0)
        self._t_frame, self._latency_ms = t, latency_ms
        self._health(t, worker)

    def _health(self, now: float, worker: EffectWorker) -> None:
        """A fresh snapshot for /health: after each shown frame, and once a second from the
        loop when none is shown (a stalled camera or effect must show there too)."""
        if self.status is None:
            return
        self._t_health = now
        m, src, fps = self.status.metrics, self.source, self.fps.fps
        m.reconnects.set(src.reconnects)
        if worker.errors > self._errors_counted:
            m.stage_errors.labels("effect").inc(worker.errors - self._errors_counted)
            self._errors_counted = worker.errors
        reasons = []
        if src.status not in ("live", "playing", "still"):
            reasons.append(f"source {src.name} is {src.status}")
        if worker.bypassed:
            reasons.append("effect bypassed (it kept failing or stalling)")
        target = self.cfg.adaptive.target_fps
        if self.config_error:
            reasons.append(f"config edit not applied: {self.config_error}")
        if target and fps < target / 2:
            reasons.append(f"{fps:.0f} fps, under half the {target:g} fps target")
        effect = worker.effect
        stabiliser = effect.temporal if isinstance(effect, Chain) else None
        temporal = None if stabiliser is None else {
            "on": stabiliser.on, "kept": round(stabiliser.kept, 3),
            "unblended": stabiliser.unblended}
        m.temporal_kept.set(stabiliser.kept if stabiliser is not None and stabiliser.on else 0)
        m.temporal_unblended.set(0 if stabiliser is None else stabiliser.unblended)
        self.status.publish(Snapshot(
            fps=fps, latency_ms=self._latency_ms, scene=self.scene, t_frame=self._t_frame,
            source={"name": src.name, "state": src.status, "reconnects": src.reconnects},
            reasons=tuple(reasons),
            writing={"recording": self._recording is not None,
                     "snapshots": self.cfg.snapshots.enabled},
            temporal=temporal))

    def _hud_lines(self, worker: EffectWorker) -> list[str]:
        m = self.moment
        lines = format_hud({
            "fps": self.fps.fps,
            "latency_ms": self.report.latencies_ms[-1] if self.report.latencies_ms else None,
            "scene": self.scene,
            "style": worker.effect.describe(),
            "processing": self._processing(worker),
            "target_fps": self.cfg.adaptive.target_fps or None,
            "source": self.source.describe(),
            "device": self.device.kind,
            "energy": None if m is None else m.signals.energy,
            "presence": None if m is None else m.signals.presence,
            "walk_speed": None if m is None or m.walk is None else m.walk.speed,
            "generator": None if m is None else m.generator,
            "seed": None if m is None or m.walk is None else m.seed,
            "gan_ms": None if m is None or m.gan is None else m.gan.render_ms,
            "attract": None if m is None else m.attract,
            "recording": self._recording is not None,
            "snapshots": self.cfg.snapshots.enabled,
        })
        if worker.bypassed:
            lines.append("effect bypassed (it kept failing or stalling)")
        if self.paused:
            lines.append("PAUSED")
        if self.blackout:
            lines.append("BLACKOUT (OSC)")
        if self.config_error:
            lines.append("CONFIG NOT APPLIED: " + self.config_error[:90])
        return lines

    def _black(self, picture: np.ndarray) -> np.ndarray:
        """The picture, or black of its size during a blackout."""
        return np.zeros_like(picture) if self.blackout else picture

    def _command(self, command: Command, worker: EffectWorker) -> None:
        """Apply one OSC command; one log line (rate-limited) when it cannot be."""
        try:
            self._apply(command, worker)
        except (ValueError, KeyError, IndexError) as exc:
            assert self.osc is not None
            self.osc.faults.warning("apply", f"osc: {command.what} {command.value!r}: {exc}")

    def _apply(self, command: Command, worker: EffectWorker) -> None:
        what, value, t = command.what, command.value, time.monotonic()
        parts = members(worker.effect)
        if what == "scene":
            index = value if isinstance(value, int) else self.scene_names.index(value)
            if not 0 <= index < len(self.scene_names):
                raise IndexError(f"scene index {index}: 0..{len(self.scene_names) - 1}")
            self.change_scene(index - self.scene_index, worker)
            self.playlist.manual(self.scene, t)
        elif what == "style" and value[0] == "step":
            self._act(Action.NEXT_STYLE if value[1] > 0 else Action.PREV_STYLE, worker)
        elif what in ("style", "weights"):
            entry = value[1] if what == "style" else value
            styled = [e for e in parts if isinstance(e, MultiStyleEffect)]
            if not styled:
                raise ValueError(f"scene {self.scene!r} has no style network")
            for painter in styled:
                painter.set_style(entry, t)
        elif what == "strength":
            for part in parts:
                if isinstance(part, MultiStyleEffect | ArbitraryStyleEffect):
                    part.strength = float(value)
        elif what == "temporal":
            self._temporal(worker, value)
        elif what in ("hud", "blackout"):
            now = self.hud_on if what == "hud" else self.blackout
            setattr(self, "hud_on" if what == "hud" else "blackout",
                    not now if value is None else bool(value))
        elif what == "walk":
            field, number = value
            if self.play is None:
                raise ValueError("no walk: the show has no generated imagery")
            self.play.tune_walk(field, number)
        elif what == "dream":
            field, number = value
            tuned = [e for e in parts if isinstance(e, Tunable)]
            if not tuned:
                raise ValueError(f"scene {self.scene!r} has no live dream")
            for dream in tuned:
                dream.tune(field, number)

    def _temporal(self, worker: EffectWorker, on: bool | None) -> None:
        """Temporal stabilisation of this scene on, off, or toggled (None); ValueError when
        the scene has none configured."""
        effect = worker.effect
        stabiliser = effect.temporal if isinstance(effect, Chain) else None
        if stabiliser is None:
            raise ValueError(f"scene {self.scene!r} has no temporal stabilisation: set "
                             "temporal.enabled = true in its config")
        stabiliser.on = not stabiliser.on if on is None else bool(on)
        log.info("temporal stabilisation %s (scene %s)", "on" if stabiliser.on else "off",
                 self.scene)

    def _act(self, action: Action, worker: EffectWorker) -> None:
        t = time.monotonic()
        play = self.play
        if action is Action.QUIT:
            self._stop.set()
        elif action in (Action.NEXT_STYLE, Action.PREV_STYLE):
            step = 1 if action is Action.NEXT_STYLE else -1
            worker.effect.step_style(step, t)
            if play is not None and self.scene in play.painters:
                play.painters[self.scene].step_style(step, t)  # the GAN painted alike
        elif action in (Action.NEXT_SCENE, Action.PREV_SCENE):
            self.change_scene(1 if action is Action.NEXT_SCENE else -1, worker)
            self.playlist.manual(self.scene, t)
        elif action is Action.RESEED and play is not None:
            log.info("walk reseeded: seed %d", play.reseed())
        elif action is Action.GENERATOR and play is not None:
            log.info("generator: %s", play.switch_generator())
        elif action is Action.ATTRACT and play is not None:
            play.schedule.force(not play.schedule.active)
        elif action is Action.TEMPORAL:
            try:
                self._temporal(worker, None)
            except ValueError as exc:
                log.info("%s", exc)
        elif action is Action.HUD:
            self.hud_on = not self.hud_on
        elif action is Action.FULLSCREEN and self.window is not None:
            self.window.toggle_fullscreen()
        elif action is Action.MIRROR:
            self.mirror = not self.mirror
        elif action is Action.PAUSE:
            self.paused = not self.paused
        elif action is Action.SNAPSHOT and self.picture is not None:
            self.snapshot(self.picture)

    def reload(self, path: Path, worker: EffectWorker) -> bool:
        """Apply an edited config file; False (reported, the last good kept) when invalid."""
        try:
            new = load_config(path, self.opts.config_overrides)
            cfg, live, restart = split_changes(self.cfg, new)
            if cfg.interactive != self.cfg.interactive:
                raise UserError("generated imagery or attract switched on or off: that needs "
                                "a restart (the motion and GAN threads start with the show)")
            # Effects for new and changed scenes first: a bad one refuses the whole edit.
            old = {s.name: s for s in self.cfg.scenes}
            # [style] (crossfade, painting folders) is read when effects are built: all again.
            changed = [s for s in cfg.scenes if old.get(s.name) != s or "style" in live]
            built = {s.name: build_effect(s, cfg.style, self.device, self.store, self._loaded)
                     for s in changed}
            painters = {s.name: build_effect(s, cfg.style, self.device, self.store,
                                             self._loaded, (s.painter,))
                        for s in changed if s.paint_gan and s.has_gan and s.painter}
        except UserError as exc:
            self.config_error = str(exc)
            log.error("config not applied, the last good one keeps running: %s", exc)
            return False
        self.config_error = None
        if restart:
            log.warning("config: %s changed; that needs a restart (running as before)",
                        ", ".join(restart))
        current = self.scene
        self.cfg = cfg
        self.effects = {s.name: built.get(s.name) or self.effects[s.name] for s in cfg.scenes}
        fresh = self._controllers(cfg)
        self.controllers = {  # unchanged scenes keep their current size
            name: self.controllers[name] if name in self.controllers and name not in built
            and "adaptive" not in live else c for name, c in fresh.items()}
        self.scene_names = [s.name for s in cfg.scenes]
        self.scene_index = self.scene_names.index(current) if current in self.scene_names \
            else self.scene_names.index(cfg.first_scene)
        worker.swap(self.effects[self.scene], self.controllers.get(self.scene))
        if "display" in live:
            self.hud_on, self.mirror = cfg.display.hud, cfg.display.mirror
        if "playlist" in live or "scenes" in live:
            self.playlist = Playlist(cfg.playlist, self.scene_names, self.scene,
                                     time.monotonic()).carry(self.playlist)
        if self.play is not None:
            self.play.reconfigure(cfg, self.scene_cfg, painters,
                                  {s.name for s in changed} | ({"*"} if "walk" in live else set()))
        log.info("config: applied (%s)", ", ".join(live) or "no change")
        return True

    def _processing(self, worker: EffectWorker) -> tuple[int, int]:
        """The effect's processing size now (W, H), px: the scene's, or the adaptive one."""
        ctl = worker.controller
        return ctl.size if ctl is not None else self.scene_cfg.size

    def _watch(self, worker: EffectWorker) -> None:
        """The watchdog: an effect call past `stall_s` gets a fresh thread; after
        `restarts_before_bypass` of them in one scene, frames pass through unpainted."""
        if worker.out_of_memory:
            self._to_cpu(worker)
        wd, now, busy = self.cfg.watchdog, time.monotonic(), worker.busy_since
        if self.play is not None:
            for stage in self.play.restart_stalled(now, wd.stall_s, wd.restarts_before_bypass):
                log.error("%s stage stalled (one call over %.1f s): thread restarted",
                          stage, wd.stall_s)
                if self.status is not None:
                    self.status.metrics.stage_errors.labels(f"{stage} stalled").inc()
        if busy is None or not worker.stalled(now, wd.stall_s):
            return
        bypass = worker.restarts + 1 >= wd.restarts_before_bypass
        log.error("effect %s stalled (%.1f s in one frame): thread restarted%s",
                  worker.effect.name, now - busy,
                  "; bypassed, frames pass through until the scene changes" if bypass else "")
        worker.restart(bypass)
        if self.status is not None:
            self.status.metrics.stage_errors.labels("effect stalled").inc()

    def _controllers(self, cfg: Config) -> dict[str, ResolutionController]:
        """A processing-size controller per scene whose effect scales: with adaptive
        resolution on, and always on a GPU (running out of memory steps the size down)."""
        return {s.name: ResolutionController(cfg.adaptive, s.size) for s in cfg.scenes
                if (cfg.adaptive.target_fps > 0 or self.device.kind == "cuda")
                and self.effects[s.name].scalable}

    def _to_cpu(self, worker: EffectWorker) -> None:
        """Out of GPU memory even at the smallest size: every scene's effect is built again
        on the CPU (slower, but the show goes on)."""
        worker.out_of_memory = False
        if self.device.kind == "cpu":
            return  # nowhere further to go: the effect's own failure handling applies
        log.error("effect %s is out of GPU memory at its smallest size: moving the effects "
                  "to the CPU", worker.effect.name)
        self.device = choose_device("cpu", threads=self.device.threads)
        self._loaded = {}
        self.effects = {s.name: build_effect(s, self.cfg.style, self.device, self.store,
                                             self._loaded) for s in self.cfg.scenes}
        self.controllers = self._controllers(self.cfg)
        worker.swap(self.effects[self.scene], self.controllers.get(self.scene))

    def go_to(self, name: str, worker: EffectWorker) -> None:
        """Change to the scene called `name` (dissolving), as the playlist asks."""
        log.info("scene: %s", name)
        self.change_scene(self.scene_names.index(name) - self.scene_index, worker)

    def change_scene(self, step: int, worker: EffectWorker) -> None:
        """`step` scenes on (wrapping), dissolving from the picture on screen."""
        if step == 0:
            return
        self.scene_index = (self.scene_index + step) % len(self.scene_names)
        worker.swap(self.effects[self.scene], self.controllers.get(self.scene))
        if self.play is not None:
            self.play.scene = self.scene_cfg
        self.dissolve.start(self.picture, time.monotonic(), self.cfg.compositor.scene_fade_s)
        log.info("scene: %s", self.scene)

    def snapshot(self, image: np.ndarray) -> Path | None:
        """Write the shown picture as PNG, only when `snapshots.enabled` (privacy)."""
        if not self.cfg.snapshots.enabled:
            log.info("snapshot not taken: snapshots are off (snapshots.enabled = false)")
            return None
        folder = Path(self.cfg.snapshots.folder)
        path = folder / f"snapshot-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.png"
        picture = image[:, ::-1] if self.mirror else image
        try:
            folder.mkdir(parents=True, exist_ok=True)
            cap_folder(folder, "snapshot-*.png", self.cfg.snapshots.max_mb, room_mb=5.0)
            ok = cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(picture),
                                                     cv2.COLOR_RGB2BGR))
        except (OSError, cv2.error) as exc:
            ok, path = False, Path(f"{path} ({exc})")
        if not ok:
            log.error("snapshot not written: %s", path)
            return None
        log.info("snapshot: %s", path)
        return path

    def _install_signals(self) -> None:
        """SIGTERM (systemd stop) ends the show cleanly, closing any recording."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
