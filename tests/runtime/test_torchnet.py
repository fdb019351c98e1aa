"""The torch engine against the reference (ONNX Runtime fp32): every network the show uses,
on real inputs (runtime/probes.py); single ops in the variants no network holds; what it
cannot run refused at build time in one line. CUDA (fp16, torch.compile) behind `gpu`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from installation.errors import ModelError
from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork
from installation.runtime.network import Precision, TensorNetwork
from installation.runtime.probes import Parity, copy_outputs, parity, probe_feeds, quantized
from installation.runtime.torchnet import TorchNetwork

NETWORKS = {  # model → the range of its picture input
    "multistyle26": 1.0, "arbitrary-predict": 1.0, "arbitrary-transform": 1.0,
    "dream-deep": 255.0, "dream-ripples": 255.0, "gan-eyes": 1.0, "gan-faces": 1.0,
}
FLOAT = sorted(n for n in NETWORKS if not n.startswith("arbitrary-"))
SIZE = (160, 96)  # (W, H) px for free picture sizes: small, a multiple of the 4 style needs
CUDA = torch.cuda.is_available()


class Checks:
    """The reference's outputs and the torch networks, built once per module."""

    def __init__(self, store: ModelStore, cpu: Device) -> None:
        self.store, self.cpu = store, cpu
        self._expected: dict[str, tuple[dict[str, np.ndarray], list[np.ndarray]]] = {}
        self._nets: dict[tuple[str, str], TorchNetwork] = {}

    def path(self, name: str) -> Path:
        return self.store.require(name)

    def expected(self, name: str) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        if name not in self._expected:
            reference = OrtNetwork(self.path(name), self.cpu, name)
            feeds = probe_feeds(reference.inputs, NETWORKS[name], SIZE)
            self._expected[name] = feeds, copy_outputs(reference.run(feeds))
        return self._expected[name]

    def net(self, name: str, precision: Precision, device: str = "cpu") -> TorchNetwork:
        key = (name, f"{precision}@{device}")
        if key not in self._nets:
            self._nets[key] = TorchNetwork(self.path(name), precision, device, name)
        return self._nets[key]

    def parity(self, name: str, precision: Precision, device: str = "cpu") -> Parity:
        feeds, expected = self.expected(name)
        got = copy_outputs(self.net(name, precision, device).run(feeds))
        check = parity(expected, got, precision, quantized(self.path(name)))
        print(f"{name} torch {precision} on {device}: {check.line()}")
        return check


@pytest.fixture(scope="module")
def checks(store: ModelStore, cpu: Device) -> Checks:
    return Checks(store, cpu)


# -- the networks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", FLOAT)
def test_fp32_is_the_reference_within_a_thousandth(checks: Checks, name: str) -> None:
    """Measured: 0.00 grey levels off for all five (the same float32 arithmetic)."""
    check = checks.parity(name, "fp32")
    assert check.ok and check.max <= 0.255  # 1e-3 of the output's span, in grey levels


def test_the_int8_predictor_is_within_a_grey_level(checks: Checks) -> None:
    """Fake-quantised in float32, it rounds a few values across a step where ONNX Runtime's
    int8 kernels do not: mean 0.22, max 1.3 measured (OpenVINO: 0.34 / 1.3)."""
    check = checks.parity("arbitrary-predict", "fp32")
    assert check.ok and check.mean < 1.0 and check.max < 4.0


def test_the_int8_transform_fails_and_stays_on_the_reference(checks: Checks) -> None:
    """195 quantise steps, each rounding a handful of values the other way (9 of 1.2 M at
    the first), and style norms that amplify them: 8.3 grey levels off on average measured.
    No engine can pass: ONNX Runtime with its graph optimisations off is 6.6 off its own
    default run, OpenVINO 5. The choice falls back to the reference."""
    check = checks.parity("arbitrary-transform", "fp32")
    assert not check.ok and check.mean > 1.0


@pytest.mark.parametrize("name", [*FLOAT, "arbitrary-predict"])
def test_bf16_on_the_cpu_is_within_a_grey_level(checks: Checks, name: str) -> None:
    """Convolutions in bf16, norms in float32. Measured (mean / max grey levels): style
    0.27 / 3.4, dream-deep 0.37 / 19, dream-ripples 0.10 / 1.1, eyes 0.22 / 1.3, faces
    0.36 / 6.6; the int8 predictor's convolutions stay float32 (0.22 / 1.3, as fp32)."""
    check = checks.parity(name, "bf16")
    assert check.ok and check.mean < 1.0


def test_two_sizes_through_one_network(checks: Checks, cpu: Device) -> None:
    """Shapes, pads and norms follow the input: no size is baked in at build time."""
    path = checks.path("multistyle26")
    net, reference = checks.net("multistyle26", "fp32"), OrtNetwork(path, cpu)
    for w, h in ((160, 96), (96, 64)):
        feeds = probe_feeds(net.inputs, 1.0, (w, h))
        got = copy_outputs(net.run(feeds))
        assert got[0].shape == (1, 3, h, w)
        assert parity(reference.run(feeds), got, "fp32").ok


def test_ports_metadata_and_tensors(checks: Checks) -> None:
    net = checks.net("dream-deep", "fp32")
    reference = OrtNetwork(checks.path("dream-deep"), checks.cpu)
    assert net.inputs == reference.inputs and net.outputs == reference.outputs
    assert net.metadata == reference.metadata
    assert net.metadata.get("kind") == "installation.fast-dream"
    assert isinstance(net, TensorNetwork) and net.engine == "torch"
    assert f"torch {torch.__version__.split('+')[0]} on cpu" in net.describe()
    assert net.describe().endswith("fp32")
    feeds, expected = checks.expected("dream-deep")
    out = net.run_tensors({k: torch.from_numpy(v) for k, v in feeds.items()})
    assert out[0].dtype == torch.float32 and out[0].device.type == "cpu"
    assert np.abs(out[0].numpy() - expected[0]).max() < 1e-3 * 255


def test_a_read_only_feed_is_copied_not_refused(checks: Checks) -> None:
    feeds, expected = checks.expected("gan-faces")
    frozen = {k: v.copy() for k, v in feeds.items()}
    for v in frozen.values():
        v.flags.writeable = False
    got = checks.net("gan-faces", "fp32").run(frozen)
    assert np.abs(got[0] - expected[0]).max() < 1e-4


# -- what it refuses ------------------------------------------------------------------------


def _save(tmp_path: Path, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
          inits: list[onnx.TensorProto] | None = None, opset: int = 17) -> Path:
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "t", inputs, [y], initializer=inits or [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    return path


def test_an_op_it_lacks_is_refused_at_build_time(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    nodes = [helper.make_node("Einsum", ["x", "x"], ["e"], equation="ij,ij->ij"),
             helper.make_node("Relu", ["e"], ["y"])]
    path = _save(tmp_path, nodes, [x])
    with pytest.raises(ModelError) as info:
        TorchNetwork(path, "fp32")
    line = str(info.value)
    assert "Einsum" in line and str(path) in line and "\n" not in line


def test_a_shape_known_only_at_run_time_is_refused(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    s = helper.make_tensor_value_info("s", TensorProto.INT64, [2])
    path = _save(tmp_path, [helper.make_node("Reshape", ["x", "s"], ["y"])], [x, s])
    with pytest.raises(ModelError, match="needs a constant shape"):
        TorchNetwork(path, "fp32")


def test_fp16_on_the_cpu_is_refused(checks: Checks) -> None:
    with pytest.raises(ModelError, match="fp16 runs only on CUDA"):
        TorchNetwork(checks.path("gan-faces"), "fp16", "cpu")


# -- single ops, in the variants no network holds ---------------------------------------------


def _i64(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, np.int64), name)


def _f32(name: str, values: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, np.float32), name)


RNG = np.random.default_rng(5)
W2 = RNG.standard_normal((2, 3, 3, 3)).astype(np.float32)
OPS: dict[str, tuple[list[onnx.NodeProto], list[onnx.TensorProto], tuple[int, ...]]] = {
    # case → (nodes from x to y, constants, x's shape)
    "pad-constant": ([helper.make_node("Pad", ["x", "p", "v"], ["y"])],
                     [_i64("p", [0, 0, 1, 2, 0, 0, 2, 1]), _f32("v", 0.5)], (1, 2, 5, 6)),
    "pad-edge": ([helper.make_node("Pad", ["x", "p"], ["y"], mode="edge")],
                 [_i64("p", [0, 1, 0, 2, 0, 3, 0, 1])], (1, 4, 5, 6)),
    "pad-reflect-nhwc": ([helper.make_node("Pad", ["x", "p"], ["y"], mode="reflect")],
                         [_i64("p", [0, 2, 1, 0, 0, 1, 3, 0])], (1, 6, 7, 3)),
    "slice-backwards": ([helper.make_node("Slice", ["x", "s", "e", "a", "t"], ["y"])],
                        [_i64("s", [-2, 5]), _i64("e", [0, -100]), _i64("a", [-1, 2]),
                         _i64("t", [-1, -2])], (1, 2, 7, 6)),
    "resize-linear-corners": ([helper.make_node(
        "Resize", ["x", "", "", "z"], ["y"], mode="linear",
        coordinate_transformation_mode="align_corners")],
        [_i64("z", [1, 2, 9, 7])], (1, 2, 4, 5)),
    "resize-nearest-exact": ([helper.make_node(
        "Resize", ["x", "", "k"], ["y"], mode="nearest", nearest_mode="round_prefer_ceil",
        coordinate_transformation_mode="half_pixel")],
        [_f32("k", [1, 1, 1.5, 3])], (1, 2, 4, 5)),
    "conv-uneven-strided": ([helper.make_node(
        "Conv", ["x", "w"], ["y"], pads=[0, 1, 2, 1], strides=[2, 1], dilations=[1, 2])],
        [_f32("w", W2)], (1, 3, 9, 8)),
    "conv-transpose-uneven": ([helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], pads=[1, 0, 0, 1], strides=[2, 2],
        output_padding=[1, 1])], [_f32("w", W2)], (1, 2, 5, 4)),
    "shapes": ([helper.make_node("Reshape", ["x", "r"], ["a"]),
                helper.make_node("Unsqueeze", ["a", "u"], ["b"]),
                helper.make_node("ReduceSum", ["b", "d"], ["c"], keepdims=0),
                helper.make_node("Transpose", ["c"], ["y"])],
               [_i64("r", [0, -1, 3]), _i64("u", [-1]), _i64("d", [1])], (2, 4, 6)),
    "arithmetic": ([helper.make_node("Div", ["x", "k"], ["a"]),
                    helper.make_node("Pow", ["a", "x"], ["b"]),
                    helper.make_node("Clip", ["b", "", "k"], ["y"])],
                   [_f32("k", 1.5)], (3, 4)),
    "quantise-uint8": ([helper.make_node("QuantizeLinear", ["x", "s"], ["q"]),
                        helper.make_node("DequantizeLinear", ["q", "s"], ["y"])],
                       [_f32("s", 0.02)], (2, 50)),
}


@pytest.mark.parametrize("case", sorted(OPS))
def test_single_ops_match_onnx_runtime(tmp_path: Path, case: str) -> None:
    nodes, consts, shape = OPS[case]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    path = _save(tmp_path, nodes, [x], consts)
    feed = {"x": np.abs(RNG.standard_normal(shape)).astype(np.float32) * 3.0}
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, feed)
    got = TorchNetwork(path, "fp32").run(feed)
    assert got[0].shape == expected[0].shape
    assert np.allclose(got[0], expected[0], rtol=1e-5, atol=1e-5)


# -- CUDA -----------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU torch can use")
@pytest.mark.parametrize("name", FLOAT)
def test_fp16_on_cuda_is_within_a_grey_level(checks: Checks, name: str) -> None:
    check = checks.parity(name, "fp16", "cuda")
    assert check.ok and check.mean < 1.0


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU torch can use")
def test_compiled_on_cuda_matches_eager(checks: Checks) -> None:
    """torch.compile (the show's `fast`) gives eager's picture, and keeps tensors there."""
    feeds, expected = checks.expected("dream-ripples")
    fast = TorchNetwork(checks.path("dream-ripples"), "fp16", "cuda", fast=True)
    got = copy_outputs(fast.run(feeds))
    assert parity(expected, got, "fp16").ok
    assert "torch.compile" in fast.describe()
    out = fast.run_tensors({k: torch.from_numpy(v).cuda() for k, v in feeds.items()})
    assert out[0].device.type == "cuda" and out[0].dtype == torch.float32
