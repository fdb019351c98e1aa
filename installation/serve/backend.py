"""The project's model inside Triton's Python backend: one hosted network, opened with the
project's own engine choice on the server machine (`runtime/choice.py`: OpenVINO, ONNX
Runtime or torch on CUDA, whichever its `auto` measures fastest there), so a picture made
there is the one the display machine would have made.

Triton hands `execute` every request its dynamic batcher gathered; each is answered on
its own (a failing one gets its error, the rest their pictures). Per display machine
(the request's `client` parameter) it counts calls and keeps when it last called, as
metrics on Triton's own /metrics endpoint.

Tensors cross into and out of the stub by DLPack (through torch), not as numpy arrays:
the bundled stub's numpy interface was built for numpy 1, and with numpy 2 it reads
inputs as zeros and gives outputs no bytes (seen with Triton 2.51 from nvidia-pytriton
0.7.0).

`Runner` is the part without Triton (tested directly); `TritonPythonModel` is Triton's
glue, importable only inside the backend's stub process (`triton_python_backend_utils`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from installation.runtime.network import Network
from installation.runtime.remote.wire import CLIENT, NETWORK, batched, unbatched

MAX_CLIENTS = 64  # label sets per model: a misbehaving client cannot grow them for ever


def open_hosted(params: Mapping[str, str]) -> Network:
    """The network the model config's parameters name, on the engine chosen for it."""
    from installation.runtime import choose_device, open_network

    device = choose_device(params.get("device", "auto"),  # type: ignore[arg-type]
                           threads=int(params.get("threads", "0")),
                           engine=params.get("engine", "auto"),  # type: ignore[arg-type]
                           precision=params.get("precision", "auto"))  # type: ignore[arg-type]
    w, _, h = params.get("size", "320x180").partition("x")
    cache = params.get("cache_dir", "")
    return open_network(params[NETWORK], Path(params["path"]), device,
                        Path(cache) if cache else None,
                        float(params.get("picture_scale", "1")), (int(w), int(h)))


class Runner:
    """One hosted network: the wire's tensors in, the wire's tensors out."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.names = [p.name for p in network.inputs]

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """One request's tensors (`in0`, `in1`, ... with the wire's batch axis) → its
        outputs (`out0`, ... with it)."""
        if len(arrays) != len(self.names):
            raise ValueError(f"{len(arrays)} tensors for {len(self.names)} inputs")
        feeds = {name: unbatched(a) for name, a in zip(self.names, arrays, strict=True)}
        # Copied: an engine may reuse its output buffers at the next request's run.
        return [batched(np.array(out)) for out in self.network.run(feeds)]


def client_of(parameters_json: str) -> str:
    """The display machine a request came from ("unknown" when it did not say)."""
    try:
        said = json.loads(parameters_json or "{}").get(CLIENT, "")
    except (ValueError, AttributeError):
        said = ""
    return str(said)[:64] or "unknown"


class TritonPythonModel:  # the class name Triton's Python backend looks for
    def initialize(self, args: dict[str, str]) -> None:
        import torch
        import torch.utils.dlpack
        import triton_python_backend_utils as pb

        self.torch = torch  # imported here: a first call must not wait for it (~1 s)

        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.pb = pb
        self.runner = Runner(open_hosted(params))
        self.inputs = [i["name"] for i in config["input"]]
        self.outputs = [o["name"] for o in config["output"]]
        self.served = config["name"]
        self.calls = pb.MetricFamily(
            name="installation_client_requests_total",
            description="network calls answered, by display machine and network",
            kind=pb.MetricFamily.COUNTER)
        self.seen = pb.MetricFamily(
            name="installation_client_last_seen_seconds",
            description="when a display machine last called a network (Unix time, s)",
            kind=pb.MetricFamily.GAUGE)
        self._metrics: dict[str, tuple[Any, Any]] = {}

    def execute(self, requests: list[Any]) -> list[Any]:
        torch, dlpack = self.torch, self.torch.utils.dlpack
        pb = self.pb
        answers = []
        for request in requests:
            self._count(client_of(request.parameters()))
            try:
                arrays = [dlpack.from_dlpack(pb.get_input_tensor_by_name(request, n)
                                             .to_dlpack()).numpy() for n in self.inputs]
                outs = self.runner.run(arrays)
                answers.append(pb.InferenceResponse(output_tensors=[
                    pb.Tensor.from_dlpack(n, dlpack.to_dlpack(torch.from_numpy(a)))
                    for n, a in zip(self.outputs, outs, strict=True)]))
            except Exception as exc:  # this request fails; the others are answered
                answers.append(pb.InferenceResponse(
                    output_tensors=[], error=pb.TritonError(f"{type(exc).__name__}: {exc}")))
        return answers

    def _count(self, client: str) -> None:
        if client not in self._metrics:
            if len(self._metrics) >= MAX_CLIENTS:
                return
            labels = {"client": client, "model": self.served}
            self._metrics[client] = (self.calls.Metric(labels=labels),
                                     self.seen.Metric(labels=labels))
        counter, gauge = self._metrics[client]
        counter.increment(1)
        gauge.set(time.time())

    def finalize(self) -> None:
        self._metrics.clear()
