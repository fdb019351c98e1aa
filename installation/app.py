"""Wires the stages and owns the loop and shutdown.

    capture thread ──► effect thread ──► main loop: events → newest result → present → record

The main loop runs in the main thread (pygame wants it there). Between threads sit
newest-wins slots, so the screen always shows the newest picture the effect has finished.
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

import cv2
import numpy as np
import onnxruntime as ort

from installation.capture import Source, open_source
from installation.config import Config
from installation.controls.keys import Action, actions
from installation.display.hud import format_hud
from installation.display.recorder import Recorder
from installation.display.screen import ScreenFitter
from installation.display.window import Window, open_window
from installation.effects import build_effect
from installation.effects.base import Effect
from installation.effects.worker import EffectWorker
from installation.models import ModelStore
from installation.runtime import Device
from installation.slots import Frame
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
        sessions: dict[str, ort.InferenceSession] = {}
        self.effects: dict[str, Effect] = {
            s.name: build_effect(s, cfg.style, device, store, sessions) for s in cfg.scenes
        }
        self.source = source or open_source(cfg.source, store)
        self.window: Window | None = None
        self.hud_on = cfg.display.hud
        self.mirror = cfg.display.mirror
        self.paused = False
        self.fps = FpsMeter()
        self.report = ShowReport()
        self._stop = threading.Event()
        self._recording: Path | None = None

    @property
    def scene(self) -> str:
        return self.scene_names[self.scene_index]

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> ShowReport:
        opts = self.opts
        rc = self.cfg.recording
        worker = EffectWorker(self.source, self.effects[self.scene])
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
            t_start = time.monotonic()
            seen = 0
            shown: Frame | None = None
            while not self._stop.is_set():
                # Events.
                if self.window is not None:
                    for action in actions(self.window.events()):
                        self._act(action, worker, shown)
                # Read newest.
                wait = HEADLESS_WAIT_S if headless else 1.0 / self.cfg.display.idle_fps
                version, result = worker.slot.get(after=seen, timeout=wait)
                fresh = result is not None and not self.paused
                if result is not None:
                    seen = version
                if fresh:
                    shown = result
                # Present.
                t = time.monotonic()
                if shown is not None:
                    self._present(shown, worker)
                t_present = time.monotonic()
                if fresh and shown is not None:
                    self._account(shown, t, t_present, stats, worker)
                    if recorder is not None:  # it repeats the last picture over gaps itself
                        fitter.mirror = self.mirror
                        recorder = self._record(recorder, fitter.apply(shown.image), t_present)
                # Tick.
                if duration is not None and t_present - t_start >= duration:
                    break
                if opts.max_frames is not None and self.report.shown >= opts.max_frames:
                    break
        except KeyboardInterrupt:
            log.info("interrupted: closing")
        finally:
            self.report.elapsed_s = time.monotonic() - t_start
            self.source.stop()  # first: wakes the effect thread at once
            worker.stop()
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
        return Path(self.cfg.headless.folder) / f"installation-{stamp}.mp4"

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

    def _present(self, frame: Frame, worker: EffectWorker) -> None:
        if self.window is None:
            return
        self.window.mirror = self.mirror
        lines = self._hud_lines(worker, frame) if self.hud_on else None
        self.window.present(frame.image, lines)

    def _account(
        self, frame: Frame, t: float, t_present: float, stats: StatsWriter, worker: EffectWorker
    ) -> None:
        rep = self.report
        rep.shown += 1
        latency = (t_present - frame.t_capture) * 1000.0
        rep.latencies_ms.append(latency)
        rep.present_times.append(t_present)
        stages = {**frame.stages, "present": (t_present - t) * 1000.0}
        for k, v in stages.items():
            rep.stage_ms.setdefault(k, deque(maxlen=SAMPLES)).append(v)
        fps = self.fps.tick(t_present)
        stats.write({
            "frame": rep.shown,
            "seq": frame.seq,
            "t_capture": round(frame.t_capture, 6),
            "t_present": round(t_present, 6),
            "latency_ms": round(latency, 2),
            "stages_ms": {k: round(v, 2) for k, v in stages.items()},
            "fps": round(fps, 2),
            "scene": self.scene,
            "style": worker.effect.describe(),
        })

    def _hud_lines(self, worker: EffectWorker, frame: Frame) -> list[str]:
        lines = format_hud({
            "fps": self.fps.fps,
            "latency_ms": self.report.latencies_ms[-1] if self.report.latencies_ms else None,
            "scene": self.scene,
            "style": worker.effect.describe(),
            "source": self.source.describe(),
            "device": self.device.kind,
            "recording": self._recording is not None,
            "snapshots": self.cfg.snapshots.enabled,
        })
        if worker.bypassed:
            lines.append("effect bypassed after repeated errors")
        if self.paused:
            lines.append("PAUSED")
        return lines

    def _act(self, action: Action, worker: EffectWorker, shown: Frame | None) -> None:
        t = time.monotonic()
        if action is Action.QUIT:
            self._stop.set()
        elif action in (Action.NEXT_STYLE, Action.PREV_STYLE):
            worker.effect.step_style(1 if action is Action.NEXT_STYLE else -1, t)
        elif action in (Action.NEXT_SCENE, Action.PREV_SCENE):
            step = 1 if action is Action.NEXT_SCENE else -1
            self.scene_index = (self.scene_index + step) % len(self.scene_names)
            worker.swap(self.effects[self.scene])
            log.info("scene: %s", self.scene)
        elif action is Action.HUD:
            self.hud_on = not self.hud_on
        elif action is Action.FULLSCREEN and self.window is not None:
            self.window.toggle_fullscreen()
        elif action is Action.MIRROR:
            self.mirror = not self.mirror
        elif action is Action.PAUSE:
            self.paused = not self.paused
        elif action is Action.SNAPSHOT and shown is not None:
            self.snapshot(shown.image)

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
