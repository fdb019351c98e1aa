"""Structured log lines to stderr (and a rotating file when configured); repeats rate-limited."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import Literal

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


def setup_logging(cfg: LoggingConfig) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(cfg.level.upper())
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if cfg.file:
        Path(cfg.file).parent.mkdir(parents=True, exist_ok=True)
        # 5 files of 10 MB: weeks of normal operation without filling the disk.
        handlers.append(
            logging.handlers.RotatingFileHandler(cfg.file, maxBytes=10 << 20, backupCount=5)
        )
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        h.addFilter(RepeatFilter())  # one each: a shared one would drop the file's copy
        root.addHandler(h)
