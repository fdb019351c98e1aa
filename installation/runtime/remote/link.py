"""The display side's link to one serving engine: is it used now, and how far away is it.

    up ──(a call fails or is late, or a ping fails)──► down: every network runs locally
    ▲                                                  │ a fresh channel pings every second
    └──── 3 answers in a row, and `hold` since the ────┘
          fall (3 s; doubled after a fall soon after
          a return, up to 5 minutes)

A call late while other calls came back meanwhile does not take the link down: that network
is slow there, and it alone runs locally for a while (network.py). A fall is said in the log
(and in the HUD and /health while it lasts), the return too; a server that keeps falling is
said at most once each per 10 minutes, the next line saying how many were left out. While
up, a ping every 2 s keeps the round-trip time and finds a server that went away while no
network was called. Each caller keeps a client of its own (`client`): gRPC channels are
cheap, and a channel that saw the server die waits out its reconnect backoff, so the watcher
pings on a fresh channel each time it is down.
"""

from __future__ import annotations

import logging
import socket
import statistics
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from installation.logs import RateLimitedLog
from installation.runtime.remote.wire import NOT_HOSTED, parse_url
from installation.state import RemoteState

if TYPE_CHECKING:
    from tritonclient.grpc import InferenceServerClient

log = logging.getLogger(__name__)

PING_DOWN_S = 1.0  # between pings while down, s
PING_UP_S = 2.0  # between pings while up (round-trip time; a server gone quiet), s
NEED = 3  # answers in a row before the server is used again
HOLD_S = 3.0  # ... and at least this long after a fall, s
HOLD_MAX_S = 300.0  # ... doubled after each fall soon after a return, up to this, s
STABLE_S = 30.0  # up this long: a later fall is a new story (hold back to HOLD_S), s
SAID_EVERY_S = 600.0  # falls and returns said at most once each this often, s
CALLS_KEPT = 50  # call times kept for the median
REFUSED_KEPT_S = 10.0  # a refused network not called since is forgotten (HUD, /health), s


def client_for(server: str) -> InferenceServerClient:
    """A new Triton gRPC client for `server` ("host:port"): a channel of its own."""
    from tritonclient.grpc import InferenceServerClient

    return InferenceServerClient(server)


class RemoteLink:
    """One serving engine (`[runtime] remote`), shared by every network sent there."""

    def __init__(self, url: str, deadline_ms: float, client_name: str = "",
                 compression: str = "none") -> None:
        self.server = parse_url(url)
        self.deadline_s = deadline_ms / 1000.0
        self.client_name = client_name or socket.gethostname()
        self.compression = None if compression == "none" else compression
        self.epoch = 0  # +1 each time the server is (again) used: networks re-check it
        self._lock = threading.Lock()
        self._up = False
        self._reason = "not reached yet"
        self._need = 1  # at start one answer is enough: there was no fall
        self._answers = 0
        self._hold_s = 0.0  # since the last fall, before the server is used again
        self._t_fall = 0.0
        self._t_up = 0.0
        self._said = RateLimitedLog(log, SAID_EVERY_S)
        self._falls = 0
        self._rtt_ms: float | None = None
        self._calls: deque[float] = deque(maxlen=CALLS_KEPT)
        self.answered_calls = 0
        self._t_answer = float("-inf")  # when a call last came back, monotonic s
        # caller → the network it runs locally all the same, why, and when that was last
        # found (each local call renews it: one no scene calls any more is forgotten)
        self._refused: dict[int, tuple[str, str, float]] = {}
        self.local_calls = 0
        self._clients: list[InferenceServerClient] = []  # handed out: closed with the link
        self._retired: list[InferenceServerClient] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- for the networks ---------------------------------------------------------------

    def usable(self) -> bool:
        return self._up

    def current(self) -> int | None:
        """The epoch the server is used in now (None: it is not). A call made in an
        epoch hands it to `failed`: a late failure from before a return is ignored."""
        with self._lock:
            return self.epoch if self._up else None

    def client(self) -> InferenceServerClient:
        """A client of its own for a caller; closed with the link."""
        made = client_for(self.server)
        with self._lock:
            self._clients.append(made)
        return made

    def retire(self, client: InferenceServerClient) -> None:
        """A caller is done with `client` (closed at the next return, or with the link:
        a call on it in another thread is let finish)."""
        with self._lock:
            self._retired.append(client)

    def answered(self, ms: float) -> None:
        """A call came back in `ms`."""
        with self._lock:
            self._calls.append(ms)
            self.answered_calls += 1
            self._t_answer = time.monotonic()

    def answered_since(self, t: float) -> bool:
        """Whether a call came back after monotonic time `t` (s): the server was serving
        then, whatever one late call says."""
        return self._t_answer > t

    def refused(self, caller: object, network: str, why: str | None) -> None:
        """`network` (called through `caller`: two scenes may each hold one) runs locally
        while the server is used, because `why` (None: it is sent there again)."""
        now = time.monotonic()
        with self._lock:
            if why is None:
                self._refused.pop(id(caller), None)
            else:
                self._refused[id(caller)] = (network, why, now)
            for key in [k for k, (_, _, t) in self._refused.items() if now - t >= REFUSED_KEPT_S]:
                del self._refused[key]  # no growth however many scenes came and went

    def ran_locally(self) -> None:
        with self._lock:
            self.local_calls += 1

    def failed(self, reason: str, epoch: int | None = None) -> None:
        """A call (made in `epoch`) or a ping failed or was late: every network runs
        locally until the server answers `need` pings in a row. Said once per fall."""
        now = time.monotonic()
        with self._lock:
            if not self._up or (epoch is not None and epoch != self.epoch):
                return
            self._up = False
            self._reason = reason
            self._falls += 1
            quick = now - self._t_up < STABLE_S
            self._hold_s = min(HOLD_MAX_S, max(HOLD_S, self._hold_s * 2)) if quick else HOLD_S
            self._need, self._answers, self._t_fall = NEED, 0, now
            hold = self._hold_s
        self._said.log(logging.WARNING, "fall", f"remote engine {self.server} failed "
                       f"({reason}): the networks run locally, for {hold:.0f} s at least")

    def _returned(self, rtt_ms: float) -> None:
        with self._lock:
            self.epoch += 1  # before `up`: no call is made in the old epoch once it is up
            self._up = True
            self._t_up = time.monotonic()
            self._rtt_ms = rtt_ms
            first = self._falls == 0 and self.epoch == 1
            retired, self._retired = self._retired, []
            self._clients = [c for c in self._clients if c not in retired]  # no growth
        for old in retired:  # their calls ended (each had its deadline) before the fall
            _close(old)
        if first:
            log.info("remote engine %s answers (%.1f ms): the networks run there",
                     self.server, rtt_ms)
        else:
            self._said.log(logging.WARNING, "return", f"remote engine {self.server} answers "
                           f"again ({rtt_ms:.1f} ms): the networks run there")

    def state(self) -> RemoteState:
        with self._lock:
            calls = list(self._calls)
            return RemoteState(self.server, self._up, self._rtt_ms,
                               statistics.median(calls) if calls else None,
                               None if self._up else self._reason, self._falls,
                               self.answered_calls, self.local_calls,
                               *self._refusals())

    def _refusals(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """"network: why" of each network refused lately, once each; and those of them
        that are faults (not hosted there is none). Under the lock."""
        now = time.monotonic()
        lately = sorted({(n, why) for n, why, t in self._refused.values()
                         if now - t < REFUSED_KEPT_S})
        return (tuple(f"{n}: {why}" for n, why in lately),
                tuple(f"{n}: {why}" for n, why in lately if not why.startswith(NOT_HOSTED)))

    # -- the watcher --------------------------------------------------------------------

    def start(self) -> RemoteLink:
        """Starts watching (a daemon thread); the first ping is made at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="remote-link",
                                            daemon=True)
            self._thread.start()
        return self

    def wait_up(self, timeout_s: float) -> bool:
        """True once the server is used (at most `timeout_s`): for start-up and tests."""
        end = time.monotonic() + timeout_s
        while not self._up and time.monotonic() < end:
            time.sleep(0.02)
        return self._up

    def close(self) -> None:
        """Stops the watcher and closes every client handed out."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.deadline_s + 1.0)
        with self._lock:
            clients, self._clients, self._retired = self._clients, [], []
        for made in clients:
            _close(made)

    def _watch(self) -> None:
        kept: InferenceServerClient | None = None  # while up: one channel, kept
        while not self._stop.is_set():
            try:
                kept = self._ping(kept)
            except Exception as exc:  # a bug here must not leave the link stuck
                self._said.log(logging.ERROR, "watcher", f"remote engine {self.server}: "
                               f"its watcher failed ({type(exc).__name__}: {exc}); it goes on")
                kept = None
            self._stop.wait(PING_UP_S if self._up else PING_DOWN_S)
        if kept is not None:
            _close(kept)

    def _ping(self, kept: InferenceServerClient | None) -> InferenceServerClient | None:
        """One ping; the channel to keep for the next (None: a fresh one then)."""
        pinger = kept if kept is not None else client_for(self.server)
        try:
            t0 = time.perf_counter()
            ready = pinger.is_server_ready(client_timeout=self.deadline_s)
            self._pinged(bool(ready), (time.perf_counter() - t0) * 1000.0, "not ready")
        except Exception as exc:  # unreachable, refused, late: all mean "not now"
            self._pinged(False, 0.0, short_error(exc))
        if self._up:  # the channel is kept for the next ping
            return pinger
        _close(pinger)  # a fresh one next time: a channel that saw it die waits its backoff
        return None

    def _pinged(self, ready: bool, rtt_ms: float, why: str) -> None:
        if self._up:
            if ready:
                self._rtt_ms = rtt_ms
                if time.monotonic() - self._t_up > STABLE_S:
                    self._hold_s = HOLD_S
            else:
                self.failed(f"ping: {why}")
            return
        if not ready:
            self._answers = 0
            self._reason = why
            return
        self._answers += 1
        held = time.monotonic() - self._t_fall >= self._hold_s
        if self._answers >= self._need and held:
            self._returned(rtt_ms)


# Errors of the way there, not of one network: the server is gone, late or going away.
LINK_ERRORS = ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED",
               "StatusCode.CANCELLED", "StatusCode.RESOURCE_EXHAUSTED")


def _status(exc: BaseException) -> str:
    """A client error's gRPC status ("StatusCode.…"), or its message when it has none."""
    status = getattr(exc, "status", None)
    return str(status() if callable(status) else "") or str(exc)


def late(exc: BaseException) -> bool:
    """Whether a failed call ran out of its deadline (rather than found no server)."""
    return "StatusCode.DEADLINE_EXCEEDED" in _status(exc) or isinstance(exc, TimeoutError)


def link_error(exc: BaseException) -> bool:
    """Whether a failed call says the server is unreachable, late or overloaded (the link
    falls) rather than that this one network failed there (that network stays local)."""
    said = _status(exc)
    return any(code in said for code in LINK_ERRORS) or isinstance(exc, (OSError,
                                                                          TimeoutError))


def _close(client: InferenceServerClient) -> None:
    try:
        client.close()
    except Exception as exc:  # a channel that will not close is left to the collector
        log.debug("a remote engine client did not close: %s", exc)


def short_error(exc: BaseException) -> str:
    """A client error in one short line (gRPC's messages run to several)."""
    text = " ".join(str(exc).split())
    for marker in ("StatusCode.", "Deadline", "failed to connect", "Connection refused",
                   "Socket closed", "unavailable"):
        if marker in text:
            at = text.index(marker)
            return text[at:at + 80]
    return f"{type(exc).__name__}: {text[:80]}"
