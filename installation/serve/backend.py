"""The project's model inside Triton's Python backend: one hosted network, opened with the
project's own engine choice on the server machine (`runtime/choice.py`: OpenVINO, ONNX
Runtime or torch on CUDA, whichever its `auto` measures fastest there, after the same
parity check against fp32 ONNX Runtime the display machine's engine passed). The live
dream's ascent is torch code, not an ONNX file: it runs on the machine's torch device (the
GPU when there is one), with no engine choice and no parity check to make.

Triton hands `execute` every request its dynamic batcher gathered; where the network has
a checked batch-free copy (batching.py) they are one call of it, else one call each (a
failing request gets its error, the rest their pictures). Per display machine (the
request's `client` parameter) it counts calls and keeps when it last called, and it counts
the network's own calls, as metrics on Triton's /metrics endpoint.

Tensors cross into and out of the stub by DLPack (through torch), not as numpy arrays:
the bundled stub's numpy interface was built for numpy 1, and with numpy 2 it reads
inputs as zeros and gives outputs no bytes (seen with Triton 2.51 from nvidia-pytriton
0.7.0).

`Runner` is the part without Triton (tested directly); `TritonPythonModel` is Triton's
glue, importable only inside the backend's stub process (`triton_python_backend_utils`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from installation.dream.ports import LIVE_DREAM
from installation.runtime.device import Device
from installation.runtime.network import Network, reason
from installation.runtime.remote.wire import CLIENT, NETWORK, batched, unbatched
from installation.serve.batching import batched_file, check

log = logging.getLogger(__name__)

MAX_CLIENTS = 64  # label sets per model: a misbehaving client cannot grow them for ever
MAX_BATCH_FAILURES = 3  # batches in a row that fail as one call before the copy is dropped


def _device(params: Mapping[str, str], engine: str | None = None,
            precision: str | None = None) -> Device:
    from installation.runtime import choose_device

    return choose_device(params.get("device", "auto"),  # type: ignore[arg-type]
                         threads=int(params.get("threads", "0")),
                         engine=engine or params.get("engine", "auto"),  # type: ignore[arg-type]
                         precision=precision or params.get("precision", "auto"))  # type: ignore[arg-type]


def _size(params: Mapping[str, str]) -> tuple[int, int]:
    w, _, h = params.get("size", "320x180").partition("x")
    return int(w), int(h)


def _cache(params: Mapping[str, str]) -> Path | None:
    return Path(params["cache_dir"]) if params.get("cache_dir") else None


def open_hosted(params: Mapping[str, str]) -> Network:
    """The network the model config's parameters name, on the engine chosen for it (the
    live dream's ascent: on the machine's torch device, the GPU when there is one)."""
    from installation.runtime import open_network, torch_device

    if params[NETWORK] == LIVE_DREAM:
        from installation.dream.ascender import open_ascent_file

        return open_ascent_file(params["path"], torch_device(_device(params)))
    return open_network(params[NETWORK], Path(params["path"]), _device(params),
                        _cache(params), float(params.get("picture_scale", "1")),
                        _size(params))


def open_batched(params: Mapping[str, str], single: Network) -> tuple[Network | None, str]:
    """The network's batch-free copy on `single`'s engine and precision, checked against
    it (batching.py), or None; and the line that says which."""
    from installation.runtime import open_network
    from installation.runtime.probes import probe_feeds

    name, scale = params[NETWORK], float(params.get("picture_scale", "1"))
    if name == LIVE_DREAM:
        return None, f"{name}: served request by request (each its own picture and settings)"
    cache = _cache(params) or Path(tempfile.gettempdir()) / "installation-serve"
    path: Path | None = None
    try:
        path = batched_file(Path(params["path"]), cache)
        if path is None:
            return None, f"{name}: served request by request (an input has no batch axis)"
        many = open_network(f"{name} (batched)", path,
                            _device(params, single.engine, single.precision),
                            None, scale, _size(params))
        why = check(single, many, probe_feeds(single.inputs, scale, _size(params)))
    except Exception as exc:  # a copy that cannot be made, opened or run
        why = reason(exc)
        if path is not None:  # made again at the next start, in case it was damaged
            with contextlib.suppress(OSError):
                path.unlink()
    if why:
        return None, f"{name}: served request by request (its batched copy failed: {why})"
    return many, f"{name}: a batch of requests is one call of the network"


class Runner:
    """One hosted network: the wire's tensors in, the wire's tensors out; a batch of
    requests as one call of `many` (the batch-free copy) where there is one."""

    def __init__(self, network: Network, many: Network | None = None) -> None:
        self.network = network
        self.many = many
        self.names = [p.name for p in network.inputs]
        self.runs = 0  # calls of the network (a batch is one)
        self.batch_failures = 0  # batches in a row that failed as one call

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """One request's tensors (`in0`, `in1`, ... with the wire's batch axis) → its
        outputs (`out0`, ... with it)."""
        feeds = self._feeds(arrays)
        self.runs += 1
        # Copied: an engine may reuse its output buffers at the next request's run.
        return [batched(np.array(out)) for out in self.network.run(feeds)]

    def run_all(self, requests: list[list[np.ndarray]]) -> list[list[np.ndarray] | Exception]:
        """Every request's outputs, or the error that request met: one call for all of
        them when they can be batched, else one each."""
        if self.many is not None and len(requests) > 1:
            try:
                return self._together(requests)
            except Exception as exc:  # each request then meets its own error, if any
                self._batch_failed(exc)
        out: list[list[np.ndarray] | Exception] = []
        for arrays in requests:
            try:
                out.append(self.run(arrays))
            except Exception as exc:
                out.append(exc)
        return out

    def _batch_failed(self, exc: Exception) -> None:
        """Said once; after MAX_BATCH_FAILURES in a row the copy is given up for good."""
        self.batch_failures += 1
        if self.batch_failures == 1:
            log.warning("%s: a batch failed as one call (%s): its requests run one by "
                        "one", self.network.name, reason(exc))
        if self.batch_failures >= MAX_BATCH_FAILURES:
            log.warning("%s: the batched copy failed %d times in a row: requests run one "
                        "by one from now on", self.network.name, self.batch_failures)
            self.many = None

    def _together(self, requests: list[list[np.ndarray]]) -> list[list[np.ndarray] | Exception]:
        assert self.many is not None
        each = [self._feeds(arrays) for arrays in requests]
        feeds = {n: np.concatenate([f[n] for f in each]) for n in self.names}
        outs = [np.array(o) for o in self.many.run(feeds)]
        if any(o.shape[0] != len(requests) for o in outs):
            raise ValueError("the batched network's outputs are not one per request")
        self.runs += 1
        self.batch_failures = 0
        return [[o[i:i + 1][np.newaxis] for o in outs] for i in range(len(requests))]

    def _feeds(self, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
        if len(arrays) != len(self.names):
            raise ValueError(f"{len(arrays)} tensors for {len(self.names)} inputs")
        return {name: unbatched(a) for name, a in zip(self.names, arrays, strict=True)}


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

        # The stub's own process: its lines go to Triton's output (the operator's log).
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        self.torch = torch  # imported here: a first call must not wait for it (~1 s)
        self.pb = pb
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        single = open_hosted(params)
        many, line = open_batched(params, single)
        log.info(line)
        self.runner = Runner(single, many)
        self.inputs = [i["name"] for i in config["input"]]
        self.outputs = [o["name"] for o in config["output"]]
        self.served = config["name"]
        family = pb.MetricFamily
        self.calls = family(name="installation_client_requests_total",
                            description="network calls answered, by display machine and "
                            "network", kind=family.COUNTER)
        self.seen = family(name="installation_client_last_seen_seconds",
                           description="when a display machine last called a network "
                           "(Unix time, s)", kind=family.GAUGE)
        # A family must outlive its metrics: both are kept.
        self.run_family = family(name="installation_network_runs_total",
                                 description="calls of the network itself (a batch of "
                                 "requests is one where it can be batched)",
                                 kind=family.COUNTER)
        self.runs = self.run_family.Metric(labels={"model": self.served})
        self._metrics: dict[str, tuple[Any, Any]] = {}

    def execute(self, requests: list[Any]) -> list[Any]:
        torch, dlpack, pb = self.torch, self.torch.utils.dlpack, self.pb
        runs = self.runner.runs
        read: list[list[np.ndarray] | Exception] = []
        for request in requests:
            self._count(client_of(request.parameters()))
            try:
                read.append([dlpack.from_dlpack(pb.get_input_tensor_by_name(request, n)
                                                .to_dlpack()).numpy() for n in self.inputs])
            except Exception as exc:
                read.append(exc)
        good = [arrays for arrays in read if not isinstance(arrays, Exception)]
        done = iter(self.runner.run_all(good))
        answers = []
        for arrays in read:
            outs = arrays if isinstance(arrays, Exception) else next(done)
            if isinstance(outs, Exception):  # this request fails; the others are answered
                answers.append(pb.InferenceResponse(
                    output_tensors=[], error=pb.TritonError(f"{type(outs).__name__}: {outs}")))
                continue
            answers.append(pb.InferenceResponse(output_tensors=[
                pb.Tensor.from_dlpack(n, dlpack.to_dlpack(torch.from_numpy(
                    np.ascontiguousarray(a))))
                for n, a in zip(self.outputs, outs, strict=True)]))
        self.runs.increment(self.runner.runs - runs)
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
        self._metrics.clear()  # the metrics before their families
        del self.runs
