"""Status over HTTP (localhost by default): `/health` as JSON and `/metrics` for Prometheus.

The main loop publishes a `Snapshot` after each shown frame (one assignment: the server
threads only ever read a complete one) and counts into the metrics; the server answers
from those, never touching the pipeline, so a flood of requests costs the show only the
CPU the server threads take.

/health: {"status": "ok" | "degraded", "reasons": [...], "fps", "latency_ms",
"uptime_s", "source": {"name", "state", "reconnects"}, "scene", "last_error",
"writing": {"recording", "snapshots"} (whether visitors' pictures are written)}; HTTP 200
when ok, 503 when degraded (so a plain HTTP check can alarm on it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import Field

from installation.errors import UserError
from installation.section import Listener

log = logging.getLogger(__name__)

STALE_S = 5.0  # no frame shown for this long: degraded, s


class StatusConfig(Listener):
    """`[status]`: the health and metrics endpoint (HTTP)."""

    port: int = Field(8321, ge=0, le=65535, description="TCP port; 0 = any free one")


@dataclass(frozen=True)
class Snapshot:
    """What /health reports, as of the last shown frame."""

    fps: float = 0.0
    latency_ms: float | None = None
    scene: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()  # why the show is degraded; () = ok
    t_frame: float | None = None  # monotonic time of the last shown frame, s
    writing: dict[str, bool] = field(default_factory=dict)  # recording, snapshots: privacy
    temporal: dict[str, Any] | None = None  # the scene's stabiliser: on, kept, unblended


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


class StatusServer:
    """The HTTP server thread. `publish` from the main loop; requests read the snapshot."""

    def __init__(self, cfg: StatusConfig) -> None:
        self.metrics = Metrics()
        self.snapshot = Snapshot()
        self.errors = LastError()
        self.requests = 0
        self._t0 = time.monotonic()
        server = self  # the handler class below reaches the server through this

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                path = self.path.split("?")[0]
                if path == "/health":
                    code, body = server.health()
                    self._send(code, "application/json", json.dumps(body).encode())
                elif path == "/metrics":
                    server.metrics.uptime.set(time.monotonic() - server._t0)
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.metrics.registry))
                else:
                    self._send(404, "text/plain", b"try /health or /metrics\n")

            def _send(self, code: int, kind: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are not logged: a monitor polls every few seconds, for weeks."""

        try:
            self._http = ThreadingHTTPServer((cfg.host, cfg.port), Handler)
        except OSError as exc:
            raise UserError(f"status: cannot listen on {cfg.host}:{cfg.port} ({exc.strerror});"
                            " set [status] port to a free one, or enabled = false") from None
        self._http.daemon_threads = True
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
        return self

    def stop(self) -> None:
        logging.getLogger("installation").removeHandler(self.errors)
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join(timeout=5.0)
        self._http.server_close()

    def publish(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def health(self) -> tuple[int, dict[str, Any]]:
        """The /health answer: (HTTP status, JSON body)."""
        snap, now = self.snapshot, time.monotonic()
        reasons = list(snap.reasons)
        if snap.t_frame is None:
            reasons.append("no frame shown yet")
        elif now - snap.t_frame > STALE_S:
            reasons.append(f"no frame shown for {now - snap.t_frame:.0f} s")
        body = {
            "status": "degraded" if reasons else "ok",
            "reasons": reasons,
            "fps": round(snap.fps, 2),
            "latency_ms": None if snap.latency_ms is None else round(snap.latency_ms, 1),
            "uptime_s": round(now - self._t0, 1),
            "source": snap.source,
            "scene": snap.scene,
            "last_error": self.errors.last,
            "writing": snap.writing,
            "temporal": snap.temporal,
        }
        return (503 if reasons else 200), body

