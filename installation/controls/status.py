"""Status over HTTP (localhost by default): `/health` as JSON and `/metrics` for Prometheus.

The main loop publishes its `FrameState` after each shown frame, and once a second when
none is shown (one assignment: the server threads only ever read a complete one); the
metrics are counted from those states. The server answers from them, never touching the
pipeline, so a flood of requests costs the show only the CPU the server threads take.

/health: {"status": "ok" | "degraded", "reasons": [...], "fps", "latency_ms",
"uptime_s", "source": {"name", "state", "reconnects"}, "scene", "last_error",
"writing": {"recording", "snapshots"} (whether visitors' pictures are written),
"temporal": {"on", "kept", "unblended"} | null, "perception": {"count", "energy_raw",
"energy", "gain", "presence", "crowd", "ms", "network", "visitors": [{"id", "x", "y",
"width", "height", "motion", "still_s", "face"}]} | null, "sinks": [{"name", "sent",
"dropped", "failed"}]}; HTTP 200 when ok, 503 when degraded (so a plain HTTP check can
alarm on it). A person network not in use is said ("network": why), never a degradation:
background subtraction alone is a way the show runs.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import asdict
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import Field, field_validator

from installation.controls.http import DeadlineHandler, HttpServer
from installation.controls.listening import bind
from installation.controls.web.console import WebConsole
from installation.controls.web.guard import loopback, new_token
from installation.controls.web.record import console_record
from installation.errors import UserError
from installation.logs import RateLimitedLog
from installation.section import Listener
from installation.state import FrameState

log = logging.getLogger(__name__)

STALE_S = 5.0  # no frame shown for this long: degraded, s


class StatusConfig(Listener):
    """`[status]`: the health and metrics endpoint and the web console (HTTP)."""

    port: int = Field(8321, ge=0, le=65535, description="TCP port; 0 = any free one")
    console: bool = Field(True, description="the web console at / (its API under /api/)")
    token: str = Field("", description="the console's token when host is not loopback; "
                       "empty: one is made at each start and printed once")

    @field_validator("token")
    @classmethod
    def _strong(cls, v: str) -> str:
        if v and not TOKEN.match(v):
            raise ValueError("give at least 16 characters of letters, digits, '-' and '_' "
                             "(or leave it empty: one is made at each start)")
        return v


TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,256}$")  # a token that travels in a URL as it is


class LastError(logging.Handler):
    """Keeps the newest ERROR line logged by the installation, for /health."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.last = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {record.getMessage()}"


class Metrics:
    """The Prometheus metrics of one show, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.frames = Counter("installation_frames", "frames shown", registry=r)
        self.fps = Gauge("installation_fps", "frames shown per second, recent", registry=r)
        self.latency = Histogram(
            "installation_latency_seconds", "capture to present, s", registry=r,
            buckets=(0.01, 0.02, 0.033, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5))
        self.stage_errors = Counter("installation_stage_errors", "frames a stage failed on",
                                    ["stage"], registry=r)
        self.reconnects = Gauge("installation_camera_reconnects",
                                "times the camera came back after failing", registry=r)
        self.uptime = Gauge("installation_uptime_seconds", "since the show started",
                            registry=r)
        self.temporal_kept = Gauge(
            "installation_temporal_kept", "share of the last output the scene's temporal "
            "stabilisation kept in the last frame, 0..1 (0: off or none)", registry=r)
        self.temporal_unblended = Gauge(
            "installation_temporal_unblended", "frames of this scene shown unblended because "
            "the optical flow failed or was late", registry=r)
        # The visitors (0 while perception is off or before its first frame).
        self.visitors = Gauge("installation_visitors", "visitors tracked now", registry=r)
        self.energy = Gauge("installation_energy", "the visitors' motion after the room's "
                            "automatic gain, 0..1", registry=r)
        self.energy_raw = Gauge("installation_energy_raw", "the visitors' motion before the "
                                "gain, body heights/s", registry=r)
        self.energy_gain = Gauge("installation_energy_gain", "the room's automatic gain on "
                                 "the visitors' motion", registry=r)
        self.presence = Gauge("installation_presence", "someone is there, moving or still, "
                              "0..1", registry=r)
        self.perception_ms = Gauge("installation_perception_ms", "analysis time of the "
                                   "newest analysed frame, ms", registry=r)
        self.remote_up = Gauge("installation_remote_up", "1 while the serving engine "
                               "([runtime] remote) answers the networks' calls", registry=r)
        self.remote_rtt = Gauge("installation_remote_rtt_ms", "the serving engine's last "
                                "ping round trip, ms", registry=r)
        self.remote_counts = Counter("installation_remote_calls", "network calls, by where "
                                     "they ran: the serving engine ('server') or the local "
                                     "engine while it was down or refused ('local')",
                                     ["where"], registry=r)
        self.remote_falls = Counter("installation_remote_falls", "times the serving engine "
                                    "failed and the show fell back to the local engine",
                                    registry=r)


class StatusServer:
    """The HTTP server thread. `publish` from the main loop; requests read the snapshot."""

    def __init__(self, cfg: StatusConfig) -> None:
        self.metrics = Metrics()
        self.state = FrameState()
        self._counted: dict[str, int] = {}  # stage errors and stalls already in the metrics
        self.errors = LastError()
        self.requests = 0
        self._t0 = time.monotonic()
        server = self  # the handler class below reaches the server through this

        class Handler(DeadlineHandler):
            def do_GET(self) -> None:
                self._answer("GET")

            def do_HEAD(self) -> None:  # monitors that only look at the status code
                self._answer("HEAD")

            def do_POST(self) -> None:  # the console's commands
                self._answer("POST")

            def _answer(self, method: str) -> None:
                server.requests += 1
                path, body = self.path.split("?")[0], method != "HEAD"
                console = server.console
                if console is not None and console.serves(path):
                    console.answer(self, method, body)
                elif method == "POST":
                    self._send(405, "text/plain", b"only the console takes POST\n", body)
                elif path == "/health":
                    code, health = server.health()
                    self._send(code, "application/json", json.dumps(health).encode(), body)
                elif path == "/metrics":
                    server.metrics.uptime.set(time.monotonic() - server._t0)
                    self._send(200, CONTENT_TYPE_LATEST,
                               generate_latest(server.metrics.registry), body)
                else:
                    self._send(404, "text/plain", b"try /health, /metrics or / (the "
                               b"console)\n", body)

            def _send(self, code: int, kind: str, payload: bytes, body: bool) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if body:
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are not logged: a monitor polls every few seconds, for weeks."""

            def log_error(self, format: str, *args: Any) -> None:
                """A bad request line, a timeout: one rate-limited line, not stderr."""
                server.faults.warning(f"status {format}", "status: a request from "
                                      f"{self.client_address[0]}: {format % args}"[:200])

        # The console: open on loopback; elsewhere behind the token (made now if none).
        self.console: WebConsole | None = None
        self._made_token = False
        if cfg.console:
            token = None if loopback(cfg.host) else cfg.token or new_token()
            self._made_token = token is not None and not cfg.token
            self.console = WebConsole(token, self.console_state)
        self.faults = RateLimitedLog(log)
        self._http = bind(HttpServer, cfg.host, cfg.port, Handler, self.faults)
        self._thread = threading.Thread(target=self._http.serve_forever, name="status",
                                        daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._http.server_address[:2]
        return str(host), int(port)

    def start(self) -> StatusServer:
        logging.getLogger("installation").addHandler(self.errors)
        self._t0 = time.monotonic()
        self._thread.start()
        log.info("status: http://%s:%d/health and /metrics", *self.address)
        if self.console is not None:
            host, port = self.address
            token = self.console.guard.token
            if token is None:
                log.info("console: http://%s:%d/", host, port)
            elif self._made_token:  # said once, here: the operator opens this address
                log.warning("console: http://%s:%d/?token=%s (a token made for this run: "
                            "set [status] token to keep one)", host, port, token)
            else:
                log.info("console: http://%s:%d/ (with [status] token)", host, port)
        return self

    def stop(self) -> None:
        logging.getLogger("installation").removeHandler(self.errors)
        if self.console is not None:
            self.console.stop()  # its event streams end
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join(timeout=5.0)
        self._http.server_close()

    def publish(self, state: FrameState) -> None:
        """The newest frame state (from the loop): /health reads it, the metrics count it."""
        m = self.metrics
        if state.fresh:
            m.frames.inc()
            if state.latency_ms is not None:
                m.latency.observe(state.latency_ms / 1000.0)
        m.fps.set(state.fps)
        m.reconnects.set(state.source.reconnects)
        counts = {**state.errors, **{f"{k} stalled": v for k, v in state.stalls.items()}}
        for stage, n in counts.items():
            before = self._counted.get(stage, 0)
            if n > before:
                m.stage_errors.labels(stage).inc(n - before)
            self._counted[stage] = n
        t = state.temporal
        m.temporal_kept.set(t.kept if t is not None and t.on else 0)
        m.temporal_unblended.set(0 if t is None else t.unblended)
        p = state.perception
        for gauge, value in ((m.visitors, 0 if p is None else p.count),
                             (m.energy, 0.0 if p is None else p.energy),
                             (m.energy_raw, 0.0 if p is None else p.energy_raw),
                             (m.energy_gain, 0.0 if p is None else p.gain),
                             (m.presence, 0.0 if p is None else p.presence),
                             (m.perception_ms, 0.0 if p is None else p.ms)):
            gauge.set(value)
        r = state.remote
        m.remote_up.set(0 if r is None else int(r.up))
        m.remote_rtt.set(0.0 if r is None or r.rtt_ms is None else r.rtt_ms)
        if r is not None:  # the link's running totals, counted on from the last state
            for key, n, counter in (("server", r.calls, m.remote_counts.labels("server")),
                                    ("local", r.local_calls, m.remote_counts.labels("local")),
                                    ("falls", r.falls, m.remote_falls)):
                before = self._counted.get(f"remote {key}", 0)
                if n > before:
                    counter.inc(n - before)
                self._counted[f"remote {key}"] = n
        self.state = state

    def console_state(self) -> dict[str, Any]:
        """The web console's state: /health's object and the console's fields."""
        snap = self.state
        return console_record(self.health(snap)[1], snap)

    def health(self, snap: FrameState | None = None) -> tuple[int, dict[str, Any]]:
        """The /health answer for `snap` (None: the newest state): (HTTP status, JSON)."""
        snap, now = snap or self.state, time.monotonic()
        reasons = snap.reasons()
        if snap.t_present is None:
            reasons.append("no frame shown yet")
        elif now - snap.t_present > STALE_S:
            reasons.append(f"no frame shown for {now - snap.t_present:.0f} s")
        body = {
            "status": "degraded" if reasons else "ok",
            "reasons": reasons,
            "fps": round(snap.fps, 2),
            "latency_ms": None if snap.latency_ms is None else round(snap.latency_ms, 1),
            "uptime_s": round(now - self._t0, 1),
            "source": {"name": snap.source.name, "state": snap.source.state,
                       "reconnects": snap.source.reconnects},
            "scene": snap.scene,
            "last_error": self.errors.last,
            "writing": {"recording": snap.recording, "snapshots": snap.snapshots},
            "temporal": None if snap.temporal is None else {
                "on": snap.temporal.on, "kept": round(snap.temporal.kept, 3),
                "unblended": snap.temporal.unblended},
            "perception": None if snap.perception is None else snap.perception.record(),
            "sinks": [asdict(s) for s in snap.sinks],
            "errors": snap.errors,  # failures so far, by stage
            "stalls": snap.stalls,  # watchdog restarts so far, by stage
            "remote": None if snap.remote is None else asdict(snap.remote),
        }
        return (503 if reasons else 200), body



def open_status(cfg: StatusConfig) -> StatusServer | None:
    """The server when `[status]` is enabled; a port in use costs the endpoint, not the
    show (said in one line)."""
    if not cfg.enabled:
        return None
    try:
        return StatusServer(cfg)
    except UserError as exc:
        log.error("%s; the show runs without it", exc)
        return None
