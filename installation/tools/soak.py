"""`python main.py soak`: run the show headless on a clip for a long time and report memory
growth and frame-rate drift (not part of the test suite: it takes as long as it runs).

Every `--every` seconds it samples the process's resident memory (VmRSS) and the frames
shown; the report compares the first and the last quarter of the run after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loop import RunOptions, Show
from installation.tools.common import named_scene, quiet

WARMUP_S = 60.0  # models, caches and allocator pools settle in this long, s


def rss_mb() -> float:
    """This process's resident memory now, MiB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def run_soak(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace) -> int:
    seconds = args.minutes * 60.0
    if seconds < 2 * WARMUP_S or args.every <= 0:
        raise UserError(f"--minutes {args.minutes:g}: give at least {2 * WARMUP_S / 60:g} "
                        "(and --every above 0)")
    start = cfg.first_scene if args.scene is None else named_scene(cfg, args.scene).name
    cfg = quiet(cfg).model_copy(update={
        "source": cfg.source.model_copy(update={"uri": args.source}),
        "start_scene": start,
    })
    show = Show(cfg, store, device, RunOptions(headless=True, duration_s=seconds))
    samples: list[tuple[float, float, int]] = []  # (s since start, RSS MiB, frames shown)
    t0 = time.monotonic()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(args.every):
            samples.append((time.monotonic() - t0, rss_mb(), show.report.shown))

    threading.Thread(target=sample, daemon=True).start()
    try:
        report = show.run()
    finally:
        done.set()
    kept = [s for s in samples if s[0] >= WARMUP_S]
    if len(kept) < 8:
        raise UserError("too few samples after the warm-up: run longer or sample more often")
    quarter = len(kept) // 4
    first, last = kept[:quarter], kept[-quarter:]

    def fps(part: list[tuple[float, float, int]]) -> float:
        return (part[-1][2] - part[0][2]) / (part[-1][0] - part[0][0])

    result: dict[str, Any] = {
        "minutes": args.minutes, "source": args.source, "scene": show.scene,
        "device": device.describe(), "frames": report.shown,
        "rss_mb_first_quarter": round(statistics.fmean(s[1] for s in first), 1),
        "rss_mb_last_quarter": round(statistics.fmean(s[1] for s in last), 1),
        "rss_mb_peak": round(max(s[1] for s in samples), 1),
        "fps_first_quarter": round(fps(first), 2), "fps_last_quarter": round(fps(last), 2),
        "effect_errors": report.effect_errors,
    }
    result["rss_growth_mb"] = round(result["rss_mb_last_quarter"]
                                    - result["rss_mb_first_quarter"], 1)
    result["fps_drift_pct"] = round(100 * (result["fps_last_quarter"]
                                           / result["fps_first_quarter"] - 1), 1)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"soak: {args.minutes:g} min headless on {args.source}, scene {show.scene}, "
          f"{report.shown} frames; {device.describe()}")
    print(f"  memory (RSS): {result['rss_mb_first_quarter']} MiB in the first quarter after "
          f"warm-up, {result['rss_mb_last_quarter']} MiB in the last "
          f"({result['rss_growth_mb']:+} MiB), peak {result['rss_mb_peak']} MiB")
    print(f"  frame rate: {result['fps_first_quarter']} fps first quarter, "
          f"{result['fps_last_quarter']} fps last ({result['fps_drift_pct']:+}%); "
          f"effect errors {result['effect_errors']}")
    return 0
