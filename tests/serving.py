"""A real Triton server (`python main.py serve`, through installation/serve/spawn.py) on
loopback for the tests, with the `cpu` fixture's engine so pictures compare exactly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.errors import UserError
from installation.serve.spawn import Spawned, free_base, spawn

CONFIG = "[runtime]\ndevice = 'cpu'\nengine = 'onnxruntime'\n"  # as the `cpu` fixture
# The display side's deadline per call in the tests, and the watchdog's stall time it must
# stay under half of: server and show share 2 loaded cores, and a call late by a stall of
# the machine would take the link down where a test expects it up.
DEADLINE_MS = 5000
STALL_S = 15.0

__all__ = ["DEADLINE_MS", "STALL_S", "Spawned", "free_base", "needs_triton", "serving", "start"]


def triton_missing() -> str:
    """Why the serving tests cannot run here ("" when they can)."""
    from installation.serve.server import find_triton, python_library

    try:
        find_triton()
        python_library()
    except UserError as exc:
        return str(exc)
    return ""


_MISSING = triton_missing()
needs_triton = pytest.mark.skipif(bool(_MISSING), reason=_MISSING or "-")


def start(tmp: Path, networks: list[str], base: int | None = None,
          delay_ms: float = 2.0) -> Spawned:
    config = tmp / "serve.toml"
    config.write_text(CONFIG)
    try:
        return spawn(networks, config, base, delay_ms, timeout_s=240.0)
    except UserError as exc:
        pytest.fail(str(exc))


@contextlib.contextmanager
def serving(tmp: Path, networks: list[str], delay_ms: float = 2.0) -> Iterator[Spawned]:
    server = start(tmp, networks, delay_ms=delay_ms)
    try:
        yield server
    finally:
        server.stop()
