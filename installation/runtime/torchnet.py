"""torch as an engine: the model file's graph converted to torch ops (onnx_torch/), on the
CPU or a CUDA GPU, in fp32, bf16 or fp16 (CUDA only).

    numpy feeds ─► torch.from_numpy (no copy) ─► .to(device) ─► OnnxGraph ─► float32 numpy
    torch feeds on the device ─► run_tensors ─► tensors on the device (no host copy)

Convolution weights are kept channels-last (oneDNN's and cuDNN's fast layout) and, in
bf16/fp16, cast once; normalisation statistics stay float32 (onnx_torch/). With `fast` on
CUDA the graph is compiled by torch.compile, once per input shape at its first run (minutes
the first time, cached by inductor after); should compiling fail, the network says so in
one line and runs eagerly.

torch's CPU thread pool is process-wide: a network built with `threads` > 0 sets it to that
number when it differs (said in one line). Every torch network on the CPU gets the same
`runtime.threads` from runtime/choice.py, so they agree; the live dream shares the pool.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import onnx
import torch

from installation.errors import ModelError
from installation.runtime.network import EngineName, Port, Precision, reason
from installation.runtime.onnx_torch import DTYPES, OnnxGraph, build, load

log = logging.getLogger(__name__)

TORCH_TYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
COMPILE_MODE = "max-autotune-no-cudagraphs"  # CUDA graphs would tie outputs to one thread
_threads_lock = threading.Lock()


def _ports(values: list[onnx.ValueInfoProto]) -> list[Port]:
    """Names and shapes as ONNX Runtime reports them: a size, a dimension's name, or None."""
    return [Port(v.name, tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                               for d in v.type.tensor_type.shape.dim)) for v in values]


def _refusal(precision: Precision, device: str) -> str:
    """Why this precision cannot run on this device ('' when it can)."""
    try:
        kind = torch.device(device).type
    except RuntimeError:
        kind = device
    if kind not in ("cpu", "cuda"):
        return f"device '{device}' is neither cpu nor cuda"
    if kind == "cuda" and not torch.cuda.is_available():
        return "torch sees no CUDA GPU"
    if precision == "fp16" and kind == "cpu":
        return "fp16 runs only on CUDA; on the CPU use bf16"
    if precision == "bf16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bf16"
    return ""


def use_threads(threads: int) -> None:
    """torch's intra-op CPU threads set to `threads` (> 0) if they differ; process-wide."""
    with _threads_lock:
        before = torch.get_num_threads()
        if threads > 0 and before != threads:
            torch.set_num_threads(threads)
            log.info("torch CPU threads: %d (was %d; shared by every torch network and the "
                     "live dream)", threads, before)


class TorchNetwork:
    """A network run by torch (a `Network` and a `TensorNetwork`)."""

    engine: EngineName = "torch"

    def __init__(self, path: Path, precision: Precision, device: str = "cpu", name: str = "",
                 threads: int = 0, fast: bool = False) -> None:
        self.name = name or path.stem
        self.path = path
        self.precision: Precision = precision
        self.torch_device = device
        self.threads = threads
        why = _refusal(precision, device)
        if why:
            raise ModelError(f"model {path}: torch {precision} on {device}: {why}")
        model = load(str(path))
        initialised = {i.name for i in model.graph.initializer}
        self.inputs = _ports([v for v in model.graph.input if v.name not in initialised])
        self.outputs = _ports(list(model.graph.output))
        self.metadata = {p.key: p.value for p in model.metadata_props}
        self._in_types = [DTYPES.get(v.type.tensor_type.elem_type, torch.float32)
                          for v in model.graph.input if v.name not in initialised]
        graph = build(model, str(path))
        del model
        if torch.device(device).type == "cpu":
            use_threads(threads)
        graph.eval().to(device)
        graph.channels_last()
        if precision != "fp32":
            graph.compute_in(TORCH_TYPES[precision])
        self.graph: OnnxGraph = graph
        self._device = torch.device(device)
        self._compiled: Callable[..., list[torch.Tensor]] | None = None
        self._how = "eager"
        if fast and self._device.type == "cuda":
            self._compiled = torch.compile(graph, mode=COMPILE_MODE, dynamic=False)
            self._how = "torch.compile"

    def _forward(self, args: list[torch.Tensor]) -> list[torch.Tensor]:
        compiled = self._compiled
        if compiled is not None:
            try:
                return compiled(*args)
            except Exception as exc:  # an inductor or triton failure: eager from now on
                if self._compiled is not None:
                    log.warning("%s: torch.compile failed (%s); running eagerly", self.name,
                                reason(exc))
                self._compiled = None
                self._how = "eager (compile failed)"
        return self.graph(*args)

    def run_tensors(self, feeds: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
        """Every output, in the model's order, as float32 tensors on `torch_device` (feeds
        already there stay there; no host copy)."""
        with torch.inference_mode():
            args = [feeds[p.name].to(self._device, t, non_blocking=True)
                    for p, t in zip(self.inputs, self._in_types, strict=True)]
            return [o.float() for o in self._forward(args)]

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        with torch.inference_mode():
            args = []
            for port, dtype in zip(self.inputs, self._in_types, strict=True):
                array = np.asarray(feeds[port.name])
                if not (array.flags.writeable and array.flags.c_contiguous):
                    array = np.array(array)  # torch aliases only writable, plain arrays
                args.append(torch.from_numpy(array).to(self._device, dtype, non_blocking=True))
            outputs = self._forward(args)
            return [o.float().contiguous().cpu().numpy() for o in outputs]

    def describe(self) -> str:
        version = torch.__version__.split("+")[0]
        where = (f"{self.torch_device}, {torch.get_num_threads()} threads"
                 if self._device.type == "cpu" else f"{self.torch_device}, {self._how}")
        return f"{self.name}: torch {version} on {where}, {self.precision}"
