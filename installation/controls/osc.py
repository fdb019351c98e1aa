"""OSC remote control: a python-osc UDP server (loopback by default) that turns messages
into `Command`s for the main loop, which applies them between frames.

Addresses (arguments in brackets; the README lists them with examples):

    /installation/scene          [name | index]      go to a scene
    /installation/style          [index | "next" | "prev"]
    /installation/style/weights  [w0 .. w25] or [index, weight, index, weight, ...]
    /installation/strength       [0..1]
    /installation/hud            [0 | 1] (no argument: toggle)
    /installation/blackout       [0 | 1] (no argument: toggle)
    /installation/temporal       [0 | 1] (no argument: toggle) temporal stabilisation
    /installation/walk/FIELD     [number]  FIELD: idle_speed, motion_speed, max_step,
                                           response_tau_s
    /installation/dream/FIELD    [number]  FIELD: steps, step_size, feedback, reset_px,
                                           zoom_per_s

A message with a wrong address, arguments or a packet that does not parse costs one log
line (at most one a second per kind of fault, with a count of those left out), never the
show. Ranges are checked where the command is applied (the main loop has the settings).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from installation.effects.config import NUM_STYLES
from installation.errors import UserError
from installation.section import Listener

log = logging.getLogger(__name__)

PREFIX = "/installation"
WALK_FIELDS = ("idle_speed", "motion_speed", "max_step", "response_tau_s")
DREAM_FIELDS = ("steps", "step_size", "feedback", "reset_px", "zoom_per_s")


class OscConfig(Listener):
    """`[osc]`: remote control over OSC (UDP)."""

    port: int = Field(9000, ge=0, le=65535, description="UDP port; 0 = any free one")


@dataclass(frozen=True)
class Command:
    """One operator command: `what` and its value — 'scene' (name or index), 'style'
    (('set', index) or ('step', ±1)), 'weights' ({index: weight}), 'strength' (0..1),
    'hud' / 'blackout' / 'temporal' (bool, or None to toggle), 'walk' / 'dream' ((field,
    number))."""

    what: str
    value: Any


class RateLimitedLog:
    """At most one line per `key` each `interval_s`; the next says how many were left out."""

    def __init__(self, logger: logging.Logger, interval_s: float = 1.0) -> None:
        self.logger, self.interval_s = logger, interval_s
        self._last: dict[str, float] = {}
        self._dropped: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, -1e9) < self.interval_s:
                self._dropped[key] = self._dropped.get(key, 0) + 1
                return
            self._last[key] = now
            dropped = self._dropped.pop(key, 0)
        more = f" ({dropped} more like it left out)" if dropped else ""
        self.logger.warning("%s%s", message, more)


class _Server(BlockingOSCUDPServer):
    """Says so when a datagram is not OSC at all (python-osc drops those silently)."""

    faults: RateLimitedLog

    def verify_request(self, request: Any, client_address: Any) -> bool:
        ok = bool(super().verify_request(request, client_address))
        if not ok:
            self.faults.warning("garbage", f"osc: a datagram from {client_address[0]} is "
                                "not OSC; ignored")
        return ok


class _Dispatcher(Dispatcher):
    """Says so when a packet does not parse (python-osc drops those silently)."""

    def __init__(self, faults: RateLimitedLog) -> None:
        # Bundles run at once: honouring a timetag would let one message put the server
        # to sleep (an hour ahead: an hour), and shutdown with it.
        super().__init__(strict_timing=False)
        self.faults = faults

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        try:
            osc_packet.OscPacket(data)
        except osc_packet.ParseError as exc:
            self.faults.warning("garbage", f"osc: a packet from {client_address[0]} is not "
                                f"OSC ({exc}); ignored")
            return []
        return super().call_handlers_for_packet(data, client_address)


def parse(address: str, args: tuple[Any, ...]) -> Command:
    """The command for one message; ValueError saying what is wrong."""
    if not address.startswith(PREFIX + "/"):
        raise ValueError("unknown address")
    path = address[len(PREFIX) + 1:].split("/")
    head = path[0]
    if head in ("walk", "dream") and len(path) == 2:
        fields = WALK_FIELDS if head == "walk" else DREAM_FIELDS
        if path[1] not in fields:
            raise ValueError(f"unknown {head} setting; known: {', '.join(fields)}")
        return Command(head, (path[1], _number(args)))
    if len(path) == 2 and path == ["style", "weights"]:
        return Command("weights", _weights(args))
    if len(path) != 1:
        raise ValueError("unknown address")
    if head == "scene":
        (value,) = _exactly(args, 1)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("give a scene name or index")
        return Command("scene", value)
    if head == "style":
        (value,) = _exactly(args, 1)
        if value in ("next", "prev"):
            return Command("style", ("step", 1 if value == "next" else -1))
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < NUM_STYLES:
            return Command("style", ("set", value))
        raise ValueError(f"give a style index 0..{NUM_STYLES - 1}, 'next' or 'prev'")
    if head == "strength":
        value = _number(args)
        if not 0.0 <= value <= 1.0:
            raise ValueError("strength is 0..1")
        return Command("strength", value)
    if head in ("hud", "blackout", "temporal"):
        if not args:
            return Command(head, None)  # toggle
        return Command(head, bool(_number(args)))
    raise ValueError("unknown address")


def _exactly(args: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    if len(args) != n:
        raise ValueError(f"give {n} argument{'s' if n > 1 else ''}, not {len(args)}")
    return args


def _number(args: tuple[Any, ...]) -> float:
    (value,) = _exactly(args, 1)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise ValueError("give a (finite) number")
    return float(value)


def _weights(args: tuple[Any, ...]) -> dict[str, float]:
    if not args or not all(isinstance(a, int | float) and not isinstance(a, bool)
                           and math.isfinite(a) for a in args):
        raise ValueError(f"give {NUM_STYLES} weights, or index, weight pairs")
    if len(args) == NUM_STYLES:
        return {str(i): float(w) for i, w in enumerate(args) if w}
    if len(args) % 2:
        raise ValueError(f"give {NUM_STYLES} weights, or index, weight pairs")
    pairs = {}
    for index, weight in zip(args[::2], args[1::2], strict=True):
        if not float(index).is_integer():
            raise ValueError(f"style index {index} is not a whole number")
        pairs[str(int(index))] = float(weight)
    return pairs


class OscControl:
    """The OSC server thread and the queue of commands it fills."""

    def __init__(self, cfg: OscConfig) -> None:
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.faults = RateLimitedLog(log)
        self.received = 0
        dispatcher = _Dispatcher(self.faults)
        dispatcher.set_default_handler(self._handle)
        try:
            self._server = _Server((cfg.host, cfg.port), dispatcher)
        except OSError as exc:
            raise UserError(f"osc: cannot listen on {cfg.host}:{cfg.port} ({exc.strerror}); "
                            "set [osc] port to a free one, or enabled = false") from None
        self._server.faults = self.faults
        self._thread = threading.Thread(target=self._server.serve_forever, name="osc",
                                        daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> OscControl:
        self._thread.start()
        log.info("osc: listening on %s:%d (UDP)", *self.address)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a loop that must be running
            self._server.shutdown()
            self._thread.join(timeout=5.0)
        self._server.server_close()

    def drain(self) -> list[Command]:
        """Every command received since the last call, oldest first."""
        out = []
        while True:
            try:
                out.append(self.commands.get_nowait())
            except queue.Empty:
                return out

    def _handle(self, address: str, *args: Any) -> None:
        try:
            self.commands.put(parse(address, args))
            self.received += 1
        except ValueError as exc:
            self.faults.warning("message", f"osc: {address} {list(args)!r}: {exc}; ignored")
        except Exception as exc:  # never let a message reach the server's traceback printer
            self.faults.warning("message", f"osc: {address}: {type(exc).__name__}; ignored")
