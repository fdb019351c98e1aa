"""The engines `bench` measures side by side: `--engine onnxruntime,openvino:bf16,auto`.

Each entry is an engine (auto, onnxruntime, openvino, torch) with an optional `:precision`
(else `--precision`). `bench_bare` times the style network alone on that engine, exactly
as asked (no parity fallback: a bench measures what it is told), and measures its picture
against the fp32 ONNX Runtime output on the same frames.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import numpy as np

from installation.effects.config import style_weights
from installation.effects.style import preprocess
from installation.errors import ModelError, UserError
from installation.models import ModelStore
from installation.runtime import CPU, Device, Network, OrtNetwork, open_network
from installation.runtime.choice import Candidate, build, candidates, cpu_flags, paired_ms
from installation.runtime.device import EngineChoice, PrecisionChoice
from installation.runtime.network import reason
from installation.runtime.probes import copy_outputs, parity, probe_feeds, quantized
from installation.show.config import SceneConfig
from installation.tools.common import percentile

WARMUP = 10  # frames run before timing starts
NETWORK_RUNS = 20  # timed calls per network and engine in `bench --networks`, in turns
DIFF_EVERY = 10  # every 10th frame is compared with the reference picture


@dataclass(frozen=True)
class EngineSpec:
    engine: EngineChoice
    precision: PrecisionChoice

    @property
    def label(self) -> str:
        return self.engine if self.precision == "auto" else f"{self.engine}:{self.precision}"

    def on(self, device: Device) -> Device:
        """`device` with this engine and precision asked for."""
        return dataclasses.replace(device, engine=self.engine, precision=self.precision)


def parse_engines(text: str | None, precision: str, device: Device) -> list[EngineSpec]:
    """--engine's comma-separated list (None: the config's engine) → specs."""
    engines = get_args(EngineChoice)
    precisions = get_args(PrecisionChoice)
    if precision not in precisions:
        raise UserError(f"--precision {precision}: use one of {', '.join(precisions)}")
    if not text:
        return [EngineSpec(device.engine, device.precision if precision == "auto"
                           else precision)]  # type: ignore[arg-type]
    specs = []
    for item in text.split(","):
        name, _, p = item.strip().partition(":")
        p = p or precision
        if name not in engines or p not in precisions:
            raise UserError(f"--engine {item!r}: use ENGINE[:PRECISION] with ENGINE one of "
                            f"{', '.join(engines)} and PRECISION one of {', '.join(precisions)}")
        specs.append(EngineSpec(name, p))  # type: ignore[arg-type]
    return specs


def network_on(spec: EngineSpec, name: str, path: Path, device: Device, store: ModelStore,
               size: tuple[int, int], picture_scale: float = 1.0) -> Network:
    """The network in `path` on `spec`'s engine: exactly that engine when one is named,
    the runtime's choice for `auto`."""
    on = spec.on(device)
    if spec.engine == "auto":
        return open_network(name, path, on, store.engine_cache, picture_scale, size)
    if spec.engine == "onnxruntime":
        return OrtNetwork(path, on, name)
    first = candidates(on, cpu_flags())[0]
    return build(Candidate(first.engine, first.precision, "asked"), name, path, on,
                 store.engine_cache)


def style_network(spec: EngineSpec, device: Device, store: ModelStore,
                  size: tuple[int, int]) -> Network:
    """The 26-style network on `spec`'s engine (see `network_on`)."""
    return network_on(spec, "multistyle26", store.require("multistyle26"), device, store, size)


def networks(store: ModelStore) -> dict[str, tuple[Callable[[], Path], float]]:
    """Every network the shipped scenes run: name → (its file, found on demand; the range of
    its picture inputs)."""
    from installation.dream.fast import network_path

    def pulled(name: str) -> Callable[[], Path]:
        return lambda: store.require(name)

    def dream(name: str) -> Callable[[], Path]:
        return lambda: network_path(store, name)

    return {"multistyle26": (pulled("multistyle26"), 1.0),
            "arbitrary-predict": (pulled("arbitrary-predict"), 1.0),
            "arbitrary-transform": (pulled("arbitrary-transform"), 1.0),
            "fast-dream:deep": (dream("deep"), 255.0),
            "fast-dream:ripples": (dream("ripples"), 255.0),
            "gan-eyes": (pulled("gan-eyes"), 1.0), "gan-faces": (pulled("gan-faces"), 1.0)}


def bench_networks(specs: list[EngineSpec], device: Device, store: ModelStore,
                   size: tuple[int, int], runs: int = NETWORK_RUNS) -> list[dict[str, Any]]:
    """Each network alone on each engine at `size` (free dimensions only): the median time
    of `runs` calls on the probe feeds, the engines taking turns call by call (a busy
    moment on a shared machine falls on all of them), and the parity with fp32 ONNX
    Runtime, as the runtime's choice measures both (runtime/choice.py, probes.py)."""
    rows: list[dict[str, Any]] = []
    for name, (path_of, scale) in networks(store).items():
        try:
            path = path_of()
        except (ModelError, UserError) as exc:
            rows.append({"network": name, "error": str(exc)})
            continue
        reference = OrtNetwork(path, dataclasses.replace(device, providers=[CPU]), name)
        feeds = probe_feeds(reference.inputs, scale, size)
        expected = copy_outputs(reference.run(feeds))
        timed: dict[int, Network] = {-1: reference}  # row index (-1: the reference) → net
        named: list[dict[str, Any]] = []
        for spec in specs:
            row: dict[str, Any] = {"network": name, "engine": spec.label}
            try:
                net = network_on(spec, name, path, device, store, size, scale)
                check = parity(expected, copy_outputs(net.run(feeds)), net.precision,
                               quantized(path))
                row.update(runs_on=net.describe().partition(": ")[2], mean=check.mean,
                           max=check.max, parity=check.ok)
                timed[len(named)] = net
            except (ModelError, UserError, RuntimeError, ValueError) as exc:
                row["error"] = reason(exc)
            named.append(row)
        order = list(timed)
        medians = dict(zip(order, paired_ms([timed[i] for i in order], feeds, runs),
                           strict=True))
        reference_ms = medians[-1]
        for i, row in enumerate(named):
            row["reference_ms"] = reference_ms
            if i in timed:
                row["ms"] = medians[i]
        rows.extend(named)
    return rows


def print_networks(rows: list[dict[str, Any]], size: tuple[int, int]) -> None:
    print(f"each network alone at {size[0]}x{size[1]} (free dimensions), median of "
          f"{NETWORK_RUNS} calls; parity with fp32 onnxruntime in grey levels")
    for r in rows:
        head = f"  {r['network']:<20} {r.get('engine', ''):<14}"
        if "error" in r:
            print(f"{head} {r['error']}")
            continue
        verdict = "ok" if r["parity"] else "FAILS parity"
        print(f"{head} {r['ms']:7.2f} ms  (onnxruntime {r['reference_ms']:6.2f} ms, "
              f"x{r['reference_ms'] / r['ms']:4.2f})  mean {r['mean']:5.2f} max "
              f"{r['max']:6.1f} {verdict}   [{r['runs_on']}]")


def bench_bare(frames: list[np.ndarray], scene: SceneConfig, spec: EngineSpec,
               device: Device, store: ModelStore) -> dict[str, object]:
    """The multi-style network alone on prepared inputs (the pipeline's ceiling on that
    engine), and its picture against fp32 ONNX Runtime's, grey levels."""
    h, w = frames[0].shape[:2]
    net = style_network(spec, device, store, (w, h))
    names = [next(i.name for i in net.inputs if len(i.shape) == 4),
             next(i.name for i in net.inputs if len(i.shape) == 1)]
    weights = np.asarray(style_weights(scene.styles[0]), np.float32)
    inputs = [preprocess(f) for f in frames]  # the effect's own documented preprocessing
    for x in inputs[:WARMUP]:
        net.run({names[0]: x, names[1]: weights})
    times = []
    t0 = time.perf_counter()
    for x in inputs:
        t = time.perf_counter()
        net.run({names[0]: x, names[1]: weights})
        times.append((time.perf_counter() - t) * 1000.0)
    elapsed = time.perf_counter() - t0
    diff = picture_difference(net, inputs[::DIFF_EVERY], names, weights, device, store)
    return {"fps": len(inputs) / elapsed, "frame_ms_p50": percentile(times, 50),
            "frame_ms_p95": percentile(times, 95), "engine": net.describe(),
            "vs_onnxruntime_fp32": diff}


def picture_difference(net: Network, inputs: list[np.ndarray], names: list[str],
                       weights: np.ndarray, device: Device,
                       store: ModelStore) -> dict[str, float]:
    """Mean and max |net − fp32 ONNX Runtime| over `inputs`, grey levels (0..255)."""
    reference = OrtNetwork(store.require("multistyle26"), dataclasses.replace(
        device, providers=["CPUExecutionProvider"]), "multistyle26")
    means, maxes = [], []
    for x in inputs:
        feeds = {names[0]: x, names[1]: weights}
        ref = np.clip(reference.run(feeds)[0], 0.0, 1.0) * 255.0
        got = np.clip(net.run(feeds)[0], 0.0, 1.0) * 255.0
        d = np.abs(got.astype(np.float64) - ref)
        means.append(float(d.mean()))
        maxes.append(float(d.max()))
    return {"mean": float(np.mean(means)) if means else 0.0,
            "max": max(maxes) if maxes else 0.0, "frames": len(inputs)}
