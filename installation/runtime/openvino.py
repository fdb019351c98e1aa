"""OpenVINO on CPUs (and Intel GPUs where OpenVINO sees one): static shapes, compiled once
per input shape and kept, with OpenVINO's model cache on disk; latency hint; threads from
`runtime.threads`; inputs and outputs shared with numpy, not copied.

Precision is always set explicitly: OpenVINO picks bf16 by itself on CPUs that have it,
and we want that only where the parity check passed (runtime/choice.py).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from installation.errors import ModelError
from installation.runtime.network import EngineName, Port, Precision, reason

log = logging.getLogger(__name__)

OV_TYPES = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
SHAPES_KEPT = 4  # compiled shapes kept per network (a scene's size, its adaptive steps)


def available() -> tuple[bool, str]:
    """Whether OpenVINO can be imported here, and if not why (one phrase)."""
    try:
        import openvino  # noqa: F401
    except ImportError as exc:
        return False, f"openvino is not installed ({exc})"
    return True, ""


def _core(cache_dir: Path | None) -> Any:
    import openvino as ov

    core = ov.Core()
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            core.set_property({"CACHE_DIR": str(cache_dir)})
        except OSError as exc:  # the cache only saves time at the next start
            log.warning("OpenVINO model cache %s not usable: %s", cache_dir, exc)
    return core


def _dims(partial: Any) -> tuple[int | str | None, ...]:
    return tuple(d.get_length() if d.is_static else None for d in partial)


class OpenVinoNetwork:
    """A network run by OpenVINO (a `Network`), compiled for each input shape it meets."""

    engine: EngineName = "openvino"

    def __init__(self, path: Path, precision: Precision, threads: int, name: str = "",
                 device: str = "CPU", cache_dir: Path | None = None) -> None:
        self.name = name or path.stem
        self.path = path
        self.precision: Precision = precision
        self.device = device
        self.threads = threads
        self._core = _core(cache_dir)
        try:
            self._model = self._core.read_model(str(path))
        except Exception as exc:
            raise ModelError(f"model {path} cannot be read by OpenVINO ({reason(exc, 160)}); "
                             "run `python main.py models pull` to restore it") from None
        self.inputs = [Port(i.get_any_name(), _dims(i.get_partial_shape()))
                       for i in self._model.inputs]
        self.outputs = [Port(o.get_any_name(), _dims(o.get_partial_shape()))
                        for o in self._model.outputs]
        self._compiled: OrderedDict[tuple[tuple[int, ...], ...], Any] = OrderedDict()
        self._lock = threading.Lock()  # compiling is rare; a second thread waits for it
        self._local = threading.local()

    @functools.cached_property
    def metadata(self) -> dict[str, str]:
        """Read when asked: parsing the file with `onnx` costs a second and most
        networks carry none."""
        return _onnx_metadata(self.path)

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY",
                                  "INFERENCE_PRECISION_HINT": OV_TYPES[self.precision]}
        if self.device == "CPU":
            config["INFERENCE_NUM_THREADS"] = self.threads
        return config

    def request_for(self, shapes: tuple[tuple[int, ...], ...]) -> Any:
        """This thread's infer request for these input shapes (compiled now if new).

        One compiled model per shape, shared; one request per thread, so two stages that
        share the network never write into each other's output buffers.
        """
        with self._lock:
            compiled = self._compiled.get(shapes)
            if compiled is None:
                model = self._model.clone()
                model.reshape({p.name: list(s)
                               for p, s in zip(self.inputs, shapes, strict=True)})
                compiled = self._core.compile_model(model, self.device, self._config())
                self._compiled[shapes] = compiled
                while len(self._compiled) > SHAPES_KEPT:
                    self._compiled.popitem(last=False)
            self._compiled.move_to_end(shapes)
        requests: dict[tuple[tuple[int, ...], ...], Any] = self._local.__dict__.setdefault(
            "requests", {})
        request = requests.get(shapes)
        if request is None:
            for old in [s for s in requests if s not in self._compiled]:
                del requests[old]  # its compiled model was dropped: let it go
            request = requests[shapes] = compiled.create_infer_request()
        return request

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        arrays = [np.ascontiguousarray(feeds[p.name], np.float32) for p in self.inputs]
        request = self.request_for(tuple(a.shape for a in arrays))
        # Shared both ways: OpenVINO reads our arrays in place and hands out its own
        # output buffers (valid until this network's next run, as the Network says).
        result = request.infer(arrays, share_inputs=True, share_outputs=True)
        return [result[i] for i in range(len(self.outputs))]

    def describe(self) -> str:
        return (f"{self.name}: openvino {self.device} {self.precision}, "
                f"{self.threads} threads, static shapes")


def _onnx_metadata(path: Path) -> dict[str, str]:
    """The model file's key/value metadata (OpenVINO does not keep ONNX's)."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return {}
    return {p.key: p.value for p in model.metadata_props}
