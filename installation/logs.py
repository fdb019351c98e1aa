"""Structured log lines to stderr (and a rotating file when configured); repeats rate-limited.

Two kinds of limit: `RepeatFilter` on every handler drops the very same line repeated
within a window; `RateLimitedLog` is for code that logs one kind of fault at a time
(a stage's failures, bad OSC packets): one line per key and interval, and the next line
says how many were left out.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from installation.errors import UserError
from installation.section import Section

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REPEAT_WINDOW_S = 30.0  # the same message from the same place is shown once per window


class LoggingConfig(Section):
    """`[logging]`: how much is logged, and where besides stderr."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    file: str = ""


class RepeatFilter(logging.Filter):
    """Drops a record whose (logger, message) was let through less than `window_s` ago."""

    def __init__(self, window_s: float = REPEAT_WINDOW_S) -> None:
        super().__init__()
        self.window_s = window_s
        self._last: dict[tuple[str, str], float] = {}
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.getMessage())
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.window_s:
            self.suppressed += 1
            return False
        self._last[key] = now
        if len(self._last) > 4096:  # bound memory over weeks of running
            self._last.clear()
        return True


class RateLimitedLog:
    """At most one line per `key` each `interval_s` seconds; the next line let through says
    how many were left out. Thread-safe. `clock` gives monotonic seconds (tests pass their
    own)."""

    MAX_KEYS = 256  # bound memory over weeks of running: forget every key past this many

    def __init__(self, logger: logging.Logger, interval_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.interval_s, self.clock = logger, interval_s, clock
        self.left_out = 0  # lines left out, in all
        self._last: dict[str, float] = {}  # key → when its last line went out
        self._dropped: dict[str, int] = {}  # key → lines left out since then
        self._lock = threading.Lock()

    def log(self, level: int, key: str, message: str) -> bool:
        """Log `message` at `level` unless `key` had a line in the last `interval_s`;
        whether it went out."""
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                self._dropped[key] = self._dropped.get(key, 0) + 1
                self.left_out += 1
                return False
            if len(self._last) >= self.MAX_KEYS:
                self._last.clear()
                self._dropped.clear()
            self._last[key] = now
            dropped = self._dropped.pop(key, 0)
        more = f" ({dropped} more like it left out)" if dropped else ""
        self.logger.log(level, "%s%s", message, more)
        return True

    def warning(self, key: str, message: str) -> bool:
        return self.log(logging.WARNING, key, message)

    def error(self, key: str, message: str) -> bool:
        return self.log(logging.ERROR, key, message)


def setup_logging(cfg: LoggingConfig) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(cfg.level.upper())
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if cfg.file:
        try:
            Path(cfg.file).parent.mkdir(parents=True, exist_ok=True)
            # 5 files of 10 MB: weeks of normal operation without filling the disk.
            handlers.append(
                logging.handlers.RotatingFileHandler(cfg.file, maxBytes=10 << 20,
                                                     backupCount=5))
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UserError(f"logging.file {cfg.file!r}: cannot be written ({reason}); set "
                            "[logging] file to a writable file, or \"\" for stderr only"
                            ) from None
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        h.addFilter(RepeatFilter())  # one each: a shared one would drop the file's copy
        root.addHandler(h)
