"""OSC out: the frame state's signals sent over UDP, `send_hz` times a second, to every
`[osc] send_to` address, so lights and sound can follow the visitors.

    loop ──publish(FrameState)──► OscSender (own thread) ──UDP──► TouchDesigner, Max, QLab

The loop only hands over the newest state (one assignment); the sender's thread turns it
into messages and sends them, so a slow or absent receiver never costs a frame. A target
that cannot be reached, or a host name that does not resolve (the network may come up
after the piece), costs one rate-limited log line and is tried again; the show goes on.
Every address is in `OUT` (type tags, ranges): the README's table and the answer to
`/installation/addresses` (`installation.controls.osc`) come from it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from installation.logs import RateLimitedLog
from installation.state import FrameState

log = logging.getLogger(__name__)

OUT_PREFIX = "/installation/out"
RESOLVE_EVERY_S = 10.0  # a host name that did not resolve is tried again after this, s
MAX_VISITORS = 16  # visitor messages a tick at most (the rest are counted in `visitors`)

# Every address the piece sends: (address, OSC type tags, what and in which range).
OUT: list[tuple[str, str, str]] = [
    (f"{OUT_PREFIX}/presence", "f", "someone is there, moving or still, 0..1"),
    (f"{OUT_PREFIX}/energy", "f", "the visitors' motion after the room's gain, 0..1"),
    (f"{OUT_PREFIX}/crowd", "f", "how many, 0..1 (1: perception.crowd_full or more)"),
    (f"{OUT_PREFIX}/visitors", "i", "visitors tracked now, 0.."),
    (f"{OUT_PREFIX}/visitor", "ifffff",
     "one a visitor each tick: id, x, y (centre), width, height (fractions of the frame, "
     "0..1, y down), motion (body heights/s, 0..)"),
    (f"{OUT_PREFIX}/centroid", "ff", "where the motion is: x, y, fractions 0..1 (y down)"),
    (f"{OUT_PREFIX}/direction", "ff", "where it goes: a unit vector x, y (0, 0: still)"),
    (f"{OUT_PREFIX}/scene", "s", "the scene shown"),
    (f"{OUT_PREFIX}/style", "s", "the style, as the HUD says it"),
    (f"{OUT_PREFIX}/strength", "f", "the painting's strength, 0..1 (not sent without a "
     "style network)"),
    (f"{OUT_PREFIX}/attract", "i", "1 while attract mode plays (nobody there), else 0"),
    (f"{OUT_PREFIX}/blackout", "i", "1 while blacked out, else 0"),
    (f"{OUT_PREFIX}/fps", "f", "frames shown a second"),
    (f"{OUT_PREFIX}/latency_ms", "f", "capture to present of the last frame, ms"),
]


def message(address: str, *args: float | int | str) -> bytes:
    """One OSC message as a datagram (ints as i, floats as f, text as s)."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def messages(state: FrameState) -> list[bytes]:
    """The datagrams of one tick for `state`."""
    p, m, w = state.perception, state.motion, state.walk
    presence = p.presence if p is not None else m.presence if m is not None else 0.0
    energy = p.energy if p is not None else m.energy if m is not None else 0.0
    centroid = m.centroid if m is not None else (0.5, 0.5)
    direction = m.direction if m is not None else (0.0, 0.0)
    out = [
        message(f"{OUT_PREFIX}/presence", float(presence)),
        message(f"{OUT_PREFIX}/energy", float(energy)),
        message(f"{OUT_PREFIX}/crowd", 0.0 if p is None else float(p.crowd)),
        message(f"{OUT_PREFIX}/visitors", 0 if p is None else p.count),
        message(f"{OUT_PREFIX}/centroid", *map(float, centroid)),
        message(f"{OUT_PREFIX}/direction", *map(float, direction)),
        message(f"{OUT_PREFIX}/scene", state.scene),
        message(f"{OUT_PREFIX}/style", state.style),
        message(f"{OUT_PREFIX}/attract", int(w is not None and w.attract)),
        message(f"{OUT_PREFIX}/blackout", int(state.blackout)),
        message(f"{OUT_PREFIX}/fps", float(state.fps)),
        message(f"{OUT_PREFIX}/latency_ms", float(state.latency_ms or 0.0)),
    ]
    if state.strength is not None:
        out.append(message(f"{OUT_PREFIX}/strength", float(state.strength)))
    for v in () if p is None else p.visitors[:MAX_VISITORS]:
        out.append(message(f"{OUT_PREFIX}/visitor", v.id, float(v.x), float(v.y),
                           float(v.width), float(v.height), float(v.motion)))
    return out


def split_target(target: str) -> tuple[str, int]:
    """("host", port) of "host:port" ("[::1]:9001" for IPv6); ValueError saying why."""
    host, sep, port = target.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{target[:60]!r}: give host:port, e.g. 127.0.0.1:9001 (port "
                         "1..65535)")
    if not _numeric(host):
        try:  # what a lookup would refuse outright (an empty or over-long label)
            host.encode("idna")
        except UnicodeError:
            raise ValueError(f"{target[:60]!r}: {host[:40]!r} is not a host name") from None
    return host, int(port)


class Target:
    """One receiver: its address, resolved when first needed and again after a failure.

    A numeric address is read at once; a host name is looked up on a thread of its own (at
    most one lookup at a time, and RESOLVE_EVERY_S after the last one ended): where the
    name server does not answer, a lookup blocks for its whole timeout (seconds), and on
    the sending thread it would hold up every other receiver as long."""

    def __init__(self, target: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = target
        self.host, self.port = split_target(target)
        self.clock = clock
        self.family = socket.AF_INET
        # As the socket takes it (an IPv6 one keeps its flow and scope: fe80::1%eth0);
        # set last, after `family`.
        self.address: tuple[Any, ...] | None = None
        self.error: OSError | None = None  # the last lookup's failure, not yet reported
        self._lock = threading.Lock()
        self._looking = False
        self._tried = -RESOLVE_EVERY_S  # when the last failed lookup ended, monotonic s
        with contextlib.suppress(OSError, ValueError):  # a name: looked up when needed
            self._take(socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM,
                                          flags=socket.AI_NUMERICHOST))
        self.numeric = self.address is not None  # an IP address, read at once (no wait)

    def resolve(self, now: float) -> bool:
        """Whether the address is known; if not, a lookup starts when one is due."""
        if self.address is not None:
            return True
        with self._lock:
            if self._looking or now - self._tried < RESOLVE_EVERY_S:
                return False
            self._looking = True
        threading.Thread(target=self._look_up, name="osc-out-lookup", daemon=True).start()
        return False

    def forget(self) -> None:
        """The address failed: look the name up again (a numeric one is kept)."""
        if not self.numeric:
            self.address = None

    def _look_up(self) -> None:
        try:
            self._take(socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM))
        except OSError as exc:  # unknown, or no name server: reported by the sender
            self.error = exc
        except (ValueError, UnicodeError) as exc:  # a name no lookup takes: said alike
            self.error = OSError(str(exc))
        finally:
            with self._lock:
                self._looking = False
                self._tried = self.clock()  # after the wait, however long it was

    def _take(self, found: list[tuple[Any, ...]]) -> None:
        family, _, _, _, address = found[0]
        self.family = family
        self.address = tuple(address)


def _numeric(host: str) -> bool:
    """Whether `host` is an IP address (no name server is asked)."""
    try:
        socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, ValueError):  # a name (ValueError: one no lookup would take)
        return False
    return True


class OscSender:
    """The sending thread. `publish` from the loop; `stop` at the end."""

    def __init__(self, targets: list[str], hz: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.targets = [Target(t, clock) for t in targets]
        self.every_s = 1.0 / hz
        self.clock = clock
        self.faults = RateLimitedLog(log, interval_s=10.0, clock=clock)
        self.sent = 0  # datagrams sent
        self._state: FrameState | None = None
        self._sockets: dict[int, socket.socket] = {}  # by address family
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="osc-out", daemon=True)

    def publish(self, state: FrameState) -> None:
        self._state = state

    def start(self) -> OscSender:
        self._thread.start()
        log.info("osc out: %s, %g a second", ", ".join(t.name for t in self.targets),
                 1.0 / self.every_s)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        for sock in self._sockets.values():
            sock.close()

    def _run(self) -> None:
        next_t = self.clock()
        while not self._stop.is_set():
            state = self._state
            if state is not None:
                try:
                    self.send(messages(state))
                except Exception as exc:  # a bug here costs OSC out a tick, never the show
                    self.faults.warning("osc out", f"osc out: {type(exc).__name__}: {exc}")
            next_t = max(next_t + self.every_s, self.clock())
            self._stop.wait(max(0.0, next_t - self.clock()))

    def send(self, datagrams: list[bytes]) -> None:
        """Each datagram to each target that resolves; a failure is a line, not a stop."""
        now = self.clock()
        for target in self.targets:
            failed = target.error  # (cleared only when there is one: a lookup may be
            if failed is not None:  # writing it now, and then it is read next tick)
                target.error = None
            try:
                if failed is not None:
                    raise failed  # its lookup failed (on its own thread): said here
                address = target.address
                if not target.resolve(now) or address is None:
                    continue
                sock = self._socket(target.family)
                for datagram in datagrams:
                    sock.sendto(datagram, address)
                    self.sent += 1
            except OSError as exc:  # unresolvable, unreachable, refused: later again
                if isinstance(exc, socket.gaierror):
                    target.forget()
                self.faults.warning(f"osc out {target.name}",
                                    f"osc out: {target.name}: {exc.strerror or exc}; "
                                    "trying again")

    def _socket(self, family: int) -> socket.socket:
        sock = self._sockets.get(family)
        if sock is None:
            sock = self._sockets[family] = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)  # a full send buffer drops a datagram, never waits
        return sock


def open_sender(targets: list[str], hz: float) -> OscSender | None:
    """The sender when `[osc] send_to` names any address; started with the show."""
    return OscSender(targets, hz) if targets else None
