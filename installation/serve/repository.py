"""The Triton model repository `serve` writes: one folder per hosted network, with a
config.pbtxt (its tensors, the dynamic batcher, the file's sha256 and how to open it)
and a model.py that is the project's own Python-backend model (backend.py).

    <repository>/fast-dream.ripples/config.pbtxt
                                   /1/model.py

Tensors are `in0`, `out0`, ... in the network's order (wire.py), each with the wire's
batch axis in front: Triton's dynamic batcher gathers up to MAX_BATCH requests that
arrive within the queue delay into one execution of the model.
"""

from __future__ import annotations

import json
import site
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from installation.dream import ports as ascent
from installation.dream.ports import LIVE_DREAM
from installation.models import sha256_file
from installation.runtime.network import Port
from installation.runtime.remote.wire import (
    NETWORK,
    SHA256,
    input_name,
    output_name,
    served_name,
)
from installation.serve.networks import Hosted

MAX_BATCH = 8  # requests in one execution: four screens and room to spare
# Triton's stub starts an isolated interpreter (PYTHONPATH is not read): the model file
# puts the project and this environment's packages (their .pth files too) in front.
MODEL_PY = """# Written by `python main.py serve`: the model is installation/serve/backend.py
import site
import sys

_before = list(sys.path)
for _folder in {sites}:
    site.addsitedir(_folder)
sys.path[:] = [{project}, *[p for p in sys.path if p not in _before], *_before]

from installation.serve.backend import TritonPythonModel  # noqa: E402,F401
"""

# ONNX element type -> Triton's data type (the types the project's networks use).
TRITON_TYPES: dict[int, str] = {
    onnx.TensorProto.FLOAT: "TYPE_FP32", onnx.TensorProto.FLOAT16: "TYPE_FP16",
    onnx.TensorProto.INT64: "TYPE_INT64", onnx.TensorProto.INT32: "TYPE_INT32",
    onnx.TensorProto.UINT8: "TYPE_UINT8", onnx.TensorProto.BOOL: "TYPE_BOOL",
}
NUMPY_TYPES: dict[np.dtype, str] = {np.dtype(np.float32): "TYPE_FP32",
                                    np.dtype(np.float64): "TYPE_FP64"}


@dataclass(frozen=True)
class ServeSettings:
    """How the server opens each network (the server machine's [runtime]) and batches."""

    device: str = "auto"
    engine: str = "auto"
    precision: str = "auto"
    threads: int = 0
    cache_dir: str = ""  # the engine verdicts and compiled networks ("" = none)
    size: tuple[int, int] = (320, 180)  # (W, H) px the engine choice probes free sizes at
    queue_delay_us: int = 2000  # how long the batcher waits for more requests, µs


Tensor = tuple[str, list[int]]  # Triton's data type, dims (-1: free)


def _onnx_tensors(graph_values: list[onnx.ValueInfoProto]) -> list[Tensor]:
    out = []
    for v in graph_values:
        kind = v.type.tensor_type.elem_type
        if kind not in TRITON_TYPES:
            raise ValueError(f"{v.name}: element type {kind} is not served")
        out.append((TRITON_TYPES[kind], [d.dim_value if d.HasField("dim_value") else -1
                                         for d in v.type.tensor_type.shape.dim]))
    return out


def _port_tensors(ports: list[Port], types: tuple[type, ...]) -> list[Tensor]:
    return [(NUMPY_TYPES[np.dtype(t)], [d if isinstance(d, int) else -1 for d in p.shape])
            for p, t in zip(ports, types, strict=True)]


def tensors(net: Hosted) -> tuple[list[Tensor], list[Tensor]]:
    """The network's inputs and outputs as the model config declares them: read from its
    ONNX file, or the live dream's ascent's own ports (torch weights, no graph)."""
    if net.name == LIVE_DREAM:
        return (_port_tensors(ascent.INPUTS, ascent.INPUT_TYPES),
                _port_tensors(ascent.OUTPUTS, ascent.OUTPUT_TYPES))
    model = onnx.load(str(net.path), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    return (_onnx_tensors([v for v in model.graph.input if v.name not in weights]),
            _onnx_tensors(list(model.graph.output)))


def _lines(tensors: list[Tensor], name: str) -> str:
    return ",\n".join(f'  {{ name: "{name}{i}" data_type: {kind} dims: {json.dumps(dims or [1])} }}'
                       for i, (kind, dims) in enumerate(tensors))


def config_text(net: Hosted, settings: ServeSettings) -> str:
    """The network's config.pbtxt (protobuf text format)."""
    inputs, outputs = tensors(net)
    params = {
        NETWORK: net.name, "path": str(net.path.resolve()), SHA256: sha256_file(net.path),
        "picture_scale": str(net.picture_scale), "device": settings.device,
        "engine": settings.engine, "precision": settings.precision,
        "threads": str(settings.threads), "cache_dir": settings.cache_dir,
        "size": f"{settings.size[0]}x{settings.size[1]}",
    }
    lines = [
        f'name: "{served_name(net.name)}"',
        'backend: "python"',
        f"max_batch_size: {MAX_BATCH}",
        "input [", _lines(inputs, input_name(0)[:-1]), "]",
        "output [", _lines(outputs, output_name(0)[:-1]), "]",
        f"dynamic_batching {{ max_queue_delay_microseconds: {settings.queue_delay_us} }}",
        "instance_group [ { kind: KIND_CPU count: 1 } ]",
    ]
    lines += [f'parameters {{ key: "{k}" value: {{ string_value: {json.dumps(v)} }} }}'
              for k, v in params.items()]
    return "\n".join(lines) + "\n"


def model_file() -> str:
    """model.py: the project's model, found from the stub's interpreter."""
    project = str(Path(__file__).resolve().parents[2])  # the folder holding installation/
    return MODEL_PY.format(sites=json.dumps(site.getsitepackages()),
                           project=json.dumps(project))


def write_repository(root: Path, networks: list[Hosted], settings: ServeSettings) -> Path:
    """The model repository for `networks` under `root` (made if missing)."""
    for net in networks:
        folder = root / served_name(net.name)
        (folder / "1").mkdir(parents=True, exist_ok=True)
        (folder / "config.pbtxt").write_text(config_text(net, settings))
        (folder / "1" / "model.py").write_text(model_file())
    return root
