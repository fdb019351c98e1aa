"""The loop's own faults: a turn that raises (a bug, or something nothing else caught)
never ends the show. It is logged — with its traceback the first time a message is seen,
rate-limited after — counted, and reported (HUD, /health, /metrics) while it is recent;
the last picture stays on screen and the next turn tries again."""

from __future__ import annotations

import logging
import time

from installation.logs import RateLimitedLog

log = logging.getLogger(__name__)

RECENT_S = 10.0  # a failure this recent makes the show degraded, s


class LoopFaults:
    def __init__(self) -> None:
        self.count = 0
        self.last: str | None = None  # the last failure, in one line
        self.t_last: float | None = None  # when, monotonic s
        self._seen: set[str] = set()
        self._log = RateLimitedLog(log, interval_s=30.0)

    def failed(self, exc: Exception) -> None:
        self.count += 1
        self.last = f"{type(exc).__name__}: {exc}"[:200]
        self.t_last = time.monotonic()
        if self.last not in self._seen and len(self._seen) < 64:
            self._seen.add(self.last)
            log.exception("a turn of the loop failed (the show goes on): %s", self.last)
        else:
            # Keyed by the kind of error: a message that varies cannot get past the limit.
            self._log.error(type(exc).__name__, f"a turn of the loop failed again: {self.last}")

    def reason(self, now: float) -> str | None:
        """Why the show is degraded because of its own failures, or None."""
        if self.t_last is None or now - self.t_last > RECENT_S:
            return None
        return f"the loop failed {self.count} time(s), last: {self.last}"
