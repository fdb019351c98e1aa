"""Fixtures for the motion tests: a fresh analyser with the default settings, a scene."""

from __future__ import annotations

import pytest
from motion.scenes import Scene

from installation.motion import MotionAnalyzer, MotionConfig


@pytest.fixture
def scene() -> Scene:
    return Scene()


@pytest.fixture
def analyzer() -> MotionAnalyzer:
    return MotionAnalyzer(MotionConfig())
