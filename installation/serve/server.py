"""`python main.py serve`: NVIDIA Triton Inference Server hosting the project's networks.

The server is the `tritonserver` binary the nvidia-pytriton wheel bundles (with its
libraries, the Python backend and that backend's stubs per Python version); pytriton's
own Python package is never imported. `serve` writes a model repository (repository.py)
and a backend folder (the Python backend with the stub for this Python), then runs
Triton on three ports from `--port` N: HTTP N (health: /v2/health/ready), gRPC N+1 (what
display machines name in `[runtime] remote`), metrics N+2 (/metrics, Prometheus). SIGINT
or SIGTERM stops Triton (it finishes the calls in flight) and then `serve`.

Triton has no authentication: it listens on loopback unless `--host` says otherwise,
and then belongs on a network of the installation's own machines only (README).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from installation.errors import UserError
from installation.models import ModelStore
from installation.serve.networks import Hosted, hosted
from installation.serve.repository import ServeSettings, write_repository

log = logging.getLogger(__name__)

READY_S = 600.0  # how long the networks may take to load (engine choice measured on 2 cores)
STOP_S = 30.0  # how long Triton may take to finish its calls once told to stop, s


@dataclass(frozen=True)
class Triton:
    """Where the bundled server's parts are."""

    binary: Path
    libraries: Path  # the wheel's bundled shared libraries
    python_backend: Path  # libtriton_python.so and triton_python_backend_utils.py
    stub: Path  # the Python backend's stub for this Python


@dataclass(frozen=True)
class Ports:
    http: int
    grpc: int
    metrics: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        if not 0 < base < 65534:
            raise UserError(f"--port {base}: give a port from 1 to 65533 (it and the next "
                            "two are used: HTTP, gRPC, metrics)")
        return cls(base, base + 1, base + 2)


def check_ports(host: str, ports: Ports) -> None:
    """UserError in one line when a port is taken (Triton would find out only after
    loading every network)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in (ports.http, ports.grpc, ports.metrics):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise UserError(f"serve: cannot listen on {host}:{port} ({exc.strerror}): "
                                "give another --port (it and the next two are used) or "
                                "--host") from None


def find_triton() -> Triton:
    """The bundled Triton (UserError in one line when it is not installed or has no stub
    for this Python)."""
    spec = importlib.util.find_spec("pytriton")  # located, never imported (numpy < 2 pin)
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the serving engine (Triton, from the nvidia-pytriton wheel) is not "
                        "installed: run `make run`, which installs requirements-serve.txt "
                        "(Linux x86-64 only)")
    package = Path(next(iter(spec.submodule_search_locations)))
    root = package / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = Triton(root / "bin" / "tritonserver", package.parent / "nvidia_pytriton.libs",
                   root / "backends" / "python",
                   root / "python_backend_stubs" / version / "triton_python_backend_stub")
    if not found.binary.is_file():
        raise UserError(f"the serving engine's binary is missing ({found.binary}): "
                        "reinstall with `pip install --no-deps -r requirements-serve.txt`")
    if not found.stub.is_file():
        raise UserError(f"Triton's Python backend has no stub for Python {version}: run "
                        "`serve` with Python 3.8 to 3.13")
    return found


def python_library() -> Path:
    """The folder of this Python's shared library, which the backend's stub embeds
    (UserError when this Python was built without one)."""
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    soname = sysconfig.get_config_var("INSTSONAME") or ""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED") or not (Path(libdir) / soname).exists():
        raise UserError("this Python has no shared library (Triton's Python backend embeds "
                        "it): run `serve` with a Python built with --enable-shared, e.g. "
                        "Debian's python3 or pyenv with PYTHON_CONFIGURE_OPTS=--enable-shared")
    return Path(libdir)


def backend_folder(root: Path, triton: Triton) -> Path:
    """`root/backends/python` holding the Python backend and the stub for this Python."""
    folder = root / "backends" / "python"
    folder.mkdir(parents=True, exist_ok=True)
    for part in (*triton.python_backend.iterdir(), triton.stub):
        link = folder / part.name
        if not link.exists():
            link.symlink_to(part)
    return folder.parent


def environment(triton: Triton) -> dict[str, str]:
    """Triton's environment: its libraries and this Python's found (the model files
    find this project and its packages: repository.py)."""
    env = dict(os.environ)
    libs = [str(python_library()), str(triton.libraries)]
    if env.get("LD_LIBRARY_PATH"):
        libs.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(libs)
    return env


def command(triton: Triton, repository: Path, backends: Path, host: str,
            ports: Ports) -> list[str]:
    return [
        str(triton.binary), f"--model-repository={repository}",
        f"--backend-directory={backends}",
        f"--http-address={host}", f"--http-port={ports.http}",
        f"--grpc-address={host}", f"--grpc-port={ports.grpc}",
        f"--metrics-address={host}", f"--metrics-port={ports.metrics}",
        "--model-control-mode=none",  # no network loaded or unloaded through the API
        "--exit-on-error=true", "--strict-readiness=true", f"--exit-timeout-secs={STOP_S:.0f}",
        "--log-verbose=0",
        *([] if gpu_driver() else CPU_ONLY),
    ]


# Without an NVIDIA driver Triton still tries the GPU's pinned memory, CUDA pool and GPU
# metrics, and says so in lines that start with "Error": not asked for, not said.
CPU_ONLY = ("--allow-gpu-metrics=false", "--pinned-memory-pool-byte-size=0")


def gpu_driver() -> bool:
    """Whether this machine shows the NVIDIA driver (its device nodes)."""
    from installation.runtime.device import DRIVER_NODES

    return any(os.path.exists(p) for p in DRIVER_NODES)


def ready(host: str, ports: Ports, timeout_s: float = 1.0) -> bool:
    """Whether Triton says it is ready (all its models loaded) on its HTTP port."""
    where = f"[{host}]" if ":" in host else host
    if where in ("0.0.0.0", "[::]"):
        where = "127.0.0.1"
    try:
        with urllib.request.urlopen(f"http://{where}:{ports.http}/v2/health/ready",
                                    timeout=timeout_s) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def serve(store: ModelStore, settings: ServeSettings, host: str, base_port: int,
          names: list[str] | None = None) -> int:
    """Runs Triton until it ends or is told to stop; its exit status (2 when it ended
    before it was ready: its own log above says why)."""
    ports = Ports.from_base(base_port)
    networks: list[Hosted] = hosted(store, names)
    triton = find_triton()
    check_ports(host, ports)
    env = environment(triton)
    with tempfile.TemporaryDirectory(prefix="installation-serve-") as tmp:
        root = Path(tmp)
        try:
            repository = write_repository(root / "models", networks, settings)
            argv = command(triton, repository, backend_folder(root, triton), host, ports)
            child = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     preexec_fn=ends_with_parent)
        except (OSError, ValueError) as exc:
            raise UserError(f"serve: the serving engine cannot start ({exc})") from None
        stopping = _forward_signals(child)
        try:
            if not _wait_ready(child, host, ports):
                if stopping():
                    return 0
                code = child.poll()
                if code is None:
                    raise UserError(f"the serving engine was not ready after {READY_S:.0f} s "
                                    "(its log above says where it stands): stopped")
                raise UserError(f"the serving engine ended before it was ready (exit "
                                f"{code}): its log above says why (a network that failed "
                                "to load, a library missing)")
            print(f"serving {len(networks)} networks ({', '.join(n.name for n in networks)}):"
                  f" gRPC {host}:{ports.grpc} (display machines: [runtime] remote), health "
                  f"http://{host}:{ports.http}/v2/health/ready, metrics "
                  f"http://{host}:{ports.metrics}/metrics", flush=True)
            code = child.wait()
            return 0 if stopping() else code
        finally:
            _stop(child)


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up now: a child between fork and exec may not load anything
    (another thread could hold the loader's lock)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


PRCTL = _prctl()
PR_SET_PDEATHSIG = 1


def ends_with_parent() -> None:
    """In a child process before it starts (Triton's, or serve's when spawned): on Linux
    it is sent SIGTERM when the thread that started it ends, however it ends (a SIGKILL
    leaves no Triton behind holding the ports). Start it from a thread that lives as long
    as the process: the main thread, as serve, the bench and the tests do."""
    if PRCTL is not None:
        PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_ready(child: subprocess.Popen[bytes], host: str, ports: Ports) -> bool:
    end = time.monotonic() + READY_S
    while time.monotonic() < end and child.poll() is None:
        if ready(host, ports):
            return True
        time.sleep(0.5)
    return False


def _forward_signals(child: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """SIGINT and SIGTERM stop Triton (gracefully); returns whether one came."""
    came: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        came.append(signum)
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    return lambda: bool(came)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(STOP_S + 5.0)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
