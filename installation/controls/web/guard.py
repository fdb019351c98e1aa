"""Who may use the web console's API, and how often.

On loopback (the default) the console needs no token: whoever can reach 127.0.0.1 already
sits at the machine. Bound to any other address, every `/api/` request needs the token
(`[status] token`, or one generated at start and printed once), compared in constant time.
Every client (by IP address) has a token bucket for commands and one for refusals, so a
flood or a token guessed at costs a 429 and a rate-limited log line, never the show.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

COMMANDS_PER_S = 20.0  # commands a client may send each second, sustained
COMMAND_BURST = 40  # ... and at once (a slider dragged fast)
REFUSALS_PER_S = 1.0  # refused requests (a wrong token) a client may make each second
REFUSAL_BURST = 10
MAX_CLIENTS = 1024  # buckets remembered; past this the oldest are forgotten (bounded memory)


def loopback(host: str) -> bool:
    """Whether `host` (a listening address) is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def local_host(header: str | None) -> bool:
    """Whether a request's Host header names this machine by a loopback name (or is
    absent: only browsers matter here, and they always send it). On loopback, with no
    token, a page elsewhere could otherwise reach the API through a name it re-points at
    127.0.0.1 (DNS rebinding)."""
    if not header:
        return True
    host = header.strip()
    if host.startswith("["):  # [::1]:8321
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:  # 127.0.0.1:8321, localhost:8321
        host = host.partition(":")[0]
    return loopback(host.lower())


def new_token() -> str:
    """A token for this run: 128 random bits, URL-safe (it travels in the page's address)."""
    return secrets.token_urlsafe(16)


@dataclass
class Bucket:
    """A token bucket: `rate` per second, `burst` at most."""

    rate: float
    burst: float
    level: float
    t: float

    def take(self, now: float, spend: bool = True) -> bool:
        """Whether one is left at `now` (monotonic s), spending it when `spend`."""
        self.level = min(self.burst, self.level + (now - self.t) * self.rate)
        self.t = now
        if self.level >= 1.0:
            self.level -= float(spend)
            return True
        return False


class Limiter:
    """Token buckets by client; thread-safe (one HTTP thread per request)."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Whether `client` may go on now (spending one from its bucket)."""
        return self._use(client, spend=True)

    def left(self, client: str) -> bool:
        """Whether `client` has any left now (spending nothing)."""
        return self._use(client, spend=False)

    def _use(self, client: str, spend: bool) -> bool:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if not spend:
                    return True
                if len(self._buckets) >= MAX_CLIENTS:
                    self._buckets.pop(next(iter(self._buckets)))
                bucket = self._buckets[client] = Bucket(self.rate, self.burst, self.burst, now)
            return bucket.take(now, spend)


class Guard:
    """The console's access rule. `token` None: open (loopback)."""

    def __init__(self, token: str | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.commands = Limiter(COMMANDS_PER_S, COMMAND_BURST, clock)
        self.refusals = Limiter(REFUSALS_PER_S, REFUSAL_BURST, clock)

    def check(self, client: str, given: str | None) -> int | None:
        """None when a request from `client` carrying the token `given` (None: none) may
        use the API; else the HTTP refusal: 401 (wrong or missing token), 429 (this client
        was refused too often: answered so until its bucket refills). A 128-bit token is
        not found by guessing at any rate; the bucket bounds the log and the work."""
        if self.token is None:
            return None
        if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            return None  # the right token is never locked out (a NAT shares addresses)
        return 401 if self.refusals.allow(client) else 429
