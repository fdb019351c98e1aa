"""`python main.py dream-compare`: the fast dream networks against the live dream.

On the same decoded frames, at the same size (320×180 by default), with a simulated clock
(frame i at i / 30 s, so the live dream's feedback sees the clip as it plays):

- speed: each effect's time per frame (median, ms), as the show calls it (resizing, flow,
  padding included), and the live time over the fast time;
- dream delivered: the dream objective (`ascent.objective`, at the fast network's own
  layers) of each output minus that of its input frame, averaged over the frames; the fast
  network's gain over the live dream's gain (run with the same layers and the rest of the
  dream scene's settings).

With `--picture`, the last frame side by side: a row per network — input, live dream, fast
dream.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np
import torch

from installation.capture import clip_file, decode_frames
from installation.dream.ascender import DreamAscent
from installation.dream.ascent import objective, to_tensor
from installation.dream.backbone import EfficientNetLite0, load_backbone
from installation.dream.config import DreamConfig, parse_layers
from installation.dream.fast import FastDreamEffect, available_networks, network_path
from installation.dream.live import DreamEffect
from installation.errors import UserError
from installation.models import ModelStore
from installation.pictures import caption, write_picture
from installation.runtime import Device, open_network, torch_device
from installation.show.config import Config
from installation.tools.common import parse_size

FPS = 30.0  # the simulated clock's frame rate, frames/s
WARMUP = 2  # frames run before timing starts


def live_settings(cfg: Config) -> DreamConfig:
    """The first dream scene's settings (DreamConfig's defaults when none dreams live)."""
    scene = next((s for s in cfg.scenes if "dream" in s.chain), None)
    return scene.dream if scene is not None else DreamConfig()


def _score(net: EfficientNetLite0, layers: dict[int, float], picture: np.ndarray,
           device: str) -> float:
    """The dream objective of an H×W×3 uint8 picture."""
    with torch.no_grad():
        return float(objective(net, to_tensor(picture).to(device), layers))


def _timed(effect: Any, frames: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """Outputs for all frames, and the median time per frame (ms) after warm-up."""
    outputs, times = [], []
    for i, frame in enumerate(frames):
        t = time.perf_counter()
        outputs.append(effect(frame, i / FPS))
        if i >= WARMUP:
            times.append((time.perf_counter() - t) * 1000.0)
    return outputs, statistics.median(times)


def compare(frames: list[np.ndarray], names: list[str], live_cfg: DreamConfig,
            size: tuple[int, int], device: Device, store: ModelStore
            ) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """One result per network, and the picture rows (input | live | fast) of the last frame."""
    where = torch_device(device)
    net = load_backbone(store, where)
    results, rows = [], []
    for name in names:
        network = open_network(f"fast-dream:{name}", network_path(store, name), device,
                               store.engine_cache, 255.0, size)
        fast = FastDreamEffect(network, name, size)
        layers_text = fast.net.layers
        layers = {int(k): w for k, w in parse_layers(layers_text).items()}
        live = DreamEffect(DreamAscent(net, where),
                           live_cfg.model_copy(update={"layers": parse_layers(layers_text)}), size)
        # The fast network first: torch's worker threads spin for a while after the live
        # dream's last call and would steal the cores from a network timed just after.
        fast_out, fast_ms = _timed(fast, frames)
        live_out, live_ms = _timed(live, frames)
        # Gains over the input, averaged over the frames (the inputs scored once).
        start = statistics.fmean(_score(net, layers, f, where) for f in frames)
        live_gain = statistics.fmean(_score(net, layers, o, where) for o in live_out) - start
        fast_gain = statistics.fmean(_score(net, layers, o, where) for o in fast_out) - start
        results.append({
            "network": name, "layers": layers_text,
            "live_ms": round(live_ms, 2), "fast_ms": round(fast_ms, 2),
            "speedup": round(live_ms / fast_ms, 1),
            "live_gain": round(live_gain, 3), "fast_gain": round(fast_gain, 3),
            "gain_ratio": round(fast_gain / live_gain, 3) if live_gain > 0 else None,
        })
        rows.append(np.hstack([frames[-1], live_out[-1], fast_out[-1]]))
    return results, rows


def run_compare(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace) -> int:
    size = parse_size(args.size)
    if args.frames < WARMUP + 1:
        raise UserError(f"--frames {args.frames}: give at least {WARMUP + 1}")
    names = args.networks.split(",") if args.networks else available_networks(store)
    if not names:
        raise UserError("no fast dream networks under models/: train one with "
                        "`python main.py train-dream --layers 6 --out models/dream-mine.onnx`")
    path = clip_file(args.source, cfg.source.demo_clip, store)
    frames = decode_frames(path, args.frames, size)
    live_cfg = live_settings(cfg)
    results, rows = compare(frames, names, live_cfg, size, device, store)
    settings = {"source": args.source, "size": f"{size[0]}x{size[1]}", "frames": args.frames,
                "live": {"steps": live_cfg.steps, "octaves": live_cfg.octaves,
                         "step_size": live_cfg.step_size, "feedback": live_cfg.feedback},
                "device": device.kind, "torch_threads": torch.get_num_threads()}
    if args.picture is not None:
        write_picture(args.picture, _labelled(rows, names))
    if args.json:
        print(json.dumps({**settings, "networks": results}))
        return 0
    live = settings["live"]
    print(f"{args.source} at {settings['size']}, {args.frames} frames, {device.kind}; live "
          f"dream: {live['steps']} steps x {live['octaves']} octaves per frame, with feedback")
    for r in results:
        ratio = "n/a" if r["gain_ratio"] is None else f"{100 * r['gain_ratio']:.0f}%"
        print(f"  fast-dream:{r['network']:10} layers {r['layers']:10} fast {r['fast_ms']:6.1f} ms"
              f"  live {r['live_ms']:7.1f} ms  {r['speedup']:5.1f}x faster;  dream gain "
              f"{r['fast_gain']:6.1f} vs live {r['live_gain']:6.1f} = {ratio}")
    if args.picture is not None:
        print(f"wrote {args.picture}")
    return 0


def _labelled(rows: list[np.ndarray], names: list[str]) -> np.ndarray:
    """The rows stacked, each panel captioned (input, live dream, fast-dream:NAME)."""
    out = []
    for row, name in zip(rows, names, strict=True):
        row = row.copy()
        w = row.shape[1] // 3
        for i, text in enumerate(("input", "live dream", f"fast-dream:{name}")):
            caption(row, text, (i * w + 6, 16), 0.45)
        out.append(row)
    return np.vstack(out)
