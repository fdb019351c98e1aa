"""OSC remote control: a python-osc UDP server (loopback by default) that turns messages
into `Command`s for the main loop, which applies them between frames.

Every address is `/installation/` and a command name of `installation.commands` (arguments
in brackets; the README lists them with examples):

    /installation/scene          [name | index]      go to a scene
    /installation/scene/step     [1 | -1 | "next" | "prev"]
    /installation/style          [index | "next" | "prev"]
    /installation/style/step     [1 | -1 | "next" | "prev"]
    /installation/style/weights  [w0 .. w25] or [index, weight, index, weight, ...]
    /installation/strength       [0..1]
    /installation/hud, blackout, temporal, mirror, pause, fullscreen, attract, overlay
                                 [0 | 1] (no argument: toggle)
    /installation/reseed, generator, snapshot    (no argument)
    /installation/walk/FIELD     [number]  FIELD: idle_speed, motion_speed, max_step,
                                           response_tau_s
    /installation/dream/FIELD    [number]  FIELD: steps, step_size, feedback, reset_px,
                                           zoom_per_s

`/installation/addresses` (no arguments) is answered, to the port that asked, with the list
of every address the piece accepts and sends (`address_list`). `quit` is not taken from
the network: stopping the piece is for the keyboard and systemd.
A message with a wrong address, arguments or a packet that does not parse costs one log
line (at most one a second per kind of fault, with a count of those left out), never the
show. Ranges are checked where the command is applied (the main loop has the settings).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator
from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from installation import commands
from installation.commands import Command, Name
from installation.controls.listening import LibraryLines, Quiet, bind, drained
from installation.controls.osc_out import OUT, message, split_target
from installation.logs import RateLimitedLog
from installation.section import Listener

log = logging.getLogger(__name__)

PREFIX = "/installation"


class OscConfig(Listener):
    """`[osc]`: remote control over OSC (UDP), and the signals sent out."""

    port: int = Field(9000, ge=0, le=65535, description="UDP port; 0 = any free one")
    send_to: list[str] = Field(default_factory=list, max_length=16,
                               description="host:port addresses OSC out sends to")
    send_hz: float = Field(30.0, ge=1.0, le=120.0, description="OSC out ticks a second")

    @field_validator("send_to")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        for target in v:
            split_target(target)
        return v


MAX_BUNDLES = 16  # bundles in one datagram, nested or not: more is garbage, not parsed


class _Server(Quiet, BlockingOSCUDPServer):
    """Says so when a datagram is not OSC at all (python-osc drops those silently); any
    error in handling one is a rate-limited line (`Quiet`)."""

    label = "osc"

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
        # Bundles nested hundreds deep recurse in python-osc's parser until Python gives
        # up: counted first (cheap), never parsed.
        if data.count(b"#bundle\x00") > MAX_BUNDLES:
            self.faults.warning("garbage", f"osc: a packet from {client_address[0]} holds "
                                f"more than {MAX_BUNDLES} bundles; ignored")
            return []
        try:
            osc_packet.OscPacket(data)
        except Exception as exc:  # ParseError, and what a hostile packet finds (bad UTF-8)
            self.faults.warning("garbage", f"osc: a packet from {client_address[0]} is not "
                                f"OSC ({type(exc).__name__}: {str(exc)[:80]}); ignored")
            return []
        return super().call_handlers_for_packet(data, client_address)


ADDRESSES = f"{PREFIX}/addresses"  # the query: answered with address_list()
ANSWER_EVERY_S = 1.0  # the list is sent at most this often, s


def address_list() -> list[bytes]:
    """`/installation/out/addresses` messages, one an address: (address, "in" | "out",
    OSC type tags or "", what it takes or says). Every address the piece accepts, then
    every address it sends."""
    listed = [message(f"{PREFIX}/out/addresses", f"{PREFIX}/{name}", "in", "", takes)
              for name, takes in commands.addresses()]
    listed.append(message(f"{PREFIX}/out/addresses", ADDRESSES, "in", "",
                          "none: this list, to the asking port"))
    listed += [message(f"{PREFIX}/out/addresses", address, "out", tags, says)
               for address, tags, says in OUT]
    return listed


def parse(address: str, args: tuple[Any, ...]) -> Command:
    """The command for one message (the address names it, see `installation.commands`);
    ValueError saying what is wrong."""
    if not address.startswith(PREFIX + "/"):
        raise ValueError("unknown address")
    name = address[len(PREFIX) + 1:]
    if not commands.known(name):
        raise ValueError("unknown address")
    if name == Name.QUIT.value:
        raise ValueError("quit is not taken over the network")
    return commands.parse(name, args, source="osc")


class OscControl:
    """The OSC server thread and the queue of commands it fills."""

    def __init__(self, cfg: OscConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.faults = RateLimitedLog(log, clock=clock)  # `clock`: monotonic s, for its window
        self._library = LibraryLines(self.faults, "osc", "pythonosc")
        self.received = 0
        dispatcher = _Dispatcher(self.faults)
        dispatcher.map(ADDRESSES, self._addresses, needs_reply_address=True)
        dispatcher.set_default_handler(self._handle)
        self._answered = float("-inf")  # when the address list was last sent, monotonic s
        self.clock = clock
        self._server = bind(_Server, cfg.host, cfg.port, dispatcher, self.faults)
        self._thread = threading.Thread(target=self._server.serve_forever, name="osc",
                                        daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> OscControl:
        logging.getLogger().addFilter(self._library)
        self._thread.start()
        log.info("osc: listening on %s:%d (UDP)", *self.address)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a loop that must be running
            self._server.shutdown()
            self._thread.join(timeout=5.0)
        self._server.server_close()
        logging.getLogger().removeFilter(self._library)

    def drain(self) -> list[Command]:
        """Every command received since the last call, oldest first."""
        return drained(self.commands)

    def _addresses(self, client: tuple[str, int], address: str, *args: Any) -> None:
        """`/installation/addresses`: the list, to the port that asked, at most once a
        second (a forged sender cannot turn the piece into an amplifier)."""
        now = self.clock()
        if now - self._answered < ANSWER_EVERY_S:
            self.faults.warning("addresses", f"osc: {ADDRESSES} asked again within "
                                f"{ANSWER_EVERY_S:g} s; not answered")
            return
        self._answered = now
        for datagram in address_list():
            self._server.socket.sendto(datagram, client)

    def _handle(self, address: str, *args: Any) -> None:
        try:
            self.commands.put(parse(address, args))
            self.received += 1
        except ValueError as exc:
            said = f"{address[:80]} {list(args)!r:.120}"  # a datagram may be 64 kB
            self.faults.warning("message", f"osc: {said}: {str(exc)[:200]}; ignored")
        except Exception as exc:  # never let a message reach the server's traceback printer
            self.faults.warning("message", f"osc: {address[:80]}: {type(exc).__name__}; "
                                "ignored")
