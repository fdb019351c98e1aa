"""The project's Triton model without Triton: the wire's tensors in and out of a real
network, and who called."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.dream.ascender import (
    BACKBONE,
    LIVE_DREAM,
    DreamAscent,
    settings_vector,
)
from installation.dream.backbone import load_backbone
from installation.dream.config import DreamConfig
from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork
from installation.serve.backend import Runner, client_of, open_batched, open_hosted


def test_a_request_through_the_runner(store: ModelStore, cpu: Device) -> None:
    net = OrtNetwork(store.require("gan-eyes"), cpu, "gan-eyes")
    runner = Runner(net)
    rng = np.random.default_rng(5)
    z = rng.standard_normal((1, 100)).astype(np.float32)
    labels = np.eye(8, dtype=np.float32)[2:3]
    (out,) = runner.run([z[None], labels[None]])
    assert out.shape == (1, 1, 3, 128, 128)
    np.testing.assert_array_equal(out[0], net.run({"z": z, "labels": labels})[0])
    kept = out.copy()
    runner.run([rng.standard_normal((1, 1, 100)).astype(np.float32), labels[None]])
    np.testing.assert_array_equal(out, kept)  # an answer is not the engine's buffer
    with pytest.raises(ValueError, match="1 tensors for 2 inputs"):
        runner.run([z[None]])


def test_the_network_the_config_names(store: ModelStore) -> None:
    net = open_hosted({"network": "gan-faces", "path": str(store.require("gan-faces")),
                       "device": "cpu", "engine": "onnxruntime", "size": "64x64"})
    assert net.name == "gan-faces" and net.engine == "onnxruntime"


def test_the_live_dream_is_served_request_by_request(store: ModelStore) -> None:
    """Its ascent on the machine's torch device; each request its own picture and
    settings, so no batched copy; the wire's tensors give the local ascent's picture."""
    params = {"network": LIVE_DREAM, "path": str(store.require(BACKBONE)), "device": "cpu"}
    net = open_hosted(params)
    assert isinstance(net, DreamAscent) and net.torch_device == "cpu"
    many, line = open_batched(params, net)
    assert many is None and "request by request" in line
    picture = np.random.default_rng(2).uniform(0, 255, (1, 3, 40, 56)).astype(np.float32)
    settings = settings_vector(DreamConfig(steps=1, layers={"4": 1.0}), 9)
    (out,) = Runner(net).run([picture[None], settings[None]])
    assert out.shape == (1, 1, 3, 40, 56)
    np.testing.assert_array_equal(
        out[0], DreamAscent(load_backbone(store)).run({"picture": picture,
                                                       "settings": settings})[0])
    bad = settings.copy()
    bad[0] = 10**6  # steps
    with pytest.raises(ValueError, match="settings: steps"):  # a bad request: refused
        Runner(net).run([picture[None], bad[None]])


@pytest.mark.parametrize(("said", "client"), [
    ('{"client": "screen-2"}', "screen-2"), ("{}", "unknown"), ("", "unknown"),
    ("not json", "unknown"), ('["a"]', "unknown"), ('{"client": "' + "x" * 99 + '"}', "x" * 64),
])
def test_who_called(said: str, client: str) -> None:
    assert client_of(said) == client


def test_a_batch_is_one_call_of_the_batched_copy(store: ModelStore, cpu: Device,
                                                 tmp_path: Path) -> None:
    single = OrtNetwork(store.require("gan-faces"), cpu, "gan-faces")
    many, line = open_batched({"network": "gan-faces", "device": "cpu",
                               "engine": "onnxruntime", "cache_dir": str(tmp_path),
                               "path": str(store.require("gan-faces"))}, single)
    assert many is not None and "one call of the network" in line
    runner = Runner(single, many)
    rng = np.random.default_rng(4)
    requests = [[rng.standard_normal((1, 1, 100)).astype(np.float32)] for _ in range(3)]
    answers = runner.run_all(requests)
    assert runner.runs == 1  # three requests, one call
    for arrays, answer in zip(requests, answers, strict=True):
        assert not isinstance(answer, Exception)
        (out,) = answer
        assert out.shape == (1, 1, 3, 64, 64)
        np.testing.assert_allclose(out[0], single.run({"z": arrays[0][0]})[0], atol=1e-5)
    # A malformed request meets its own error; the others are answered one by one.
    answers = runner.run_all([requests[0], [np.zeros((1, 1, 7), np.float32)], requests[1]])
    assert isinstance(answers[1], Exception)
    assert not isinstance(answers[0], Exception) and not isinstance(answers[2], Exception)


def test_a_network_without_a_batch_axis_is_served_one_by_one(store: ModelStore, cpu: Device,
                                                             tmp_path: Path) -> None:
    path = store.require("multistyle26")
    many, line = open_batched({"network": "multistyle26", "path": str(path),
                               "cache_dir": str(tmp_path)}, OrtNetwork(path, cpu, "m"))
    assert many is None and "request by request (an input has no batch axis)" in line
