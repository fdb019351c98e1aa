"""Helpers for the capture tests: event-style waits with generous deadlines, no sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

# Long enough that a loaded 2-core machine never trips it; a passing test returns early.
DEADLINE_S = 15.0


def wait_until(predicate: Callable[[], bool], timeout: float = DEADLINE_S) -> bool:
    """Poll `predicate` every 5 ms until it holds (True) or `timeout` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


@pytest.fixture
def until() -> Callable[..., bool]:
    return wait_until
