"""`bench --remote` against a real Triton on loopback: the figures it reports come from
calls that all ran on the server, with client processes batched there (the live dream's
ascent is measured with a scene's default dream settings)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import ROOT
from serving import Spawned, needs_triton, serving

from installation.models import ModelStore
from installation.runtime import Device
from installation.tools.remote_bench import CLIENTS, bench_network

MEASURED = ["gan-eyes", "live-dream"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spawned]:
    with serving(tmp_path_factory.mktemp("bench"), MEASURED, delay_ms=10.0) as s:
        yield s


@needs_triton
@pytest.mark.parametrize(("name", "engine"), [("gan-eyes", "onnxruntime"),
                                              ("live-dream", "torch cpu")])
def test_one_network_measured(server: Spawned, store: ModelStore, cpu: Device,
                              name: str, engine: str) -> None:
    row = bench_network(name, store, dataclasses.replace(cpu, remote=None),
                        server.grpc, server.metrics_url, (64, 36), calls=20)
    figures = {k: v for k, v in row.items() if isinstance(v, float | int)}
    assert row["network"] == name and engine in str(row["engine"])
    assert figures["local_ms"] > 0 and figures["remote_ms"] > 0
    assert abs(figures["added_ms"] - (figures["remote_ms"] - figures["local_ms"])) < 0.02
    clients = row["clients"]
    assert isinstance(clients, list)
    assert [c["clients"] for c in clients] == list(CLIENTS)
    for c in clients:  # every call answered there (else the bench refuses in one line)
        assert c["calls_per_s"] > 0 and c["batch_mean"] >= 1.0


@pytest.mark.parametrize(("args", "says"), [
    (["--remote", "--served", "gan-eyes,nope"], "--served: nope is not a network"),
    (["--served", "gan-eyes"], "add --remote"),
])
def test_what_it_cannot_measure_is_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "bench", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
