"""A real Triton server (`python main.py serve`) on loopback for the tests, in a process
group of its own (so a test can kill it whole, as a crash would)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_S = 240.0  # networks load in Triton's processes (engine choice, warm-up) on 2 cores
CONFIG = "[runtime]\ndevice = 'cpu'\nengine = 'onnxruntime'\n"  # as the `cpu` fixture


def triton_missing() -> str:
    """Why the serving tests cannot run here ("" when they can)."""
    from installation.errors import UserError
    from installation.serve.server import find_triton, python_library

    try:
        find_triton()
        python_library()
    except UserError as exc:
        return str(exc)
    return ""


needs_triton = pytest.mark.skipif(bool(triton_missing()), reason=triton_missing() or "-")


def free_base() -> int:
    """A port N with N, N+1 and N+2 free on loopback (HTTP, gRPC, metrics)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base > 65000:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in (base, base + 1, base + 2):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no three free ports in a row on loopback")


@dataclass
class Server:
    base: int
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    @property
    def grpc(self) -> str:
        return f"127.0.0.1:{self.base + 1}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.base + 2}/metrics"

    def kill(self) -> None:
        """As a crash: SIGKILL to `serve`, Triton and its backend processes at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)


def start(tmp: Path, networks: list[str], base: int | None = None,
          delay_ms: float = 2.0) -> Server:
    config = tmp / "serve.toml"
    config.write_text(CONFIG)
    base = base or free_base()
    process = subprocess.Popen(
        [sys.executable, "main.py", "serve", "--config", str(config), "--port", str(base),
         "--networks", ",".join(networks), "--batch-delay-ms", str(delay_ms)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    server = Server(base, process)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.log.append(line.rstrip())
            if line.startswith("serving "):
                ready.set()
        ready.set()  # ended

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(START_S) or process.poll() is not None:
        server.kill()
        pytest.fail("serve did not start:\n" + "\n".join(server.log[-15:]))
    return server


@contextlib.contextmanager
def serving(tmp: Path, networks: list[str], delay_ms: float = 2.0) -> Iterator[Server]:
    server = start(tmp, networks, delay_ms=delay_ms)
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
