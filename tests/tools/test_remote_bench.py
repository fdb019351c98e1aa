"""`bench --remote` against a real Triton on loopback: the figures it reports come from
calls that all ran on the server, with client processes batched there."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from serving import needs_triton, serving

from installation.models import ModelStore
from installation.runtime import Device
from installation.tools.remote_bench import CLIENTS, bench_network

pytestmark = needs_triton


def test_one_network_measured(tmp_path: Path, store: ModelStore, cpu: Device) -> None:
    with serving(tmp_path, ["gan-eyes"], delay_ms=10.0) as server:
        row = bench_network("gan-eyes", store, dataclasses.replace(cpu, remote=None),
                            server.grpc, server.metrics_url, (64, 36), calls=20)
    figures = {k: v for k, v in row.items() if isinstance(v, float | int)}
    assert row["network"] == "gan-eyes" and "onnxruntime" in str(row["engine"])
    assert figures["local_ms"] > 0 and figures["remote_ms"] > 0
    assert abs(figures["added_ms"] - (figures["remote_ms"] - figures["local_ms"])) < 0.02
    clients = row["clients"]
    assert isinstance(clients, list)
    assert [c["clients"] for c in clients] == list(CLIENTS)
    for c in clients:  # every call answered there (else the bench refuses in one line)
        assert c["calls_per_s"] > 0 and c["batch_mean"] >= 1.0
