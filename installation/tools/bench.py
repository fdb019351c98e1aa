"""`python main.py bench`: the pipeline against the bare network call, on the same frames.

Three runs on the same decoded frames at the processing size:
  bare      the network alone, inputs prepared beforehand (the ceiling);
  pipeline  the installation as it runs: capture thread (replaying the frames at
            --source-fps, a camera that is never the bottleneck), effect thread, main loop
            presenting to a window (SDL's dummy driver where there is no display);
  naive     one thread: take a frame, paint it, present it, then the next.

For the pipeline it also reports CPU use (process CPU time over wall time, in cores),
the process's peak resident memory, and on CUDA the GPU memory in use. It also times the
perception stage alone on the clip at its own size (with the person and face networks
where pulled, and without them): milliseconds per analysed frame at `[perception] width`.
`--sizes` sweeps processing sizes (bare and pipeline at each) and reports the cost per megapixel.
`--record on` runs the pipeline recording too (a temporary file at the config's
[recording] size, as a show with --record does) and reports what the recording kept and
dropped: compare `--record off` and `on`, interleaved, for what recording costs the show.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from installation.capture import ReplaySource, clip_file, decode_frames
from installation.display.screen import ScreenFitter
from installation.display.window import open_window
from installation.effects import build_effect
from installation.errors import UserError
from installation.models import ModelStore
from installation.perception import Perceiver, PerceptionConfig
from installation.perception.networks import load_networks
from installation.runtime import Device
from installation.show.config import Config, SceneConfig
from installation.show.loop import RunOptions, Show
from installation.state import SinkState
from installation.tools.common import bench_config, measured_scene, parse_size, percentile
from installation.tools.engines import (
    WARMUP,
    EngineSpec,
    bench_bare,
    bench_networks,
    parse_engines,
    print_networks,
)


def bench_perception(frames: list[np.ndarray], cfg: PerceptionConfig, store: ModelStore,
                     networks: bool) -> dict[str, Any]:
    """The perception stage's analysis per frame (`frames` at the camera's size, one per
    1 / rate_hz of simulated time, so every frame is analysed), ms; with the networks
    where pulled (`networks`) or background subtraction alone."""
    loaded = load_networks(cfg, store) if networks else None
    perceiver = (Perceiver(cfg, loaded.segmenter, loaded.faces, loaded.missing)
                 if loaded is not None else Perceiver(cfg))
    step = 1.0 / cfg.rate_hz
    ms = [perceiver.update(f, i * step).ms for i, f in enumerate(frames)][WARMUP:]
    return {"ms_p50": percentile(ms, 50), "ms_p95": percentile(ms, 95),
            "ms_mean": float(np.mean(ms)) if ms else 0.0, "frames": len(ms),
            "size": "x".join(map(str, perceiver.size)),
            "network": loaded is not None and loaded.segmenter is not None,
            "faces": loaded is not None and loaded.faces is not None}


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def gpu_memory_mb(device: Device) -> float | None:
    """GPU memory in use on the device now (all processes), MiB; None without CUDA."""
    if device.kind != "cuda":
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    free, total = torch.cuda.mem_get_info()
    return (total - free) / 2**20


def bench_pipeline(frames: list[np.ndarray], cfg: Config, device: Device, store: ModelStore,
                   source_fps: float, record: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        path = Path(folder) / "bench.mp4" if record else None
        show = Show(cfg, store, device, RunOptions(max_frames=len(frames) + WARMUP, record=path),
                    source=ReplaySource(frames, source_fps, name="bench"))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        rep = show.run()
        cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
        sinks = {s.name: s for s in show.sink_states()}
        size_mb = path.stat().st_size / 1e6 if path is not None and path.exists() else 0.0
    lat = list(rep.latencies_ms)[WARMUP:]
    presents = list(rep.present_times)[WARMUP:]
    span = presents[-1] - presents[0] if len(presents) > 1 else 0.0
    gaps = [(b - a) * 1000.0 for a, b in itertools.pairwise(presents)]
    return {
        "fps": (len(presents) - 1) / span if span > 0 else 0.0,
        "frame_ms_p50": percentile(gaps, 50),
        "frame_ms_p95": percentile(gaps, 95),
        "latency_ms_p50": percentile(lat, 50),
        "latency_ms_p95": percentile(lat, 95),
        "cpu_cores": cpu_s / wall_s if wall_s > 0 else 0.0,  # 1.0 = one core busy
        "peak_rss_mb": peak_rss_mb(),
        "gpu_mem_mb": gpu_memory_mb(device),
        "stages_ms_p50": {k: round(percentile(list(v)[WARMUP:], 50), 2)
                          for k, v in rep.stage_ms.items()},
        "recording": None if path is None else _recording(cfg, rep.recorded_frames,
                                                          sinks.get("recording"), size_mb),
    }


def _recording(cfg: Config, frames: int, sink: SinkState | None,
               size_mb: float) -> dict[str, Any]:
    """What the pipeline's recording kept: its size and rate, frames written, pictures it
    took and dropped, whether it failed."""
    rc = cfg.recording
    return {"size": f"{rc.width}x{rc.height}", "fps": rc.fps, "frames": frames,
            "pictures": 0 if sink is None else sink.sent,
            "dropped": 0 if sink is None else sink.dropped,
            "failed": None if sink is None else sink.failed, "file_mb": round(size_mb, 3)}


def bench_naive(frames: list[np.ndarray], cfg: Config, scene: SceneConfig, device: Device,
                store: ModelStore) -> dict[str, float]:
    """Read, paint, present, one after another in one thread."""
    effect = build_effect(scene, cfg.style, device, store)
    window = open_window(cfg.display)
    fitter = ScreenFitter((cfg.display.width, cfg.display.height), cfg.display.fit, True)
    times = []
    t0 = time.perf_counter()
    try:
        for i, f in enumerate([*frames[:WARMUP], *frames]):
            if i == WARMUP:
                t0 = time.perf_counter()
            t = time.perf_counter()
            out = effect(f, time.monotonic())
            if window is not None:
                window.present(out, None)
            else:
                fitter.apply(out)
            if i >= WARMUP:
                times.append((time.perf_counter() - t) * 1000.0)
    finally:
        if window is not None:
            window.close()
    elapsed = time.perf_counter() - t0
    return {"fps": len(frames) / elapsed, "frame_ms_p50": percentile(times, 50),
            "latency_ms_p50": percentile(times, 50), "latency_ms_p95": percentile(times, 95)}


def run_bench(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace) -> int:
    if args.frames < 20:
        raise UserError(f"--frames {args.frames}: give at least 20")
    if args.served and not args.remote:
        raise UserError(f"--served {args.served}: the networks of --remote; add --remote")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # present into memory, no screen
    if args.sizes:
        sizes = [parse_size(t, "--sizes") for t in args.sizes.split(",")]
        return _sweep(cfg, store, device, args, sizes)
    if args.remote:
        from installation.tools.remote_bench import run_remote_bench

        return run_remote_bench(cfg, store, device, args)
    if args.surfaces:
        from installation.tools.surfaces import run_surfaces

        return run_surfaces(cfg, store, device, args)
    size = parse_size(args.size)
    if args.networks:
        rows = bench_networks(parse_engines(args.engine, args.precision, device), device,
                              store, size)
        if args.json:
            print(json.dumps({"device": device.describe(), "size": f"{size[0]}x{size[1]}",
                              "networks": rows}))
        else:
            print(device.describe())
            print_networks(rows, size)
        return 0
    scene = measured_scene(cfg, args.scene, size, args.temporal)
    cfg = bench_config(cfg, scene)
    frames = decode_frames(clip_file(args.source, cfg.source.demo_clip, store), args.frames,
                           size)
    record = args.record == "on"  # `--record on|off`
    specs = parse_engines(args.engine, args.precision, device)
    engines = [_engine_run(spec, frames, cfg, scene, device, store, args.source_fps, record)
               for spec in specs]
    first = engines[0]
    naive = bench_naive(frames, cfg, scene, specs[0].on(device), store)
    camera = decode_frames(clip_file(args.source, cfg.source.demo_clip, store), args.frames,
                           None)
    perception = {"networks": bench_perception(camera, cfg.perception, store, True),
                  "alone": bench_perception(camera, cfg.perception, store, False)}
    result = {
        "device": device.describe(),
        "cpu_count": os.cpu_count(),
        "size": f"{size[0]}x{size[1]}",
        "frames": args.frames,
        "scene": scene.name,
        "layers": "style alone" if args.scene is None else "as configured",
        "style": scene.styles[0],
        "temporal": scene.temporal.enabled,
        "source_fps": args.source_fps,
        "engine": first["engine"],
        "bare": first["bare"],
        "pipeline": first["pipeline"],
        "engines": engines,
        "naive": naive,
        "perception": perception,
        "pipeline_vs_bare_throughput": first["pipeline_vs_bare_throughput"],
        "pipeline_latency_vs_bare_time": first["pipeline_latency_vs_bare_time"],
        "pipeline_vs_naive_throughput": first["pipeline"]["fps"] / naive["fps"],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(result["device"])
    steady = ", stabilised" if scene.temporal.enabled else ""
    print(f"{result['size']}, scene {scene.name} ({result['layers']}), style {scene.styles[0]}"
          f"{steady}, {args.frames} frames, source at {args.source_fps:g} fps")
    for run in engines:
        _print_engine(run, engines[0])
    print(f"  naive loop    {naive['fps']:7.1f} fps   "
          f"latency p50 {naive['latency_ms_p50']:6.1f} ms")
    for p in perception.values():
        nets = ("person + face networks" if p["network"] and p["faces"] else
                "person network" if p["network"] else "background subtraction alone")
        print(f"  perception    {p['size']} ({nets}): p50 {p['ms_p50']:5.2f} ms   "
              f"mean {p['ms_mean']:5.2f} ms   p95 {p['ms_p95']:5.2f} ms per analysed frame")
    print(f"  pipeline / naive ({first['engine']}): "
          f"{result['pipeline_vs_naive_throughput']:.2f}")
    return 0


def _engine_run(spec: EngineSpec, frames: list[np.ndarray], cfg: Config, scene: SceneConfig,
                device: Device, store: ModelStore, source_fps: float,
                record: bool = False) -> dict[str, Any]:
    """Bare and pipeline on one engine, with their ratios."""
    bare = bench_bare(frames, scene, spec, device, store)
    pipe = bench_pipeline(frames, cfg, spec.on(device), store, source_fps, record)
    return {"engine": spec.label, "bare": bare, "pipeline": pipe,
            "pipeline_vs_bare_throughput": pipe["fps"] / bare["fps"],
            "pipeline_latency_vs_bare_time": pipe["latency_ms_p50"] / bare["frame_ms_p50"]}


def _print_engine(run: dict[str, Any], base: dict[str, Any]) -> None:
    bare, pipe = run["bare"], run["pipeline"]
    diff = bare["vs_onnxruntime_fp32"]
    print(f"  engine {run['engine']}: {bare['engine']}")
    print(f"  bare network  {bare['fps']:7.1f} fps   p50 {bare['frame_ms_p50']:6.1f} ms   "
          f"p95 {bare['frame_ms_p95']:6.1f} ms   picture vs onnxruntime fp32: mean "
          f"{diff['mean']:.2f}, max {diff['max']:.0f} grey levels")
    print(f"  pipeline      {pipe['fps']:7.1f} fps   p50 {pipe['frame_ms_p50']:6.1f} ms   "
          f"p95 {pipe['frame_ms_p95']:6.1f} ms   latency p50 {pipe['latency_ms_p50']:6.1f} ms"
          f"   p95 {pipe['latency_ms_p95']:6.1f} ms")
    print(f"                stages p50 {pipe['stages_ms_p50']}")
    if (r := pipe["recording"]) is not None:
        print(f"                recording {r['size']} at {r['fps']:g} fps: {r['frames']} "
              f"frames, {r['pictures']} pictures taken, {r['dropped']} dropped, "
              f"{r['file_mb']:.1f} MB" + (f", FAILED {r['failed']}" if r["failed"] else ""))
    gpu = "" if pipe["gpu_mem_mb"] is None else f"   GPU memory {pipe['gpu_mem_mb']:.0f} MiB"
    print(f"                CPU {pipe['cpu_cores']:.2f} cores   peak RAM "
          f"{pipe['peak_rss_mb']:.0f} MiB{gpu}")
    ratio = pipe["fps"] / base["pipeline"]["fps"]
    print(f"  pipeline / bare throughput: {run['pipeline_vs_bare_throughput']:.2f}   "
          f"pipeline latency / bare time: {run['pipeline_latency_vs_bare_time']:.2f}   "
          f"pipeline / {base['engine']} pipeline: {ratio:.2f}")


def _sweep(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace,
           sizes: list[tuple[int, int]]) -> int:
    """Bare and pipeline at each size; the cost per megapixel shows how cost grows."""
    path = clip_file(args.source, cfg.source.demo_clip, store)
    specs = parse_engines(args.engine, args.precision, device)
    rows: list[dict[str, Any]] = []
    for size in sizes:
        scene = measured_scene(cfg, args.scene, size, args.temporal)
        frames = decode_frames(path, args.frames, size)
        mpx = size[0] * size[1] / 1e6
        for spec in specs:
            run = _engine_run(spec, frames, bench_config(cfg, scene), scene, device, store,
                              args.source_fps)
            rows.append({"size": f"{size[0]}x{size[1]}", "megapixels": mpx, **run,
                         "bare_ms_per_mpx": run["bare"]["frame_ms_p50"] / mpx})
    per_px = [r["bare_ms_per_mpx"] for r in rows if r["engine"] == specs[0].label]
    result: dict[str, Any] = {
        "device": device.describe(), "cpu_count": os.cpu_count(), "frames": args.frames,
        "scene": measured_scene(cfg, args.scene, sizes[0]).name, "sizes": rows,
        "temporal": measured_scene(cfg, args.scene, sizes[0], args.temporal).temporal.enabled,
        "layers": "style alone" if args.scene is None else "as configured",
        "per_pixel_spread": max(per_px) / min(per_px) - 1.0,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(result["device"])
    steady = ", stabilised" if result["temporal"] else ""
    print(f"scene {result['scene']} ({result['layers']}{steady}), {args.frames} frames per "
          "size")
    print("  size       engine              Mpx   bare fps  bare ms  ms/Mpx   pipeline fps  "
          "latency p50  CPU   picture diff mean/max")
    for r in rows:
        b, p, d = r["bare"], r["pipeline"], r["bare"]["vs_onnxruntime_fp32"]
        print(f"  {r['size']:10} {r['engine']:18} {r['megapixels']:5.2f}  {b['fps']:8.1f} "
              f"{b['frame_ms_p50']:8.1f} {r['bare_ms_per_mpx']:7.1f}  {p['fps']:12.1f} "
              f"{p['latency_ms_p50']:10.1f} ms {p['cpu_cores']:4.2f}   "
              f"{d['mean']:.2f}/{d['max']:.0f}")
    print(f"  cost per pixel ({specs[0].label}): largest / smallest − 1 = "
          f"{100 * result['per_pixel_spread']:.0f}%")
    return 0
