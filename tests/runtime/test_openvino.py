"""OpenVINO against the reference (ONNX Runtime fp32) for every network, on real inputs;
static shapes compiled per shape; one request per thread."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork
from installation.runtime.choice import cpu_flags, native_bf16
from installation.runtime.openvino import SHAPES_KEPT, OpenVinoNetwork
from installation.runtime.probes import copy_outputs, parity, probe_feeds, quantized

FLOAT_NETWORKS = {  # model → the range of its picture input
    "multistyle26": 1.0, "dream-deep": 255.0, "dream-ripples": 255.0,
    "gan-eyes": 1.0, "gan-faces": 1.0,
}
HAS_BF16 = native_bf16(cpu_flags())


def model(store: ModelStore, name: str) -> Path:
    if name.startswith("dream-"):
        return store.root / f"{name}.onnx"
    return store.require(name)


def checked(store: ModelStore, cpu: Device, name: str, precision: str,
            scale: float = 1.0) -> tuple[float, float, bool]:
    path = model(store, name)
    reference = OrtNetwork(path, cpu, name)
    feeds = probe_feeds(reference.inputs, scale)
    expected = copy_outputs(reference.run(feeds))
    net = OpenVinoNetwork(path, precision, 2, name)  # type: ignore[arg-type]
    check = parity(expected, copy_outputs(net.run(feeds)), precision,  # type: ignore[arg-type]
                   quantized(path))
    return check.mean, check.max, check.ok


@pytest.mark.parametrize("name", sorted(FLOAT_NETWORKS))
def test_fp32_is_the_reference_within_a_thousandth(store: ModelStore, cpu: Device,
                                                   name: str) -> None:
    _, worst, ok = checked(store, cpu, name, "fp32", FLOAT_NETWORKS[name])
    assert ok and worst <= 0.255  # 1e-3 of the output's span, in grey levels


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has no native bf16 (auto uses fp32)")
@pytest.mark.parametrize("name", sorted(FLOAT_NETWORKS))
def test_bf16_is_within_a_grey_level(store: ModelStore, cpu: Device, name: str) -> None:
    """Measured on the 2-core Xeon (AMX): style mean 0.40, max 7.6; dream-deep 0.40 / 17;
    dream-ripples 0.12 / 2.0; the GANs 0 (OpenVINO keeps their layers in fp32)."""
    mean, worst, ok = checked(store, cpu, name, "bf16", FLOAT_NETWORKS[name])
    assert ok and mean < 1.0 and worst < 32.0


def test_the_int8_predictor_is_within_a_grey_level(store: ModelStore, cpu: Device) -> None:
    """Its quantised layers round a little differently: mean 0.34, max 1.3 measured."""
    mean, worst, ok = checked(store, cpu, "arbitrary-predict", "fp32")
    assert ok and mean < 1.0 and worst < 4.0


def test_the_int8_transform_fails_and_stays_on_the_reference(store: ModelStore,
                                                             cpu: Device) -> None:
    """195 quantise steps round OpenVINO's way: about 5 grey levels off on average, visible;
    the choice falls back (tests/runtime/test_choice.py). Should a release fix it, this
    test says so, and the transform can move."""
    mean, _, ok = checked(store, cpu, "arbitrary-transform", "fp32")
    assert not ok and mean > 1.0


def test_each_shape_compiles_once_and_the_oldest_is_dropped(store: ModelStore,
                                                            cpu: Device) -> None:
    path = store.require("multistyle26")
    net = OpenVinoNetwork(path, "fp32", 2)
    reference = OrtNetwork(path, cpu)
    sizes = [(64 + 8 * i, 36 + 4 * i) for i in range(SHAPES_KEPT + 1)]
    for w, h in sizes:
        feeds = probe_feeds(net.inputs, 1.0, (w, h))
        got = copy_outputs(net.run(feeds))
        assert got[0].shape == (1, 3, h, w)
        assert np.abs(got[0] - reference.run(feeds)[0]).max() < 1e-3
    first = net.request_for(((1, 3, sizes[-1][1], sizes[-1][0]), (26,)))
    assert net.request_for(((1, 3, sizes[-1][1], sizes[-1][0]), (26,))) is first
    assert len(net._compiled) == SHAPES_KEPT
    oldest = ((1, 3, sizes[0][1], sizes[0][0]), (26,))
    assert oldest not in net._compiled


def test_two_threads_never_share_output_buffers(store: ModelStore, cpu: Device) -> None:
    path = store.require("gan-faces")
    net = OpenVinoNetwork(path, "fp32", 1)
    rng = np.random.default_rng(3)
    zs = [rng.standard_normal((1, 100)).astype(np.float32) for _ in range(2)]
    expected = [copy_outputs(net.run({"z": z}))[0] for z in zs]
    errors: list[float] = []
    barrier = threading.Barrier(2)

    def loop(i: int) -> None:
        barrier.wait()
        for _ in range(20):
            out = net.run({"z": zs[i]})[0]
            errors.append(float(np.abs(out - expected[i]).max()))

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(errors) == 40 and max(errors) < 1e-6


def test_the_model_metadata_is_read(store: ModelStore) -> None:
    net = OpenVinoNetwork(store.root / "dream-deep.onnx", "fp32", 1)
    assert net.metadata.get("kind") == "installation.fast-dream"
    assert "openvino CPU fp32" in net.describe()
