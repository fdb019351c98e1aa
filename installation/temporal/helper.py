"""One daemon thread that runs jobs in order: the stabiliser's flow, while the network
paints. A daemon, so a job that never returns cannot hold the process at exit; shared by
every stabiliser (one scene's effect runs at a time), so rebuilding scenes on a config
edit starts no new threads."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Helper:
    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] \
            = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._waiting = 0  # jobs submitted and not finished

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run `fn(*args)` on the helper thread after the jobs before it."""
        future: Future[T] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
            self._waiting += 1
        self._jobs.put((future, fn, args))
        return future

    def busy(self) -> bool:
        """Whether a job is running or waiting (one that was given up on, still going)."""
        with self._lock:
            return self._waiting > 0

    def _work(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to whoever waits for the result
                    future.set_exception(exc)
            with self._lock:
                self._waiting -= 1
