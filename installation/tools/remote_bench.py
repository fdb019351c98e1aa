"""`bench --remote`: what sending the networks to a serving engine costs and gives.

Against the server `[runtime] remote` names, or one it starts on loopback (`serve` with
the same config, so both sides choose engines alike), for each network at `--size`:

- added latency per call: the same feeds run locally and on the server, call by call in
  turns (a busy moment on a shared machine falls on both), medians and 95th percentiles;
  also with the requests gzip-compressed;
- throughput with 1, 2 and 4 display clients calling at once (a process each, with its
  own interpreter and channel, as separate machines would have), against one local
  caller; the batch size Triton's dynamic batcher reached, from its own metrics
  (inferences / executions).

On one 2-core machine the server and its clients share the cores: the figures say what
the protocol and the batcher cost, not what a GPU server would give.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import queue
import statistics
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from installation.dream.ascender import open_ascent_file
from installation.dream.ascender import probe as ascent_probe
from installation.dream.ports import LIVE_DREAM
from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device, Network, open_network, torch_device
from installation.runtime.probes import probe_feeds
from installation.runtime.remote import RemoteLink, ServedNetwork
from installation.runtime.remote.wire import served_name
from installation.serve.networks import Hosted, hosted
from installation.serve.spawn import Spawned, spawn
from installation.show.config import Config
from installation.tools.common import parse_size, percentile

NETWORKS = ["multistyle26", "fast-dream:ripples", "gan-eyes"]
CLIENTS = (1, 2, 4)
DEADLINE_MS = 30_000  # a bench waits for every answer: it measures, it does not fall back
WARMUP = 5  # calls per network and side before timing


@dataclass(frozen=True)
class Latency:
    local_ms: float
    local_p95_ms: float
    remote_ms: float
    remote_p95_ms: float
    gzip_ms: float

    @property
    def added_ms(self) -> float:
        return self.remote_ms - self.local_ms


def _timed(net: Network, feeds: Mapping[str, np.ndarray]) -> float:
    t0 = time.perf_counter()
    net.run(feeds)
    return (time.perf_counter() - t0) * 1000.0


def served(local: Network, server: str, client: str, net: Hosted,
           compression: str = "none") -> ServedNetwork:
    """`local` sent to `server` on a link of its own (a display machine of its own)."""
    link = RemoteLink(server, DEADLINE_MS, client, compression).start()
    if not link.wait_up(10.0):
        raise UserError(f"bench --remote: the server at {server} does not answer "
                        f"({link.state().reason})")
    return ServedNetwork(local, link, net.path)


def latency(local: Network, there: ServedNetwork, gzip: ServedNetwork,
            feeds: Mapping[str, np.ndarray], calls: int) -> Latency:
    for net in (local, there, gzip):
        for _ in range(WARMUP):
            net.run(feeds)
    here_ms, there_ms, gzip_ms = [], [], []
    for _ in range(calls):
        here_ms.append(_timed(local, feeds))
        there_ms.append(_timed(there, feeds))
        gzip_ms.append(_timed(gzip, feeds))
    if there.local_calls or gzip.local_calls:
        raise UserError(f"bench --remote: {there.name} ran locally: the server failed "
                        f"({there.link.state().reason or gzip.link.state().reason})")
    return Latency(statistics.median(here_ms), percentile(here_ms, 95),
                   statistics.median(there_ms), percentile(there_ms, 95),
                   statistics.median(gzip_ms))


def _batching(metrics_url: str | None, model: str) -> tuple[float, float]:
    """Triton's (inferences, executions) of `model` so far ((0, 0) without metrics)."""
    if metrics_url is None:
        return 0.0, 0.0
    with urllib.request.urlopen(metrics_url, timeout=5) as answer:
        text = answer.read().decode()
    found = {"nv_inference_count": 0.0, "nv_inference_exec_count": 0.0}
    for line in text.splitlines():
        name = line.split("{", 1)[0]
        if name in found and f'model="{model}"' in line:
            found[name] = float(line.rsplit(" ", 1)[1])
    return found["nv_inference_count"], found["nv_inference_exec_count"]


@dataclass(frozen=True)
class ClientJob:
    """What one display client process needs: the network, the server, how many calls."""

    name: str
    path: str
    picture_scale: float
    size: tuple[int, int]
    server: str
    client: str
    calls: int


def display_client(job: ClientJob, go: Any, results: Any) -> None:
    """One display machine of its own (a process: its own interpreter and channel): warms
    up, waits for the others, calls `job.calls` times, says (calls, local calls)."""
    from installation.runtime import OrtNetwork, choose_device

    local: Network
    if job.name == LIVE_DREAM:
        local = open_ascent_file(job.path, "cpu")
    else:
        local = OrtNetwork(Path(job.path), choose_device("cpu", engine="onnxruntime"),
                           job.name)
    link = RemoteLink(job.server, DEADLINE_MS, job.client).start()
    try:
        link.wait_up(10.0)
        net = ServedNetwork(local, link, Path(job.path))
        feeds = feeds_for(local, job.picture_scale, job.size)
        for _ in range(WARMUP):
            net.run(feeds)
        go.wait(timeout=120)
        for _ in range(job.calls):
            net.run(feeds)
        results.put((job.calls, net.local_calls))
    except Exception as exc:  # said to the parent, which stops the bench in one line
        results.put((0, f"{type(exc).__name__}: {exc}"))
    finally:
        link.close()


def throughput(jobs: list[ClientJob], metrics_url: str | None) -> dict[str, float]:
    """Calls answered per second with every client (a process each) calling at once, and
    Triton's mean batch meanwhile."""
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter, as a machine would be
    go, results = ctx.Barrier(len(jobs) + 1), ctx.Queue()
    procs = [ctx.Process(target=display_client, args=(job, go, results), daemon=True)
             for job in jobs]
    for proc in procs:
        proc.start()
    try:
        go.wait(timeout=180)  # every client warmed up
        before = _batching(metrics_url, served_name(jobs[0].name))
        t0 = time.perf_counter()
        said = [results.get(timeout=600) for _ in jobs]
        elapsed = time.perf_counter() - t0
        after = _batching(metrics_url, served_name(jobs[0].name))
    except (threading.BrokenBarrierError, queue.Empty) as exc:
        raise UserError(f"bench --remote: a display client did not finish ({exc!r})") from None
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    failed = [f for _, f in said if not isinstance(f, int) or f]
    if failed:
        raise UserError(f"bench --remote: a client did not run on the server ({failed[0]} "
                        "local calls or error)")
    executions = after[1] - before[1]
    return {"clients": len(jobs), "calls_per_s": sum(n for n, _ in said) / elapsed,
            "batch_mean": (after[0] - before[0]) / executions if executions else 0.0}


def feeds_for(local: Network, picture_scale: float,
              size: tuple[int, int]) -> dict[str, np.ndarray]:
    """What each call sends: the probe picture at `size`, and for the live dream a scene's
    default dream settings (steps 2, one octave)."""
    if local.name == LIVE_DREAM:
        return ascent_probe(size)
    return probe_feeds(local.inputs, picture_scale, size)


def bench_network(name: str, store: ModelStore, local_device: Device, server: str,
                  metrics_url: str | None, size: tuple[int, int],
                  calls: int) -> dict[str, object]:
    (net,) = hosted(store, [name])
    local: Network
    if name == LIVE_DREAM:
        local = open_ascent_file(net.path, torch_device(local_device))
    else:
        local = open_network(name, net.path, local_device, store.engine_cache,
                             net.picture_scale, size)
    feeds = feeds_for(local, net.picture_scale, size)
    there = served(local, server, "bench", net)
    gzip = served(local, server, "bench-gzip", net, "gzip")
    lat = latency(local, there, gzip, feeds, calls)
    alone = 1000.0 / lat.local_ms
    rows = []
    for k in CLIENTS:
        jobs = [ClientJob(name, str(net.path), net.picture_scale, size, server,
                          f"bench-{k}-{i}", max(10, calls // 2)) for i in range(k)]
        rows.append(throughput(jobs, metrics_url))
    for n in (there, gzip):
        n.link.close()
    wire_kb = sum(a.nbytes for a in feeds.values()) / 1024
    return {"network": name, "engine": local.describe(), "request_kb": round(wire_kb, 1),
            **{k: round(v, 2) for k, v in dataclasses.asdict(lat).items()},
            "added_ms": round(lat.added_ms, 2), "local_calls_per_s": round(alone, 1),
            "clients": [{k: round(v, 2) for k, v in r.items()} for r in rows]}


def run_remote_bench(cfg: Config, store: ModelStore, device: Device,
                     args: argparse.Namespace) -> int:
    size = parse_size(args.size)
    calls = max(20, min(args.frames, 200))
    local_device = dataclasses.replace(device, remote=None)
    if device.remote is not None:
        device.remote.close()
    names = [n.strip() for n in args.served.split(",")] if args.served else NETWORKS
    hosted(store, names, "--served")  # an unknown name: one line, before any server starts
    spawned: Spawned | None = None
    if cfg.runtime.remote:
        server, metrics_url = cfg.runtime.remote, None
    else:
        spawned = spawn(names, args.config, delay_ms=2.0)
        server, metrics_url = spawned.grpc, spawned.metrics_url
    try:
        rows = [bench_network(name, store, local_device, server, metrics_url, size, calls)
                for name in names]
    finally:
        if spawned is not None:
            spawned.stop()
    result = {"device": local_device.describe(), "server": server,
              "size": f"{size[0]}x{size[1]}", "calls": calls, "networks": rows}
    if args.json:
        print(json.dumps(result))
    else:
        print_rows(result)
    return 0


def print_rows(result: dict[str, object]) -> None:
    print(f"{result['device']}\nserver {result['server']}, {result['size']}, "
          f"{result['calls']} calls per side")
    print(f"{'network':<20}{'request':>9}{'local':>9}{'remote':>9}{'added':>8}{'gzip':>8}"
          f"   throughput, calls/s (mean batch): local 1 | remote 1 / 2 / 4 clients")
    for row in result["networks"]:  # type: ignore[attr-defined]
        ks = "  ".join(f"{c['calls_per_s']:6.1f} ({c['batch_mean']:.1f})"
                       for c in row["clients"])
        print(f"{row['network']:<20}{row['request_kb']:>7.0f}kB{row['local_ms']:>7.1f}ms"
              f"{row['remote_ms']:>7.1f}ms{row['added_ms']:>6.1f}ms{row['gzip_ms']:>6.1f}ms"
              f"   {row['local_calls_per_s']:6.1f} | {ks}")
