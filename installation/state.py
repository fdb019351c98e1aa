"""The frame state: one record per shown frame that everything reporting reads.

    show loop ──► FrameState ──► HUD · /health · /metrics · --stats  (later OSC out, web)

The loop builds it each turn: after each shown frame, and between frames for the HUD (and
for /health once a second, so a stalled camera or effect shows there too). Readers never
reach into the pipeline:
what they say comes from here, so they cannot disagree. Plain values only: this module
sits on the ground floor and knows no stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LIVE_SOURCE_STATES = ("live", "playing", "still")  # anything else is worth a reason


@dataclass(frozen=True)
class SourceState:
    name: str = ""
    state: str = "starting"  # "live", "playing", "still", "reconnecting", "failed", ...
    reconnects: int = 0
    describe: str = ""  # for the HUD: name (state)


@dataclass(frozen=True)
class MotionState:
    energy: float  # 0..1
    presence: float  # 0..1
    centroid: tuple[float, float]  # fractions of the frame
    direction: tuple[float, float]  # unit vector
    ms: float  # analysis time, ms


@dataclass(frozen=True)
class VisitorState:
    """One tracked visitor. `x`, `y`: the centre of their box, fractions of the camera
    frame (x right, y down); `width`, `height`: their box, fractions of the frame's width
    and height."""

    id: int
    x: float
    y: float
    width: float
    height: float
    motion: float  # how much they move, body heights/s
    still_s: float  # how long they have hardly moved, s
    face: bool = False  # a face was found on them

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "x": round(self.x, 4), "y": round(self.y, 4),
                "width": round(self.width, 4), "height": round(self.height, 4),
                "motion": round(self.motion, 3), "still_s": round(self.still_s, 1),
                "face": self.face}


HUD_VISITORS = 4  # visitors listed by position on the HUD; the rest counted


@dataclass(frozen=True)
class PerceptionState:
    """The visitors as the perception stage read them in its newest analysed frame."""

    visitors: tuple[VisitorState, ...] = ()
    energy_raw: float = 0.0  # the visitors' motion, body heights/s (above the noise floor)
    energy: float = 0.0  # the same through the room's automatic gain, 0..1
    gain: float = 1.0  # that gain
    presence: float = 0.0  # someone is there, moving or still, 0..1
    crowd: float = 0.0  # how many, 0..1 (1: `perception.crowd_full` or more)
    ms: float = 0.0  # analysis time of that frame, ms
    network: str = ""  # "" while the person network is used, else why not (no fault)

    @property
    def count(self) -> int:
        return len(self.visitors)

    def record(self) -> dict[str, Any]:
        """The `perception` object of `--stats` and /health (see the README)."""
        return {"count": self.count, "energy_raw": round(self.energy_raw, 4),
                "energy": round(self.energy, 4), "gain": round(self.gain, 3),
                "presence": round(self.presence, 4), "crowd": round(self.crowd, 3),
                "ms": round(self.ms, 2), "network": self.network,
                "visitors": [v.record() for v in self.visitors]}

    def hud_lines(self) -> list[str]:
        lines = [f"visitors {self.count}   energy {self.energy:.2f} (raw "
                 f"{self.energy_raw:.2f} h/s × gain {self.gain:.2f})   "
                 f"presence {self.presence:.2f}   {self.ms:.0f} ms"]
        if self.visitors:
            at = [f"#{v.id} {v.x:.2f},{v.y:.2f} h {v.height:.2f}"
                  for v in self.visitors[:HUD_VISITORS]]
            more = self.count - HUD_VISITORS
            lines.append("at     " + "   ".join(at) + (f"   +{more} more" if more > 0 else ""))
        if self.network:
            lines.append("person network off: " + self.network[:80])
        return lines


@dataclass(frozen=True)
class GanState:
    generator: str  # "" when the composition on screen has no generator
    attract: bool
    speed: float | None = None  # rad/s
    intensity: float | None = None  # 0..1
    seed: int | None = None
    gan_ms: float | None = None  # render + enlarge (+ paint) of the newest picture, ms


@dataclass(frozen=True)
class TemporalState:
    on: bool
    kept: float  # share of the last output kept in the last frame, 0..1
    unblended: int  # frames shown unblended (the flow failed or was late)


@dataclass(frozen=True)
class SinkState:
    name: str
    sent: int = 0  # pictures the sink took
    dropped: int = 0  # pictures it had no time for (newest wins)
    failed: str | None = None  # why it was dropped from the show, if it was
    writes: bool = False  # it keeps or sends visitors' pictures (a file, a stream)


@dataclass(frozen=True)
class RemoteState:
    """The serving engine the networks are sent to (`[runtime] remote`)."""

    server: str  # host:port
    up: bool  # its answers are used now (False: every network runs locally)
    rtt_ms: float | None = None  # the last ping's round trip, ms
    call_ms: float | None = None  # the median network call there of late, ms
    reason: str | None = None  # why the networks run locally now
    falls: int = 0  # times it failed and the show fell back to the local engine
    calls: int = 0  # network calls answered by the server
    local_calls: int = 0  # network calls run locally meanwhile (it was down, or refused)
    # While it is used: the networks that run locally all the same, and why ("live-dream:
    # it was late there ..."): not hosted there, another file, failed or slow there.
    refused: tuple[str, ...] = ()
    faults: tuple[str, ...] = ()  # those of them that degrade the show (not: not hosted)

    def line(self) -> str:
        """One line for the HUD and /health's reasons."""
        if not self.up:
            return f"remote {self.server} not used ({self.reason}): networks run locally"
        rtt = "" if self.rtt_ms is None else f"   rtt {self.rtt_ms:.1f} ms"
        call = "" if self.call_ms is None else f"   call {self.call_ms:.0f} ms"
        local = f"   local: {', '.join(r.partition(': ')[0] for r in self.refused)}" \
            if self.refused else ""
        return f"remote {self.server}{rtt}{call}{local}"

    def reasons(self) -> list[str]:
        """Why the show is degraded by its server (/health): not used, or networks it
        runs locally all the same."""
        if not self.up:
            return [self.line()]
        return [f"remote {self.server}: {r.partition(': ')[0]} runs locally "
                f"({r.partition(': ')[2]})" for r in self.faults]


@dataclass(frozen=True)
class FrameState:
    """What is shown and how the show is doing, as of one frame. Times are monotonic s."""

    t: float = 0.0  # when this state was built
    frame: int = 0  # frames shown so far
    fresh: bool = False  # a new frame was shown (False: the once-a-second refresh)
    seq: int | None = None  # the camera frame's sequence number
    t_capture: float | None = None
    t_present: float | None = None  # when the last frame was shown
    latency_ms: float | None = None  # capture → present of the last shown frame
    stages_ms: dict[str, float] = field(default_factory=dict)
    fps: float = 0.0
    scene: str = ""
    scenes: tuple[str, ...] = ()  # every scene of the config, in order
    style: str = ""
    strength: float | None = None  # how much of the painting, 0..1; None: no style network
    processing: tuple[int, int] = (0, 0)  # the effect's size now, (W, H) px
    target_fps: float | None = None  # adaptive resolution's target
    device: str = ""
    source: SourceState = SourceState()
    motion: MotionState | None = None  # None: the show is not interactive
    perception: PerceptionState | None = None  # None: perception off, or not interactive
    walk: GanState | None = None  # the latent walk and generated picture; None: none
    temporal: TemporalState | None = None  # None: the scene has no stabilisation
    recording: bool = False  # a recording is being written (privacy)
    snapshots: bool = False  # snapshots may be written (privacy)
    paused: bool = False
    blackout: bool = False
    hud: bool = False
    overlay: bool = False  # the visitors overlay is drawn in the window
    mirror: bool = False  # the picture is shown mirrored
    presets: tuple[str, ...] = ()  # the presets saved, by name
    config_error: str | None = None  # the last live edit refused, until a good one
    bypassed: tuple[str, ...] = ()  # stages passing frames through, and why
    failing: tuple[str, ...] = ()  # stages failing call after call, and what that means
    errors: dict[str, int] = field(default_factory=dict)  # stage → failures so far
    stalls: dict[str, int] = field(default_factory=dict)  # stage → watchdog restarts so far
    sinks: tuple[SinkState, ...] = ()
    # The shown picture is not alive: "black for 12 s", "frozen for 12 s" (the camera
    # changes, the picture does not); None while it is alive, or paused / blacked out.
    picture: str | None = None
    remote: RemoteState | None = None  # None: no serving engine configured

    def reasons(self) -> list[str]:
        """Why the show is degraded (empty: it is fine), without the staleness check that
        only the reader can make (it knows the time now)."""
        out = []
        src = self.source
        if src.state not in LIVE_SOURCE_STATES:
            out.append(f"source {src.name} is {src.state}")
        if self.picture:
            out.append(f"picture {self.picture}")
        out.extend(self.bypassed)
        out.extend(self.failing)
        if self.remote is not None:
            out.extend(self.remote.reasons())
        if self.config_error:
            out.append(f"config edit not applied: {self.config_error}")
        target = self.target_fps
        if target and self.fps < target / 2:
            out.append(f"{self.fps:.0f} fps, under half the {target:g} fps target")
        out.extend(f"{s.name} stopped: {s.failed}" for s in self.sinks if s.failed)
        return out

    def hud_lines(self) -> list[str]:
        """The operator HUD's lines."""
        lines: list[str] = []
        rate = [f"{self.fps:5.1f} fps"]
        if self.latency_ms is not None:
            rate.append(f"latency {self.latency_ms:4.0f} ms")
        lines.append("   ".join(rate))
        for key, value in (("scene", self.scene), ("style", self.style),
                           ("source", self.source.describe), ("device", self.device)):
            if value:
                lines.append(f"{key:<7}{value}")
        w, h = self.processing
        target = self.target_fps
        lines.append(f"res    {w}x{h}" + (f"   holding {target:g} fps" if target else ""))
        if self.perception is not None:  # the walk follows the visitors
            lines.extend(self.perception.hud_lines())
        elif self.motion is not None:  # ... or, without perception, the picture's motion
            lines.append(f"motion energy {self.motion.energy:.2f}   "
                         f"presence {self.motion.presence:.2f}")
        walk = self.walk
        if walk is not None and walk.speed is not None:
            line = f"walk   {walk.speed:.2f} rad/s   {walk.generator}"
            if walk.seed is not None:
                line += f"   seed {walk.seed}"
            if walk.gan_ms is not None:
                line += f"   gan {walk.gan_ms:.0f} ms"
            lines.append(line)
        if walk is not None and walk.attract:
            lines.append("ATTRACT (nobody there)")
        writing = [k for k, on in (("recording", self.recording),
                                   ("snapshots", self.snapshots)) if on]
        if writing:
            lines.append("WRITING " + " + ".join(writing))  # privacy: say when pictures are kept
        if self.picture:
            lines.append(f"PICTURE {self.picture.upper()}")
        if self.remote is not None:
            lines.append(self.remote.line())
        lines.extend(self.bypassed)
        lines.extend(self.failing)
        lines.extend(f"{s.name} stopped: {s.failed}" for s in self.sinks if s.failed)
        trouble = self.trouble()
        if trouble:
            lines.append(trouble)
        if self.paused:
            lines.append("PAUSED")
        if self.blackout:
            lines.append("BLACKOUT")
        if self.config_error:
            lines.append("CONFIG NOT APPLIED: " + self.config_error[:90])
        return lines

    def trouble(self) -> str:
        """Failures and watchdog restarts so far, in one line ("" when none)."""
        parts = [f"{stage} {n}" for stage, n in self.errors.items() if n]
        stalls = [f"{stage} {n}" for stage, n in self.stalls.items() if n]
        dropped = [f"{s.name} {s.dropped}" for s in self.sinks if s.dropped]
        return "   ".join(f"{what} {', '.join(items)}" for what, items in
                          (("errors", parts), ("stalls", stalls), ("dropped", dropped))
                          if items)

    def stats_record(self) -> dict[str, Any]:
        """One `--stats` JSON line (see the README for the fields)."""
        record: dict[str, Any] = {
            "frame": self.frame,
            "seq": self.seq,
            "t_capture": None if self.t_capture is None else round(self.t_capture, 6),
            "t_present": None if self.t_present is None else round(self.t_present, 6),
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
            "stages_ms": {k: round(v, 2) for k, v in self.stages_ms.items()},
            "fps": round(self.fps, 2),
            "scene": self.scene,
            "style": self.style,
            "processing": list(self.processing),
        }
        m, w = self.motion, self.walk
        if m is not None and w is not None:
            record.update({
                "motion": {"energy": round(m.energy, 4), "presence": round(m.presence, 4),
                           "centroid": [round(m.centroid[0], 4), round(m.centroid[1], 4)],
                           "direction": [round(m.direction[0], 3), round(m.direction[1], 3)],
                           "ms": round(m.ms, 2)},
                "attract": w.attract,
                "generator": w.generator,
                "walk_speed": None if w.speed is None else round(w.speed, 4),
                "intensity": None if w.intensity is None else round(w.intensity, 4),
                "gan_ms": None if w.gan_ms is None else round(w.gan_ms, 2),
            })
        if self.perception is not None:
            record["perception"] = self.perception.record()
        return record
