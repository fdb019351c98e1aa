"""The one place that picks the device and creates ONNX Runtime sessions.

onnxruntime-gpu lists the CUDA and TensorRT providers even where the CUDA libraries are
missing, then prints loud errors when a session asks for them. We probe once, with the
C-level stderr muted, and say in one plain line what we chose and why.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import onnxruntime as ort
from pydantic import Field

from installation.errors import ModelError, UserError
from installation.section import Section

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"

# Warnings and the provider-bridge errors of a CPU-only machine stay out of the operator's way.
ort.set_default_logger_severity(3)


class RuntimeConfig(Section):
    """`[runtime]`: where and how the networks run."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    tensorrt: bool = False
    threads: int = Field(0, ge=0, le=256, description="ONNX Runtime threads, 0 = all cores")


@dataclass(frozen=True)
class Device:
    """What networks run on: `kind` and the ONNX Runtime providers, in order of preference."""

    kind: Literal["cpu", "cuda"]
    providers: list[Any]
    reason: str
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)

    def describe(self) -> str:
        names = [p[0] if isinstance(p, tuple) else p for p in self.providers]
        short = {CPU: "CPU", CUDA: "CUDA", TENSORRT: "TensorRT"}
        chain = " > ".join(short.get(n, n) for n in names)
        return f"device: {self.kind} ({chain}; {self.threads} CPU threads) - {self.reason}"


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
    """Where torch work (the live dream) runs: 'cuda' when the device is CUDA and torch can
    use it, else 'cpu'."""
    if device.kind != "cuda":
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def choose_device(
    requested: Literal["auto", "cpu", "cuda"] = "auto",
    tensorrt: bool = False,
    threads: int = 0,
    trt_cache: Path = Path("models/trt-cache"),
) -> Device:
    """CUDA (TensorRT first when enabled) when usable, else CPU. `threads` 0 = all cores."""
    n = threads or os.cpu_count() or 1
    if requested == "cpu":
        return Device("cpu", [CPU], "chosen in config (runtime.device = 'cpu')", n)
    ok, why = _usable(CUDA)
    if not ok:
        if requested == "cuda":
            raise UserError(
                f"runtime.device = 'cuda' but CUDA is not usable ({why}); "
                "set runtime.device = 'auto' or 'cpu'"
            )
        return Device("cpu", [CPU], f"no usable GPU ({why})", n)
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
    return Device("cuda", providers, reason, n)


def create_session(path: Path, device: Device, spinning: bool = False) -> ort.InferenceSession:
    """An inference session for the model file at `path` on `device`.

    `spinning` lets ONNX Runtime's worker threads busy-wait between runs: faster for a bare
    benchmark loop, but on a small CPU it steals cores from capture and display.
    """
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = device.threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    try:
        with muted_stderr():
            return ort.InferenceSession(str(path), opts, providers=device.providers)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(
            f"model {path} cannot be loaded ({first[:160]}); "
            "run `python main.py models pull` to restore it"
        ) from None

