"""The one place that opens a network: which engine and precision run it, and why, in one
line.

    candidates(device) ──► each built, run on a probe, held to the reference (parity)
           │                      │ failed: one line, the next candidate
           ▼                      ▼
    ONNX Runtime fp32 (the reference) ◄── `auto`: the fastest that passed, by ≥ 10 %

`runtime.engine` names one engine (it still has to pass its parity check, or the
reference runs instead, said in one line); `auto` measures. On CPUs: OpenVINO, in bf16
only where the CPU has native bf16 (avx512_bf16 or AMX), else fp32. On CUDA: torch (fp16
unless told). Verdicts (parity, speed) are kept in `<models>/.engine-cache/choices.json`
per model file, engine, precision, shape, CPU and library versions, so a restart does not
measure again; `bench --engine` measures afresh.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as metadata_version
from pathlib import Path

import numpy as np

from installation.errors import ModelError, UserError
from installation.runtime.device import Device
from installation.runtime.network import EngineName, Network, Precision, reason
from installation.runtime.onnxrt import OrtNetwork
from installation.runtime.probes import (
    PROBE_SIZE,
    Parity,
    copy_outputs,
    parity,
    probe_feeds,
    quantized,
)

log = logging.getLogger(__name__)

BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # native bf16 arithmetic on x86 CPUs
GAIN = 0.9  # another engine is chosen over the reference only at ≤ 0.9x its time
WARMUP_RUNS = 3  # untimed runs first (torch on the CPU needs ~3 to reach its pace)
TIMED_RUNS = 9  # per candidate and the reference in turns, after a warm-up run; medians


@dataclass(frozen=True)
class Candidate:
    engine: EngineName
    precision: Precision
    why: str  # why this candidate is tried, for the line said


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere: no bf16 assumed)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16(flags: frozenset[str]) -> bool:
    return any(f in flags for f in BF16_FLAGS)


def _openvino_installed() -> bool:
    from installation.runtime.openvino import available

    return available()[0]


def candidates(device: Device, flags: frozenset[str],
               openvino: bool | None = None) -> list[Candidate]:
    """The engines to try besides the reference, best guess first (UserError when the
    config names an engine this machine cannot run)."""
    engine, precision = device.engine, device.precision
    have_ov = _openvino_installed() if openvino is None else openvino
    if engine == "onnxruntime":
        return []
    if engine == "torch" or (engine == "auto" and device.torch == "cuda"):
        p: Precision = "fp16" if precision == "auto" and device.torch == "cuda" else (
            "fp32" if precision == "auto" else precision)
        return [Candidate("torch", p, f"torch on {device.torch}")]
    if not have_ov:
        if engine == "openvino":
            raise UserError("runtime.engine = 'openvino' but openvino is not installed; "
                            "run `make run` to install the requirements, or set "
                            "runtime.engine = 'auto'")
        return []
    if precision != "auto":
        return [Candidate("openvino", precision, f"runtime.precision = '{precision}'")]
    if native_bf16(flags):
        found = ", ".join(f for f in BF16_FLAGS if f in flags)
        return [Candidate("openvino", "bf16", f"the CPU has native bf16 ({found})"),
                Candidate("openvino", "fp32", "fp32 where bf16 fails its check")]
    return [Candidate("openvino", "fp32", "the CPU has no native bf16")]


def build(candidate: Candidate, name: str, path: Path, device: Device,
          cache_dir: Path | None) -> Network:
    """The network `candidate` names, loaded (not yet run)."""
    if candidate.engine == "openvino":
        from installation.runtime.openvino import OpenVinoNetwork

        ov_cache = cache_dir / "openvino" if cache_dir is not None else None
        return OpenVinoNetwork(path, candidate.precision, device.threads, name,
                               cache_dir=ov_cache)
    if candidate.engine == "torch":
        from installation.runtime.torchnet import TorchNetwork

        return TorchNetwork(path, candidate.precision, device.torch, name,
                            threads=device.threads if device.torch == "cpu" else 0,
                            fast=device.torch == "cuda")
    return OrtNetwork(path, device, name)


def paired_ms(nets: list[Network], feeds: Mapping[str, np.ndarray],
              runs: int = TIMED_RUNS) -> list[float]:
    """Each network's median time of one run, ms, the networks taking turns call by call
    (after WARMUP_RUNS each): a busy moment on a shared machine falls on all alike."""
    times: list[list[float]] = [[] for _ in nets]
    for _ in range(WARMUP_RUNS):
        for net in nets:
            net.run(feeds)
    for _ in range(runs):
        for net, kept in zip(nets, times, strict=True):
            t0 = time.perf_counter()
            net.run(feeds)
            kept.append((time.perf_counter() - t0) * 1000.0)
    return [float(np.median(kept)) for kept in times]


# -- the verdicts kept between starts -------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    mean: float  # grey levels
    max: float
    ok: bool
    ms: float  # the candidate's median time, ms (0 when it failed)
    reference_ms: float


def _versions() -> str:
    """The engines' versions, from the installed packages' metadata (importing torch to
    ask would cost seconds at every start)."""
    parts: list[str] = []
    for package, short in (("onnxruntime-gpu", "ort"), ("onnxruntime", "ort"),
                           ("openvino", "ov"), ("torch", "torch")):
        with contextlib.suppress(PackageNotFoundError):
            version = metadata_version(package)
            if not any(p.startswith(short) for p in parts):
                parts.append(f"{short}{version}")
    return "+".join(parts)


def verdict_key(path: Path, candidate: Candidate, shapes: str, device: Device) -> str:
    stat = path.stat()
    cpu = platform.processor() or platform.machine()
    return "|".join([path.name, str(stat.st_size), str(stat.st_mtime_ns), candidate.engine,
                     candidate.precision, shapes, device.kind, device.torch, cpu,
                     str(device.threads), str(os.cpu_count()), _versions()])


class Verdicts:
    """choices.json: verdict key → Verdict. A file that cannot be read or written only
    costs a measurement at the next start."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "choices.json" if cache_dir is not None else None
        self._data: dict[str, dict[str, float | bool]] = {}
        if self.path is not None and self.path.is_file():
            try:
                loaded = json.loads(self.path.read_text())
                self._data = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self._data = {}

    def get(self, key: str) -> Verdict | None:
        entry = self._data.get(key)
        try:
            return Verdict(**entry) if isinstance(entry, dict) else None  # type: ignore[arg-type]
        except TypeError:
            return None

    def put(self, key: str, verdict: Verdict) -> None:
        self._data[key] = asdict(verdict)
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".partial")
            partial.write_text(json.dumps(self._data, indent=1, sort_keys=True))
            partial.replace(self.path)
        except OSError as exc:
            log.warning("engine choices not kept in %s: %s", self.path, exc)


# -- opening a network ----------------------------------------------------------------------


def open_network(name: str, path: Path, device: Device, cache_dir: Path | None = None,
                 picture_scale: float = 1.0,
                 size: tuple[int, int] = PROBE_SIZE,
                 flags: frozenset[str] | None = None) -> Network:
    """The network in the model file at `path`, on the engine chosen for it; the choice
    said in one line (log). `picture_scale` is the range of its picture inputs (1 or 255),
    `size` (W, H) px the picture size it will mostly see (free dimensions only); `flags`
    the CPU's features (None: read from the machine). With a serving engine
    (`device.remote`) the network is sent there, the local one standing by."""
    return beside_server(_open_local(name, path, device, cache_dir, picture_scale, size, flags),
                         device, path)


def beside_server(local: Network, device: Device, path: Path) -> Network:
    """`local`, sent to the serving engine when `device` has one (the server must run the
    same file `path`), the local copy standing by; else `local` itself."""
    if device.remote is None:
        return local
    from installation.runtime.remote import ServedNetwork

    return ServedNetwork(local, device.remote, path)


def _open_local(name: str, path: Path, device: Device, cache_dir: Path | None,
                picture_scale: float, size: tuple[int, int],
                flags: frozenset[str] | None) -> Network:
    reference = OrtNetwork(path, device, name)
    plan = candidates(device, cpu_flags() if flags is None else flags)
    if not plan:
        log.info("%s (runtime.engine = '%s')", reference.describe(), device.engine)
        return reference
    feeds = probe_feeds(reference.inputs, picture_scale, size)
    shapes = ";".join("x".join(map(str, a.shape)) for a in feeds.values())
    verdicts = Verdicts(cache_dir)
    int8: bool | None = None  # read from the file only when something is measured
    expected: list[np.ndarray] | None = None
    passed: list[tuple[float, Network, Verdict]] = []
    failed: list[str] = []
    for candidate in plan:
        key = verdict_key(path, candidate, shapes, device)
        verdict = verdicts.get(key)
        try:
            net = build(candidate, name, path, device, cache_dir)
            if verdict is None:
                if expected is None:
                    expected = copy_outputs(reference.run(feeds))
                    int8 = quantized(path)
                check = parity(expected, copy_outputs(net.run(feeds)), candidate.precision,
                               bool(int8))
                ms, reference_ms = paired_ms([net, reference], feeds) if check.ok else (0, 0)
                verdict = Verdict(check.mean, check.max, check.ok, ms, reference_ms)
                verdicts.put(key, verdict)
        except ModelError as exc:  # an engine that refuses this network: the next one
            failed.append(f"{candidate.engine} {candidate.precision} cannot run it ({exc})")
            continue
        except UserError:
            raise
        except Exception as exc:  # an engine that cannot build or run this network
            failed.append(f"{candidate.engine} {candidate.precision} cannot run it "
                          f"({reason(exc)})")
            continue
        if not verdict.ok:
            failed.append(f"{candidate.engine} {candidate.precision} failed its parity check "
                          f"({Parity(verdict.mean, verdict.max, False, '').line()[:-3]})")
            continue
        passed.append((verdict.ms, net, verdict))
        if device.engine != "auto":
            break  # the engine asked for, at its first precision that passes
    return _pick(reference, passed, failed, device)


def _pick(reference: OrtNetwork, passed: list[tuple[float, Network, Verdict]],
          failed: list[str], device: Device) -> Network:
    """The chosen network, said in one line (its description names it)."""
    why_not = f"; {'; '.join(failed)}" if failed else ""
    if not passed:
        log.info("%s%s - the reference instead", reference.describe(), why_not)
        return reference
    ms, net, verdict = min(passed, key=lambda p: p[0])
    figures = (f"parity mean {verdict.mean:.2f}, max {verdict.max:.1f} grey levels; "
               f"{ms:.1f} ms vs onnxruntime {verdict.reference_ms:.1f} ms")
    if device.engine == "auto" and ms > GAIN * verdict.reference_ms:
        log.info("%s (%s: not %d %% faster)%s", reference.describe(), figures,
                 round((1 - GAIN) * 100), why_not)
        return reference
    log.info("%s (%s)%s", net.describe(), figures, why_not)
    return net
