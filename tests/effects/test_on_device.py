"""The style scene's torch path against its numpy twin (effects/style.py), on CPU torch:
the same picture, so a GPU run changes only the device."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from installation.dream.fast import FastDreamEffect, network_path
from installation.effects import Chain, Effect, painting_device, stabiliser_for
from installation.effects.on_device import keep_colour
from installation.effects.style import MultiStyleEffect, padded_shape, preprocess
from installation.effects.style import keep_colour as keep_colour_np
from installation.models import ModelStore
from installation.runtime import Device, Network, OrtNetwork
from installation.runtime.torchnet import TorchNetwork
from installation.show.config import SceneConfig
from installation.temporal import Stabiliser
from installation.temporal.on_device import DeviceStabiliser
from installation.tensors import pad_to, upload


def pictures() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    sizes = [(180, 320), (37, 53), (5, 9), (4, 6), (2, 3)]  # odd, tiny and 1-row pads
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]


@pytest.mark.parametrize("image", pictures(), ids=lambda a: f"{a.shape[1]}x{a.shape[0]}")
def test_upload_and_pad_equal_preprocess(image: np.ndarray) -> None:
    h, w = image.shape[:2]
    hp, wp = padded_shape(h, w)
    got = pad_to(upload(image, "cpu"), hp, wp).numpy()
    assert got.shape == (1, 3, hp, wp)
    np.testing.assert_allclose(got, preprocess(image), atol=1e-7)


def test_keep_colour_matches_opencv() -> None:
    rng = np.random.default_rng(1)
    stylised = rng.random((48, 64, 3), dtype=np.float32)
    original = rng.random((48, 64, 3), dtype=np.float32)
    expected = keep_colour_np(stylised.copy(), original)
    as_t = [torch.from_numpy(a.transpose(2, 0, 1)[None].copy()) for a in (stylised, original)]
    got = keep_colour(*as_t)[0].numpy().transpose(1, 2, 0)
    assert np.abs(got - expected).max() < 2e-3  # OpenCV rounds its constants alike


# -- the style effect end to end: torch on the CPU against ONNX Runtime -------------------


def scene(**kw: object) -> SceneConfig:
    return SceneConfig.model_validate({"name": "test", "size": (98, 58), **kw})


@pytest.fixture(scope="module")
def torch_style(store: ModelStore) -> TorchNetwork:
    return TorchNetwork(store.require("multistyle26"), "fp32", "cpu", threads=0)


@pytest.mark.parametrize("settings", [
    {}, {"strength": 0.6}, {"preserve_color": True}, {"strength": 0.3, "preserve_color": True},
], ids=["plain", "strength", "preserve-colour", "both"])
def test_the_torch_path_paints_the_reference_picture(
        store: ModelStore, cpu: Device, torch_style: TorchNetwork, photo: np.ndarray,
        settings: dict[str, object]) -> None:
    """The whole frame on the torch path (upload, pad, network, colour, mix, quantise, one
    download) against the numpy path on ONNX Runtime: within one grey level nearly
    everywhere (float rounding at the quantisation step), never more than 2."""
    sc = scene(styles=[4, {"3": 0.5, "12": 0.5}], **settings)
    on_torch = MultiStyleEffect(torch_style, sc, 0.0)
    reference = MultiStyleEffect(OrtNetwork(store.require("multistyle26"), cpu), sc, 0.0)
    assert on_torch._device_path is not None and reference._device_path is None
    for t in (0.0, 1.0):
        if t:
            for effect in (on_torch, reference):
                effect.step_style(1, t)
        got, want = on_torch(photo, t), reference(photo, t)
        assert got.shape == want.shape == (58, 98, 3) and got.dtype == np.uint8
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 2 and (diff > 1).mean() < 0.001


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a usable CUDA GPU")
def test_on_cuda_in_fp16_the_picture_is_within_a_grey_level(
        store: ModelStore, cpu: Device, photo: np.ndarray) -> None:
    """The same frame path on the GPU: only the device and the precision change."""
    net = TorchNetwork(store.require("multistyle26"), "fp16", "cuda", fast=False)
    sc = scene(styles=[4], strength=0.8)
    got = MultiStyleEffect(net, sc, 0.0)(photo, 0.0)
    want = MultiStyleEffect(OrtNetwork(store.require("multistyle26"), cpu), sc, 0.0)(photo, 0.0)
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.mean() < 1.0 and diff.max() <= 64


def test_with_the_stabiliser_the_frame_stays_on_the_device_and_paints_the_same(
        store: ModelStore, cpu: Device, torch_style: TorchNetwork, photo: np.ndarray) -> None:
    """A steadied style scene on the torch engine blends on the device (one download a
    frame) and shows the reference's pictures: the painting within 2 grey levels (as
    above), carried through the same blending."""
    sc = scene(styles=[4], strength=0.9, temporal={"enabled": True})
    torch_effects: list[Effect] = [MultiStyleEffect(torch_style, sc, 0.0)]
    # On a CPU the show keeps OpenCV's stabiliser (faster there): the device's is the
    # GPU's path, checked here on CPU torch.
    assert type(stabiliser_for(torch_effects, sc)) is Stabiliser
    on_torch = Chain(torch_effects, DeviceStabiliser(sc.temporal, sc.size, "cpu"))
    ort_effects: list[Effect] = [
        MultiStyleEffect(OrtNetwork(store.require("multistyle26"), cpu), sc, 0.0)]
    reference = Chain(ort_effects, stabiliser_for(ort_effects, sc))
    assert on_torch.device == "cpu" and reference.device is None
    assert isinstance(on_torch.temporal, DeviceStabiliser)
    assert type(reference.temporal) is Stabiliser
    pan = cv2.resize(photo, (98 + 40, 58 + 20), interpolation=cv2.INTER_AREA)
    for i in range(6):
        frame = np.ascontiguousarray(pan[10 - i:10 - i + 58, 20 - 2 * i:20 - 2 * i + 98])
        got, want = on_torch(frame, i / 30), reference(frame, i / 30)
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 3 and (diff > 1).mean() < 0.002, (i, diff.max())
    assert on_torch.temporal.kept == pytest.approx(reference.temporal.kept, abs=0.01)
    assert reference.temporal.kept > 0.5


@pytest.mark.parametrize("steadied", [False, True], ids=["plain", "steadied"])
def test_a_chain_of_style_and_fast_dream_stays_on_the_device(
        store: ModelStore, cpu: Device, torch_style: TorchNetwork, photo: np.ndarray,
        steadied: bool) -> None:
    """style then fast-dream:ripples, both on torch: one upload, one download, and the
    reference's pictures (each step sees whole grey levels, as on the host)."""
    sc = scene(styles=[7], temporal={"enabled": steadied})
    dream_path = network_path(store, "ripples")

    def chain(style_net: Network, dream_net: Network) -> Chain:
        effects: list[Effect] = [MultiStyleEffect(style_net, sc, 0.0),
                                 FastDreamEffect(dream_net, "ripples", sc.size)]
        if not steadied:
            return Chain(effects)
        device = painting_device(effects)
        return Chain(effects, Stabiliser(sc.temporal, sc.size) if device is None
                     else DeviceStabiliser(sc.temporal, sc.size, device))

    on_torch = chain(torch_style, TorchNetwork(dream_path, "fp32", "cpu"))
    reference = chain(OrtNetwork(store.require("multistyle26"), cpu),
                      OrtNetwork(dream_path, cpu))
    assert on_torch.device == "cpu" and reference.device is None
    for i in range(3):
        frame = np.ascontiguousarray(photo[i:i + 58 * 3, 2 * i:2 * i + 98 * 3])
        got, want = on_torch(frame, i / 30), reference(frame, i / 30)
        assert got.shape == want.shape == (58, 98, 3)
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 3 and (diff > 1).mean() < 0.002, (i, diff.max())
