"""`python main.py serve` started as a process of its own, for `bench --remote` and the
tests: on loopback ports found free, in a process group of its own (so it can be killed
whole, as a crash would; and sent SIGTERM when its starter dies), ready once it prints
its `serving ...` line."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from installation.errors import UserError
from installation.serve.server import ends_with_parent

START_S = 600.0  # networks load in Triton's processes (engine choice, warm-up) on 2 cores
MAIN = Path(__file__).resolve().parents[2] / "main.py"


def free_base(host: str = "127.0.0.1") -> int:
    """A port N with N, N+1 and N+2 free on `host` (HTTP, gRPC, metrics)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((host, 0))
            base = int(s.getsockname()[1])
        if base > 65000:
            continue
        try:
            with contextlib.ExitStack() as stack:
                for port in (base, base + 1, base + 2):
                    sock = stack.enter_context(socket.socket())
                    sock.bind((host, port))
        except OSError:
            continue
        return base
    raise UserError(f"no three free ports in a row on {host}")


@dataclass
class Spawned:
    base: int
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)  # what serve and Triton printed

    @property
    def grpc(self) -> str:
        """The address display machines name in `[runtime] remote`."""
        return f"127.0.0.1:{self.base + 1}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.base + 2}/metrics"

    def kill(self) -> None:
        """As a crash: SIGKILL to serve, Triton and its backend processes at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        """As an operator's stop: SIGTERM (Triton finishes its calls), then SIGKILL."""
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()


def spawn(networks: list[str], config: Path | None = None, base: int | None = None,
          delay_ms: float = 2.0, timeout_s: float = START_S) -> Spawned:
    """`serve` hosting `networks` on loopback, ready (UserError with its last lines when
    it ends or does not get ready in `timeout_s`)."""
    base = base or free_base()
    argv = [sys.executable, str(MAIN), "serve", "--port", str(base),
            "--networks", ",".join(networks), "--batch-delay-ms", str(delay_ms)]
    if config is not None:
        argv[3:3] = ["--config", str(config)]
    process = subprocess.Popen(argv, cwd=MAIN.parent, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=ends_with_parent)
    server = Spawned(base, process)
    said = threading.Event()  # it said `serving ...`, or its output ended
    serving: list[bool] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.log.append(line.rstrip())
            del server.log[:-200]  # the newest lines only
            if line.startswith("serving "):
                serving.append(True)
                said.set()
        said.set()

    threading.Thread(target=read, name="serve-log", daemon=True).start()
    if not said.wait(timeout_s) or not serving or process.poll() is not None:
        server.kill()
        tail = " | ".join(server.log[-3:])
        raise UserError(f"serve did not start: {tail or 'no output'}")
    return server
