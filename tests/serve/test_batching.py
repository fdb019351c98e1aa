"""Batch-free copies of the shipped networks: made where every tensor has a leading axis
of 1, checked against the file itself on two different requests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork
from installation.runtime.probes import probe_feeds
from installation.serve.batching import BATCH, batch_free, batched_file, check
from installation.serve.networks import hosted


@pytest.mark.parametrize("name", ["gan-eyes", "gan-faces", "fast-dream:ripples",
                                  "arbitrary-predict", "arbitrary-transform"])
def test_the_copy_runs_a_batch_as_the_file_runs_each(name: str, store: ModelStore,
                                                     cpu: Device, tmp_path: Path) -> None:
    (net,) = hosted(store, [name])
    path = batched_file(net.path, tmp_path)
    assert path is not None and batched_file(net.path, tmp_path) == path  # made once
    copy = onnx.load(str(path))
    assert all(v.type.tensor_type.shape.dim[0].dim_param == BATCH for v in copy.graph.output)
    single, many = OrtNetwork(net.path, cpu, name), OrtNetwork(path, cpu, name)
    assert check(single, many, probe_feeds(single.inputs, net.picture_scale, (96, 64))) == ""


def test_shared_inputs_are_never_batched(store: ModelStore) -> None:
    assert batch_free(onnx.load(str(store.require("multistyle26")))) is None


def test_a_copy_that_mixes_requests_fails_its_check(store: ModelStore, cpu: Device) -> None:
    single = OrtNetwork(store.require("gan-faces"), cpu, "gan-faces")

    class Mixed:  # answers the first request's picture for both
        inputs = single.inputs

        def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            first = single.run({"z": feeds["z"][:1]})[0]
            return [np.concatenate([first, first])]

    z = np.random.default_rng(1).standard_normal((1, 100)).astype(np.float32)
    assert "of the span off" in check(single, Mixed(), {"z": z})  # type: ignore[arg-type]
