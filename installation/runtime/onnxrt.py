"""ONNX Runtime: the reference engine (fp32 on the CPU; CUDA and TensorRT where the
onnxruntime-gpu build and the CUDA libraries are there — not measured here, no such GPU
machine has them)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnxruntime as ort

from installation.errors import ModelError
from installation.runtime.device import CPU, CUDA, TENSORRT, Device, muted_stderr
from installation.runtime.network import EngineName, Port, Precision


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


def _ports(args: list[ort.NodeArg]) -> list[Port]:
    return [Port(a.name, tuple(a.shape)) for a in args]


class OrtNetwork:
    """A network run by ONNX Runtime (a `Network`)."""

    engine: EngineName = "onnxruntime"
    precision: Precision = "fp32"

    def __init__(self, path: Path, device: Device, name: str = "",
                 spinning: bool = False) -> None:
        self.name = name or path.stem
        self.path = path
        self.session = create_session(path, device, spinning)
        self.inputs = _ports(self.session.get_inputs())
        self.outputs = _ports(self.session.get_outputs())
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self._names = [p.name for p in self.outputs]
        self._threads = device.threads

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        out: list[np.ndarray] = self.session.run(self._names, dict(feeds))
        return out

    def describe(self) -> str:
        short = {CPU: "CPU", CUDA: "CUDA", TENSORRT: "TensorRT"}
        where = short.get(self.session.get_providers()[0], self.session.get_providers()[0])
        return f"{self.name}: onnxruntime {where} fp32, {self._threads} threads"
