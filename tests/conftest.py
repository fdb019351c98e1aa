"""Shared fixtures. Hardware the machine lacks (camera, GPU, display) is replaced here:
the display by SDL's dummy driver, the GPU by the CPU provider. Everything else is real."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from installation.gan import Generator, load_generator
from installation.models import ModelStore
from installation.runtime import Device, choose_device

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """The logging set-up as it was before each test: a test that runs the command line
    installs handlers on the stream pytest captured for it, which is closed afterwards;
    left there, every later warning would print a 'Logging error' traceback."""
    loggers = [logging.getLogger(), logging.getLogger("installation")]
    before = [(lg, list(lg.handlers), lg.level) for lg in loggers]
    yield
    for lg, handlers, level in before:
        lg.handlers[:] = handlers
        lg.setLevel(level)


@pytest.fixture(autouse=True)
def _signals_as_they_were() -> Iterator[None]:
    """The signal handlers as they were before each test: a show run on the main thread
    installs its own for SIGTERM and SIGHUP (to end cleanly); left there, a SIGTERM to the
    test run would only stop a show long finished, and the run would not end."""
    caught = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    before = {sig: signal.getsignal(sig) for sig in caught}
    yield
    for sig, handler in before.items():
        if signal.getsignal(sig) is not handler and handler is not None:
            signal.signal(sig, handler)


sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests import `fakes`


@pytest.fixture(scope="session")
def store() -> ModelStore:
    """The pulled models (`make test` pulls them first)."""
    s = ModelStore()
    problems = s.verify()
    if problems:
        pytest.fail(problems[0].line())
    return s


@pytest.fixture(scope="session")
def cpu() -> Device:
    """The CPU with the reference engine (ONNX Runtime fp32): what the tests compare by
    hand. The engine choice has its own tests (tests/runtime/)."""
    return choose_device("cpu", engine="onnxruntime")


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real photo (scikit-image's `astronaut`), RGB uint8, 512x512."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


DEADLINE_S = 15.0  # generous for a loaded 2-core machine; a passing test returns early


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
    """Event-style waits with a deadline instead of sleeps (see `wait_until`)."""
    return wait_until


@pytest.fixture(scope="session")
def eyes(store: ModelStore, cpu: Device) -> Generator:
    return load_generator("eyes", cpu, store)


@pytest.fixture(scope="session")
def faces(store: ModelStore, cpu: Device) -> Generator:
    return load_generator("faces", cpu, store)
