"""Reporting: the frame state built from the show's parts, and everything that reads it.

    show ──build()──► FrameState ──► HUD lines (next turn) · --stats line · /health · /metrics
                                 └─► ShowReport (what a run did: tests, bench, soak)
    show ──overlay()──► Overlay (the visitors mapped into the scene) ──► the window only

`Reporter.frame(...)` after a new frame is shown: the report's samples, one `--stats` line,
the metrics and /health. `Reporter.refresh(...)` once a second when no frame is shown, so a
stalled camera or effect reaches /health too.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from installation.compositor import compose_errors
from installation.compositor.masks import shown_part
from installation.controls.osc_out import OscSender
from installation.controls.status import StatusServer
from installation.display.overlay import Mark, Overlay
from installation.effects import stabiliser_of, strength_of
from installation.perception import Visitors
from installation.show.core import SAMPLES, ShowCore, ShowReport
from installation.slots import Frame
from installation.state import (
    LIVE_SOURCE_STATES,
    FrameState,
    GanState,
    MotionState,
    PerceptionState,
    SourceState,
    TemporalState,
    VisitorState,
)
from installation.telemetry import FpsMeter, StatsWriter

HEALTH_EVERY_S = 1.0  # /health refreshed at least this often with no frame shown, s
SAMPLE_STEP = 8  # the picture checks look at every 8th pixel each way
BLACK_LEVEL = 8  # a picture whose sampled pixels all lie below this level (0..255) is black


CHANGE_LEVEL = 24  # a sampled pixel changed by more than this (0..255) changed for real
CHANGE_SHARE = 0.005  # ... and the camera moved when this share of them did: never noise
LIT_LEVEL = 32  # a camera picture whose brightest sample reaches this is not a dark room


def _moved(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two samples differ by more than sensor noise: the temporal stabiliser holds
    its picture still under noise on purpose, which is no frozen picture."""
    if a.shape != b.shape:
        return True
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    changed = diff.max(axis=-1) > CHANGE_LEVEL if diff.ndim == 3 else diff > CHANGE_LEVEL
    return bool(changed.mean() >= CHANGE_SHARE)


def _sample(image: np.ndarray) -> np.ndarray:
    """A strided sample of a picture (every SAMPLE_STEP-th pixel), copied: ~14 kB at
    1280x720, a few µs."""
    return image[::SAMPLE_STEP, ::SAMPLE_STEP].copy()


class PictureWatch:
    """Whether the shown picture is alive, from cheap strided samples: black (every sample
    under BLACK_LEVEL) or frozen for `dead_s` s or more, in words ("black for 12 s").

    Frozen means the camera's pictures change for real (the source's slot moves on *and*
    its sample differs by more than sensor noise, `_moved`) while the shown picture does
    not: a still image, a video of a still scene or a
    deterministic effect on them is frozen by design and never reported; nor is a picture
    without the camera in it (a GAN-only layer set), whose stillness says nothing. Paused
    and blackout are the operator's: they reset the clocks, never a fault.
    """

    def __init__(self) -> None:
        self._picture: np.ndarray | None = None  # the last picture sampled (by identity)
        self._out: np.ndarray | None = None  # its sample
        self._out_changed = 0.0  # when the shown picture last changed, monotonic s
        self._black_since: float | None = None  # since when it has been black, s
        self._src_version = -1  # the source slot's version last sampled
        self._src: np.ndarray | None = None  # its sample
        self._src_changes = 0  # source pictures that differed since the picture changed
        self._src_changed = float("-inf")  # when the source picture last changed, s

    def rest(self, now: float) -> None:
        """Paused or blacked out (or nothing to check): start over from `now`."""
        self._out_changed = now
        self._black_since = None
        self._src_changes = 0

    def check(self, picture: np.ndarray | None, source: tuple[int, np.ndarray | None],
              now: float, dead_s: float, camera_shown: bool = True) -> str | None:
        """"black for N s" / "frozen for N s", or None (alive). `picture`: the shown one
        (uint8); `source`: the source slot's (version, picture); `now`: monotonic s."""
        if picture is None:
            self.rest(now)
            return None
        if picture is not self._picture:
            self._picture = picture
            sample = _sample(picture)
            if self._out is None or not np.array_equal(sample, self._out):
                self._out = sample
                self._out_changed = now
                self._src_changes = 0
            black = sample.size > 0 and int(sample.max()) < BLACK_LEVEL
            if not black:
                self._black_since = None
            elif self._black_since is None:
                self._black_since = now
        version, image = source
        if version != self._src_version and image is not None:
            self._src_version = version
            sample = _sample(image)
            if self._src is None or _moved(sample, self._src):
                if self._src is not None:
                    self._src_changes += 1
                    self._src_changed = now
                self._src = sample  # compared with the last real change, not the last frame
        # Black is a fault only when the camera sees light: a dark room shows dark.
        lit = self._src is None or int(self._src.max()) >= LIT_LEVEL
        if lit and self._black_since is not None and now - self._black_since >= dead_s:
            return f"black for {now - self._black_since:.0f} s"
        still = now - self._out_changed
        if (camera_shown and still >= dead_s and self._src_changes >= 2
                and now - self._src_changed <= dead_s):
            return f"frozen for {still:.0f} s"
        return None


class Reporter:
    """Builds the frame state and hands it to the readers: stats file, status server, OSC
    out."""

    def __init__(self, show: ShowCore, status: StatusServer | None,
                 sender: OscSender | None = None) -> None:
        self.show = show
        self.stats: StatsWriter | None = None
        self.status = status
        self.sender = sender  # OSC out: every state, sent at its own rate
        self.report = ShowReport()
        self.fps = FpsMeter()
        self.alive = PictureWatch()
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
        if self.sender is not None:
            self.sender.publish(state)
        return state

    def refresh(self, now: float) -> FrameState:
        """The state with no new frame: for the HUD each turn, /health once a second."""
        state = self.build(now, fresh=False, latency_ms=self.state.latency_ms,
                           stages_ms=self.state.stages_ms)
        if self.status is not None and now - self._t_health >= HEALTH_EVERY_S:
            self.status.publish(state)
            self._t_health = now
        if self.sender is not None:
            self.sender.publish(state)  # (one assignment: the HUD's state, every turn)
        return state

    def build(self, t: float, fresh: bool, latency_ms: float | None,
              stages_ms: dict[str, float]) -> FrameState:
        """The frame state now, from the show's parts."""
        show, last = self.show, self._last
        sinks = show.sink_states()
        worker, src, m = show.worker, show.source, show.moment
        stabiliser = stabiliser_of(worker.effect)
        bypassed: tuple[str, ...] = ()
        if worker.bypassed:
            bypassed = ("effect bypassed (it kept failing or stalling)",)
        elif worker.held:
            bypassed = (f"effect passing frames through: {worker.abandoned} stalled calls "
                        "still running",)
        errors = {"effect": worker.errors, **({} if show.play is None else show.play.errors())}
        if compose_errors():
            errors["compose"] = compose_errors()
        if show.faults.count:
            errors["loop"] = show.faults.count
        loop_fault = show.faults.reason(t)
        self.state = FrameState(
            t=t, frame=self.report.shown, fresh=fresh,
            seq=None if last is None else last.seq,
            t_capture=None if last is None else last.t_capture,
            t_present=self.report.present_times[-1] if self.report.present_times else None,
            latency_ms=latency_ms, stages_ms=stages_ms, fps=self.fps.fps_at(t),
            scene=show.scene, scenes=tuple(show.scene_names),
            style=worker.effect.describe(), strength=strength_of(worker.effect),
            processing=show.processing, target_fps=show.cfg.adaptive.target_fps or None,
            device=show.scenes.device.kind,
            source=SourceState(src.name, src.status, src.reconnects, src.describe()),
            motion=None if m is None else MotionState(
                m.signals.energy, m.signals.presence, m.signals.centroid,
                m.signals.direction, m.signals.ms),
            perception=None if m is None or m.visitors is None
            else perception_state(m.visitors),
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
            overlay=show.overlay_on, mirror=show.mirror, presets=show.presets.names,
            config_error=show.config_error, bypassed=bypassed,
            failing=(() if show.play is None else tuple(show.play.failing()))
            + (() if loop_fault is None else (loop_fault,)),
            errors=errors, stalls=dict(show.stalls), sinks=sinks,
            picture=self._picture(t),
            remote=None if show.scenes.device.remote is None
            else show.scenes.device.remote.state(),
        )
        return self.state

    def overlay(self) -> Overlay | None:
        """What the visitors overlay draws over the composed picture now (None: no
        visitors to draw: perception off, or nothing composed yet)."""
        show = self.show
        m, picture = show.moment, show.picture
        if m is None or m.visitors is None or picture is None:
            return None
        return visitor_overlay(m.visitors, (picture.shape[1], picture.shape[0]))

    def _picture(self, now: float) -> str | None:
        """The shown picture's liveness (`PictureWatch`): None when alive, paused, blacked
        out or while the source is not live (its own reason says so)."""
        show = self.show
        if show.paused or show.blackout or show.source.status not in LIVE_SOURCE_STATES:
            self.alive.rest(now)
            return None
        dead_s = show.cfg.watchdog.dead_picture_s
        version, frame = show.source.slot.peek()
        return self.alive.check(show.picture, (version, None if frame is None else frame.image),
                                now, dead_s, camera_shown(show))


def perception_state(v: Visitors) -> PerceptionState:
    """The frame state's plain copy of what perception read in its newest frame."""
    return PerceptionState(
        visitors=tuple(VisitorState(p.id, p.x, p.y, p.width, p.height, p.motion, p.still_s,
                                    p.face) for p in v.visitors),
        energy_raw=v.energy_raw, energy=v.energy, gain=v.gain, presence=v.presence,
        crowd=v.crowd, ms=v.ms, network=v.segmenter)


def visitor_overlay(v: Visitors, size: tuple[int, int]) -> Overlay:
    """The visitors overlay for a composed picture of `size` (W, H): the visitors and their
    silhouettes, mapped from the camera frame into the part the scene shows (as the
    compositor maps its `visitor` masks: `compositor.masks`)."""
    mask = v.mask
    mh, mw = mask.shape[:2]
    whole = mask.size <= 1  # no analysed frame yet: nothing to cut
    part = shown_part(size if whole else (mw, mh), size)
    aspect = 1.0 if whole else mh / mw  # the camera frame's height / width

    def x(u: float) -> float:
        return (u - part.left) / part.width

    def y(u: float) -> float:
        return (u - part.top) / part.height

    marks = tuple(
        Mark(p.id, (x(p.x - p.width / 2), y(p.y - p.height / 2), x(p.x + p.width / 2),
                    y(p.y + p.height / 2)),
             (x(p.head[0]), y(p.head[1])),
             # body heights/s → frame heights/s → fractions of the picture per s
             (p.vx * p.height * aspect / part.width, p.vy * p.height / part.height),
             p.motion, p.face)
        for p in v.visitors)
    if whole:
        return Overlay(marks)
    x0, y0 = round(part.left * mw), round(part.top * mh)
    x1, y1 = x0 + max(1, round(part.width * mw)), y0 + max(1, round(part.height * mh))
    return Overlay(marks, mask[y0:y1, x0:x1])


def camera_shown(show: ShowCore) -> bool:
    """Whether the camera's picture is in what the show composes now (a scene whose layers
    are all generated imagery shows no camera: its stillness says nothing about it)."""
    m = show.moment
    if m is None:
        return True
    scene = show.scene_cfg
    layers = (scene.attract_layers or show.cfg.attract.layers) if m.attract else scene.layers
    return any(layer.source in ("camera", "raw") for layer in layers)

