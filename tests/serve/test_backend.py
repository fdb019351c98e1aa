"""The project's Triton model without Triton: the wire's tensors in and out of a real
network, and who called."""

from __future__ import annotations

import numpy as np
import pytest

from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork
from installation.serve.backend import Runner, client_of, open_hosted


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


@pytest.mark.parametrize(("said", "client"), [
    ('{"client": "screen-2"}', "screen-2"), ("{}", "unknown"), ("", "unknown"),
    ("not json", "unknown"), ('["a"]', "unknown"), ('{"client": "' + "x" * 99 + '"}', "x" * 64),
])
def test_who_called(said: str, client: str) -> None:
    assert client_of(said) == client
