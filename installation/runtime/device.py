"""The one place that picks the device: CPU, or a CUDA GPU through ONNX Runtime or torch.

onnxruntime-gpu lists the CUDA and TensorRT providers even where the CUDA libraries are
missing, then prints loud errors when a session asks for them. We probe once, with the
C-level stderr muted, and say in one plain line what we chose and why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import onnxruntime as ort
from pydantic import Field, field_validator

from installation.errors import UserError
from installation.section import Section

if TYPE_CHECKING:
    from installation.runtime.remote.link import RemoteLink

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"

# Warnings and the provider-bridge errors of a CPU-only machine stay out of the operator's way.
ort.set_default_logger_severity(3)


EngineChoice = Literal["auto", "onnxruntime", "openvino", "torch"]
PrecisionChoice = Literal["auto", "fp32", "bf16", "fp16"]


class RuntimeConfig(Section):
    """`[runtime]`: where and how the networks run."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    engine: EngineChoice = "auto"
    precision: PrecisionChoice = "auto"
    tensorrt: bool = False
    threads: int = Field(0, ge=0, le=256, description="inference threads, 0 = all cores")
    # A serving engine (`python main.py serve` on another machine) the networks are sent
    # to, "HOST:PORT" of its gRPC port; "" = none. Each call has `remote_deadline_ms`;
    # a failed or late call, or a server gone, runs locally (installation/runtime/remote).
    remote: str = ""
    remote_deadline_ms: int = Field(500, ge=20, le=10_000)
    remote_client: str = ""  # this machine's name in the server's metrics ("" = hostname)
    remote_compression: Literal["none", "gzip", "deflate"] = "none"  # the requests' gRPC

    @field_validator("remote")
    @classmethod
    def _server(cls, v: str) -> str:
        if not v.strip():
            return ""
        from installation.runtime.remote.wire import parse_url

        try:
            return parse_url(v)
        except UserError:
            raise ValueError("give the serving engine's gRPC address as 'HOST:PORT' (the "
                             "port `python main.py serve` prints), or '' for none") from None


@dataclass(frozen=True)
class Device:
    """What networks run on: `kind`, the ONNX Runtime providers in order of preference,
    where torch runs, and the engine and precision asked for (runtime/choice.py decides
    per network)."""

    kind: Literal["cpu", "cuda"]
    providers: list[Any]
    reason: str
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    engine: EngineChoice = "auto"
    precision: PrecisionChoice = "auto"
    torch: Literal["cpu", "cuda"] = "cpu"
    # The serving engine networks are sent to (None: all local); shared, not compared.
    remote: RemoteLink | None = field(default=None, compare=False)

    def describe(self) -> str:
        names = [p[0] if isinstance(p, tuple) else p for p in self.providers]
        short = {CPU: "CPU", CUDA: "CUDA", TENSORRT: "TensorRT"}
        chain = " > ".join(short.get(n, n) for n in names)
        return (f"device: {self.kind} (onnxruntime {chain}; torch {self.torch}; "
                f"{self.threads} CPU threads) - {self.reason}")


@contextlib.contextmanager
def muted_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (C++ libraries write there directly, past `sys.stderr`)."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def _probe_model() -> bytes:
    """A one-node ONNX model (Identity on a float vector) to try providers with."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def _usable(provider: str) -> tuple[bool, str]:
    if provider not in ort.get_available_providers():
        return False, f"this onnxruntime build has no {provider}"
    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    try:
        with muted_stderr():
            sess = ort.InferenceSession(_probe_model(), opts, providers=[provider, CPU])
    except Exception as exc:
        return False, f"{provider} failed to start: {str(exc).splitlines()[0]}"
    if sess.get_providers()[0] != provider:
        short = "CUDA libraries or GPU not found" if provider == CUDA else "failed to load"
        return False, f"{provider.removesuffix('ExecutionProvider')}: {short}"
    return True, ""


def torch_device(device: Device) -> str:
    """Where torch work (the live dream, the torch engine) runs: 'cuda' or 'cpu'."""
    return device.torch


# Where a Linux machine shows the NVIDIA driver: its device nodes, or WSL2's GPU node.
DRIVER_NODES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")


def _no_gpu_driver() -> str:
    """Why no CUDA GPU can be here ("" when one may be): on Linux, none of the NVIDIA
    driver's nodes exists. Elsewhere the probes decide."""
    if not sys.platform.startswith("linux") or any(os.path.exists(p) for p in DRIVER_NODES):
        return ""
    return "no NVIDIA driver: no /dev/nvidia* device"


def _torch_cuda() -> tuple[bool, str]:
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if not torch.cuda.is_available():
        return False, "torch sees no CUDA GPU"
    return True, torch.cuda.get_device_name(0)


def choose_device(
    requested: Literal["auto", "cpu", "cuda"] = "auto",
    tensorrt: bool = False,
    threads: int = 0,
    trt_cache: Path = Path("models/trt-cache"),
    engine: EngineChoice = "auto",
    precision: PrecisionChoice = "auto",
) -> Device:
    """CUDA when ONNX Runtime or torch can use it (TensorRT first when enabled and
    usable), else CPU. `threads` 0 = all cores. Said in one line: `Device.describe`."""
    n = threads or os.cpu_count() or 1

    def made(kind: Literal["cpu", "cuda"], providers: list[Any], reason: str,
             where: Literal["cpu", "cuda"] = "cpu") -> Device:
        return Device(kind, providers, reason, n, engine, precision, where)

    if requested == "cpu":
        return made("cpu", [CPU], "chosen in config (runtime.device = 'cpu')")
    no_driver = _no_gpu_driver()
    if no_driver:  # a CUDA GPU needs the NVIDIA driver: no need to probe (about 4 s)
        if requested == "cuda":
            raise UserError(f"runtime.device = 'cuda' but CUDA is not usable ({no_driver}); "
                            "set runtime.device = 'auto' or 'cpu'")
        return made("cpu", [CPU], f"no usable GPU ({no_driver})")
    ok, why = _usable(CUDA)
    torch_ok, torch_why = _torch_cuda()
    where: Literal["cpu", "cuda"] = "cuda" if torch_ok else "cpu"
    if not ok and not torch_ok:
        if requested == "cuda":
            raise UserError(
                f"runtime.device = 'cuda' but CUDA is not usable ({why}; {torch_why}); "
                "set runtime.device = 'auto' or 'cpu'"
            )
        return made("cpu", [CPU], f"no usable GPU ({why})")
    if not ok:
        return made("cuda", [CPU], f"CUDA GPU through torch ({torch_why}); onnxruntime "
                    f"stays on the CPU ({why})", where)
    providers: list[Any] = [CUDA, CPU]
    reason = "CUDA GPU found"
    if tensorrt:
        trt_ok, trt_why = _usable(TENSORRT)
        if trt_ok:
            trt_cache.mkdir(parents=True, exist_ok=True)
            opts = {
                "trt_fp16_enable": True,
                "trt_engine_cache_enable": True,
                "trt_engine_cache_path": str(trt_cache),
            }
            providers.insert(0, (TENSORRT, opts))
            reason += ", TensorRT enabled (fp16, engine cache)"
        else:
            reason += f", TensorRT not usable ({trt_why})"
    return made("cuda", providers, reason, where)
