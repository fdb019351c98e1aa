"""What every network listener of the piece shares: its faults go through one rate-limited
log, never as a traceback on stderr.

socketserver prints a full traceback to stderr for any exception a request raises
(`handle_error`), around the logging set-up (no `logging.file`, no rate limit): a flood
of bad datagrams or requests would fill the journal and take the loop's CPU. Servers mix
`Quiet` in first and set `faults` and `label`.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from installation.errors import UserError
from installation.logs import RateLimitedLog

Q = TypeVar("Q", bound="Quiet")
T = TypeVar("T")


def drained(inbox: queue.Queue[T] | queue.SimpleQueue[T]) -> list[T]:
    """Everything in `inbox` now, oldest first, leaving it empty (a surface's `drain`)."""
    out = []
    while True:
        try:
            out.append(inbox.get_nowait())
        except queue.Empty:
            return out


def bind(server: Callable[..., Q], host: str, port: int, handler: Any,
         faults: RateLimitedLog) -> Q:
    """A `Quiet` server listening on host:port now, its faults into `faults`; a port in
    use or an address it cannot take is a UserError in one line naming the listener."""
    label = getattr(server, "label", "listener")
    try:
        made = server((host, port), handler)
    except (OSError, ValueError, TypeError) as exc:  # in use; an address it cannot take
        reason = getattr(exc, "strerror", None) or exc
        raise UserError(f"{label}: cannot listen on {host}:{port} ({reason}); set [{label}] "
                        "host and port to a free address, or enabled = false") from None
    made.faults = faults
    return made


class Quiet:
    """A socketserver mixin: a request that raises costs one rate-limited line."""

    faults: RateLimitedLog
    label: str  # the listener, for the log line ("osc", "status")

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        who = client_address[0] if isinstance(client_address, tuple) else client_address
        kind = type(exc).__name__ if exc is not None else "error"
        self.faults.warning(f"{self.label} {kind}",
                            f"{self.label}: a request from {who} failed ({kind}: "
                            f"{str(exc)[:120]}); ignored")


class LibraryLines(logging.Filter):
    """Takes the lines a listener's library logs on the root logger (python-osc warns there
    for every odd bundle) into the listener's rate-limited log instead. Install it on the
    root logger while the listener runs."""

    def __init__(self, faults: RateLimitedLog, label: str, package: str) -> None:
        super().__init__()
        self.faults, self.label = faults, label
        self._where = f"{os.sep}{package}{os.sep}"

    def filter(self, record: logging.LogRecord) -> bool:
        if self._where not in record.pathname:
            return True
        if record.levelno >= logging.WARNING:
            self.faults.warning(f"{self.label} library",
                                f"{self.label}: {record.getMessage()[:120]}")
        return False
