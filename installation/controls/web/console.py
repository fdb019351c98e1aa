"""The web console: a page for a phone or a laptop and its JSON API, served by the status
server (same `[status]` host and port), and an input surface of the show.

    GET  /                    the page (static files in `static/`, no build step, no CDN)
    GET  /api/state           the show now: /health's object and the console's fields
    GET  /api/events          the same, live (server-sent events, a few a second)
    GET  /api/preview.jpg     the shown picture, small (204 until the first is made)
    GET  /api/addresses       every command the piece takes (name, arguments)
    POST /api/command         {"command": NAME, "value": VALUE} → 202; the show applies it
                              between frames, like an OSC message of the same name

Refusals change nothing and say why in JSON ({"error": ...}): 400 a body that is not a
command, 401 a wrong or missing token (off loopback: `guard`), 403 on loopback a Host that
is not a loopback name (DNS rebinding), 404, 405, 411/413 a body without a length or too
long, 415 not JSON, 429 too many, 503 the show's queue is full.
Each costs at most one rate-limited log line.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from installation import commands
from installation.commands import Command
from installation.controls.listening import drained
from installation.controls.web import api
from installation.controls.web.guard import Guard, local_host
from installation.controls.web.preview import Preview
from installation.logs import RateLimitedLog

log = logging.getLogger(__name__)

EVENTS_EVERY_S = 0.25  # a live state this often to each open page, s
KEEPALIVE_S = 10.0  # a comment line at least this often, so proxies keep the stream, s
MAX_STREAMS = 8  # pages open at once; more get 503
MAX_QUEUED = 256  # commands waiting for the loop; more get 503
STATIC = {  # path → (file in static/, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
}
HEADERS = {  # every console answer: nothing cached, nothing from elsewhere, no referrer
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; "
                               "frame-ancestors 'none'",
}


def addresses() -> list[dict[str, str]]:
    """Every command the piece takes, as the API and OSC name it."""
    return [{"command": name, "osc": f"/installation/{name}", "takes": takes}
            for name, takes in commands.addresses()]


class WebConsole:
    """The console's routes (`answer`, from the status server's request threads) and the
    queue of commands they fill (`drain`, from the loop)."""

    def __init__(self, token: str | None, state: Callable[[], dict[str, Any]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.guard = Guard(token, clock)
        self.state = state  # the JSON of /api/state, built from the published frame state
        self.preview = Preview(clock)
        self.commands: queue.Queue[Command] = queue.Queue(MAX_QUEUED)
        self.faults = RateLimitedLog(log, clock=clock)
        self.received = self.refused = 0
        self._streams = threading.BoundedSemaphore(MAX_STREAMS)
        self._stopping = threading.Event()
        self._pages = {path: (resources.files(__package__).joinpath("static", name)
                              .read_bytes(), kind) for path, (name, kind) in STATIC.items()}

    # -- the surface ------------------------------------------------------------------------

    def start(self) -> WebConsole:
        self._stopping.clear()
        return self

    def stop(self) -> None:
        self._stopping.set()  # open event streams end within EVENTS_EVERY_S

    def drain(self) -> list[Command]:
        return drained(self.commands)

    # -- the routes -------------------------------------------------------------------------

    def serves(self, path: str) -> bool:
        return path in self._pages or path.startswith("/api/")

    def answer(self, req: BaseHTTPRequestHandler, method: str, body: bool = True) -> None:
        """Answer one request for a path `serves` (method "GET", "HEAD" or "POST")."""
        path, _, query = req.path.partition("?")
        client = str(req.client_address[0])
        if path in self._pages:
            if method == "POST":
                return self._refuse(req, client, 405, "the page takes GET")
            payload, kind = self._pages[path]
            return _send(req, 200, kind, payload, body)
        if self.guard.token is None and not local_host(req.headers.get("Host")):
            return self._refuse(req, client, 403, "on loopback the console answers only "
                                "to localhost and 127.0.0.1 addresses", body)
        refusal = self.guard.check(client, _token(req, query))
        if refusal == 429:
            return self._refuse(req, client, 429, "too many refused requests: wait a second",
                                body)
        if refusal == 401:
            return self._refuse(req, client, 401, "a wrong or missing token: open the "
                                "address the show printed at start, with its ?token=", body)
        if method == "POST":
            if path != "/api/command":
                return self._refuse(req, client, 405 if path in GETS else 404, "no such call")
            return self._command(req, client)
        route = GETS.get(path)
        if route is None:
            return self._refuse(req, client, 404, f"no such call: {path[:60]}", body)
        route(self, req, body)

    def _command(self, req: BaseHTTPRequestHandler, client: str) -> None:
        if not self.guard.commands.allow(client):
            return self._refuse(req, client, 429, "too many commands: at most "
                                f"{self.guard.commands.rate:g} a second")
        kind = req.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":  # a form from another site cannot send JSON unasked
            return self._refuse(req, client, 415, "send application/json")
        length = req.headers.get("Content-Length")
        if length is None or not (length.isascii() and length.isdigit()):
            return self._refuse(req, client, 411, "give a Content-Length")
        if int(length) > api.MAX_BODY:
            return self._refuse(req, client, 413, f"at most {api.MAX_BODY} bytes")
        try:
            command = api.command(api.decode(req.rfile.read(int(length))))
        except ValueError as exc:
            return self._refuse(req, client, 400, str(exc))
        try:
            self.commands.put_nowait(command)
        except queue.Full:
            return self._refuse(req, client, 503, "the show is busy: try again")
        self.received += 1
        _json(req, 202, {"ok": True, "command": command.name.value, "value": _plain(command)})

    def _state(self, req: BaseHTTPRequestHandler, body: bool) -> None:
        _json(req, 200, self.state(), body)

    def _addresses(self, req: BaseHTTPRequestHandler, body: bool) -> None:
        _json(req, 200, addresses(), body)

    def _preview(self, req: BaseHTTPRequestHandler, body: bool) -> None:
        jpeg = self.preview.take()
        if jpeg is None:  # nothing encoded yet: it starts now
            return _send(req, 204, "image/jpeg", b"", body)
        _send(req, 200, "image/jpeg", jpeg, body)

    def _events(self, req: BaseHTTPRequestHandler, body: bool) -> None:
        if not self._streams.acquire(blocking=False):
            return _json(req, 503, {"error": f"at most {MAX_STREAMS} pages at once"}, body)
        try:
            req.send_response(200)
            req.send_header("Content-Type", "text/event-stream")
            for k, v in HEADERS.items():
                req.send_header(k, v)
            req.end_headers()
            if not body:
                return
            last, said = "", time.monotonic()
            while not self._stopping.is_set():
                data = json.dumps(self.state())
                now = time.monotonic()
                if data != last:
                    req.wfile.write(f"data: {data}\n\n".encode())
                    last, said = data, now
                elif now - said >= KEEPALIVE_S:
                    req.wfile.write(b": still here\n\n")
                    said = now
                req.wfile.flush()
                self._stopping.wait(EVENTS_EVERY_S)
        except OSError:
            pass  # the page went away
        finally:
            self._streams.release()

    def _refuse(self, req: BaseHTTPRequestHandler, client: str, code: int, why: str,
                body: bool = True) -> None:
        """A refusal in JSON (its body left out for HEAD), said in a rate-limited line."""
        self.refused += 1
        self.faults.warning(f"web {code}", f"web console: {req.command} "
                            f"{req.path.split('?')[0][:60]} from {client}: {code} {why}")
        _json(req, code, {"error": why}, body)


GETS: dict[str, Callable[[WebConsole, BaseHTTPRequestHandler, bool], None]] = {
    "/api/state": WebConsole._state,
    "/api/events": WebConsole._events,
    "/api/preview.jpg": WebConsole._preview,
    "/api/addresses": WebConsole._addresses,
}


def _token(req: BaseHTTPRequestHandler, query: str) -> str | None:
    """The token a request carries: `Authorization: Bearer T`, or `?token=T` (for what a
    page cannot put headers on: an image, an event stream)."""
    auth = req.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer "):].strip()
    given = parse_qs(query).get("token")
    return given[0] if given else None


def _plain(command: Command) -> Any:
    value = command.value
    return list(value) if isinstance(value, tuple) else value


def _json(req: BaseHTTPRequestHandler, code: int, data: Any, body: bool = True) -> None:
    _send(req, code, "application/json", json.dumps(data).encode(), body)


def _send(req: BaseHTTPRequestHandler, code: int, kind: str, payload: bytes,
          body: bool = True) -> None:
    req.send_response(code)
    req.send_header("Content-Type", kind)
    req.send_header("Content-Length", str(len(payload)))
    for k, v in HEADERS.items():
        req.send_header(k, v)
    req.end_headers()
    if body:
        req.wfile.write(payload)
