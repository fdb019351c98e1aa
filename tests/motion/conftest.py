"""Fixtures for the motion tests: a fresh analyser with the default settings, a scene, waits."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from motion.scenes import Scene

from installation.motion import MotionAnalyzer, MotionConfig


@pytest.fixture
def scene() -> Scene:
    return Scene()


@pytest.fixture
def analyzer() -> MotionAnalyzer:
    return MotionAnalyzer(MotionConfig())


DEADLINE_S = 15.0  # generous for a loaded 2-core machine; a passing test returns early


@pytest.fixture
def until() -> Callable[..., bool]:
    """Poll a predicate every 5 ms until it holds (True) or `timeout` seconds pass (False)."""

    def wait(predicate: Callable[[], bool], timeout: float = DEADLINE_S) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.005)
        return predicate()

    return wait
