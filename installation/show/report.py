"""Reporting: the frame state built from the show's parts, and everything that reads it.

    show ──build()──► FrameState ──► HUD lines (next turn) · --stats line · /health · /metrics
                                 └─► ShowReport (what a run did: tests, bench, soak)

`Reporter.frame(...)` after a new frame is shown: the report's samples, one `--stats` line,
the metrics and /health. `Reporter.refresh(...)` once a second when no frame is shown, so a
stalled camera or effect reaches /health too.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from installation.controls.status import StatusServer
from installation.effects import stabiliser_of
from installation.slots import Frame
from installation.state import (
    FrameState,
    GanState,
    MotionState,
    SourceState,
    TemporalState,
)
from installation.telemetry import FpsMeter, StatsWriter

if TYPE_CHECKING:  # the show builds its reporter: only the type is needed here
    from installation.show.loop import Show

SAMPLES = 20_000  # per-frame figures kept for the report: ~10 min at 30 fps
HEALTH_EVERY_S = 1.0  # /health refreshed at least this often with no frame shown, s


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


class Reporter:
    """Builds the frame state and hands it to the readers: stats file, status server."""

    def __init__(self, show: Show, status: StatusServer | None) -> None:
        self.show = show
        self.stats: StatsWriter | None = None
        self.status = status
        self.report = ShowReport()
        self.fps = FpsMeter()
        self.state = FrameState()
        self._last: Frame | None = None  # the last shown camera frame
        self._t_health = 0.0

    def open_stats(self, path: Path | None) -> None:
        """One `--stats` JSON line per shown frame from now on (to `path`; None: none)."""
        self.stats = StatsWriter(path)

    def close(self) -> None:
        if self.stats is not None:
            self.stats.close()

    def frame(self, shown: Frame, t: float, t_composed: float, t_present: float,
              composed: bool) -> FrameState:
        """A new frame was shown: `t` when composing began, then composed, presented (s)."""
        rep = self.report
        rep.shown += 1
        latency = (t_present - shown.t_capture) * 1000.0
        rep.latencies_ms.append(latency)
        rep.present_times.append(t_present)
        stages = {**shown.stages}
        if composed:
            stages["compose"] = (t_composed - t) * 1000.0
        stages["present"] = (t_present - t_composed) * 1000.0
        for k, v in stages.items():
            rep.stage_ms.setdefault(k, deque(maxlen=SAMPLES)).append(v)
        self.fps.tick(t_present)
        self._last = shown
        state = self.build(t_present, fresh=True, latency_ms=latency, stages_ms=stages)
        if self.stats is not None:
            self.stats.write(state.stats_record())
        if self.status is not None:
            self.status.publish(state)
            self._t_health = t_present
        return state

    def refresh(self, now: float) -> FrameState:
        """The state with no new frame: for the HUD each turn, /health once a second."""
        state = self.build(now, fresh=False, latency_ms=self.state.latency_ms,
                           stages_ms=self.state.stages_ms)
        if self.status is not None and now - self._t_health >= HEALTH_EVERY_S:
            self.status.publish(state)
            self._t_health = now
        return state

    def build(self, t: float, fresh: bool, latency_ms: float | None,
              stages_ms: dict[str, float]) -> FrameState:
        """The frame state now, from the show's parts."""
        show, last = self.show, self._last
        sinks = show.sink_states()
        worker, src, m = show.worker, show.source, show.moment
        stabiliser = stabiliser_of(worker.effect)
        bypassed = ("effect bypassed (it kept failing or stalling)",) if worker.bypassed else ()
        self.state = FrameState(
            t=t, frame=self.report.shown, fresh=fresh,
            seq=None if last is None else last.seq,
            t_capture=None if last is None else last.t_capture,
            t_present=self.report.present_times[-1] if self.report.present_times else None,
            latency_ms=latency_ms, stages_ms=stages_ms, fps=self.fps.fps,
            scene=show.scene, style=worker.effect.describe(),
            processing=show.processing, target_fps=show.cfg.adaptive.target_fps or None,
            device=show.scenes.device.kind,
            source=SourceState(src.name, src.status, src.reconnects, src.describe()),
            motion=None if m is None else MotionState(
                m.signals.energy, m.signals.presence, m.signals.centroid,
                m.signals.direction, m.signals.ms),
            walk=None if m is None else GanState(
                m.generator, m.attract,
                None if m.walk is None else m.walk.speed,
                None if m.walk is None else m.walk.intensity,
                None if m.walk is None else m.seed,
                None if m.gan is None else m.gan.render_ms),
            temporal=None if stabiliser is None else TemporalState(
                stabiliser.on, stabiliser.kept, stabiliser.unblended),
            recording=any(s.writes and s.failed is None for s in sinks),
            snapshots=show.cfg.snapshots.enabled,
            paused=show.paused, blackout=show.blackout, hud=show.hud_on,
            config_error=show.config_error, bypassed=bypassed,
            failing=() if show.play is None else tuple(show.play.failing()),
            errors={"effect": worker.errors, **({} if show.play is None else show.play.errors())},
            stalls=dict(show.stalls), sinks=sinks,
        )
        return self.state

