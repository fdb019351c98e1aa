"""The stabiliser on the device (torch, here on the CPU) against the numpy reference:
the same frames, the same flows, the same pictures within a stated tolerance."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import torch

from installation.temporal import Stabiliser, TemporalConfig
from installation.temporal.flow import Flow, Grid
from installation.temporal.on_device import DeviceGrid, DeviceStabiliser
from installation.tensors import upload

W, H = 160, 96
DT = 1 / 30  # s between frames
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def scene(photo: np.ndarray) -> np.ndarray:
    return cv2.resize(photo, (W + 80, H + 80), interpolation=cv2.INTER_AREA)


def frames(scene: np.ndarray, n: int = 10) -> list[np.ndarray]:
    """A pan of (2, 1) px a frame with a bright square crossing it the other way."""
    out = []
    for i in range(n):
        f = np.ascontiguousarray(scene[40 - i:40 - i + H, 40 - 2 * i:40 - 2 * i + W])
        f[30:50, 100 - 5 * i:120 - 5 * i] = (250, 240, 40)
        out.append(f)
    return out


def smooth_flow(seed: int, amount: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.normal(0.0, amount, (4, 6, 2)).astype(np.float32)
    return cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)


def on_device(array: np.ndarray) -> torch.Tensor:
    a = array if array.ndim == 3 else array[..., None]
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)[None])).float()


@pytest.mark.parametrize(("mode", "interp"), [("bilinear", cv2.INTER_LINEAR),
                                              ("bicubic", cv2.INTER_CUBIC)])
def test_the_warp_is_opencvs_remap(scene: np.ndarray, mode: str, interp: int) -> None:
    """OpenCV samples on a 1/32 px grid, grid_sample exactly: a fraction of a grey level
    apart on a real picture, off the edge included (8 px flows)."""
    picture = scene[:H, :W].astype(np.float32)
    flow = smooth_flow(1, 8.0)
    want = Grid((W, H)).warp(picture, flow, interp)
    got = DeviceGrid((W, H), CPU).warp(on_device(picture), on_device(flow), mode)
    diff = np.abs(got[0].numpy().transpose(1, 2, 0) - want)
    assert diff.mean() < 0.3 and diff.max() < 8.0


def test_the_round_trip_is_the_hosts(scene: np.ndarray) -> None:
    back, forward = smooth_flow(2, 3.0), -smooth_flow(2, 3.0) + smooth_flow(3, 0.3)
    want = np.exp(-Grid((W, H)).round_trip(back, forward))
    got = torch.exp(-DeviceGrid((W, H), CPU).round_trip(on_device(back), on_device(forward)))
    diff = np.abs(got[0].numpy() - want)
    assert diff.mean() < 0.005 and diff.max() < 0.1
    assert np.array_equal(got[0].numpy() == 0.0, want == 0.0)  # off the edge alike


def test_flows_brought_up_on_the_device_equal_the_hosts() -> None:
    rng = np.random.default_rng(4)
    a = cv2.GaussianBlur(rng.integers(0, 256, (180, 640), dtype=np.uint8), (0, 0), 3)
    b = np.roll(a, (2, 3), axis=(0, 1))
    flow = Flow("fast")
    st = DeviceStabiliser(TemporalConfig(enabled=True), (640, 180), "cpu")
    got = st._full(flow.coarse(a, b), (640, 180))[0].numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(got, flow(a, b), atol=1e-4)


def painters(noise: list[np.ndarray]) -> tuple[Callable[[np.ndarray], np.ndarray],
                                               Callable[[torch.Tensor], torch.Tensor]]:
    """One 'network' twice: the picture plus this frame's strokes (a fresh roll each
    call), on the host in uint8 and on the device in [0, 1]."""
    calls = {"host": 0, "device": 0}

    def host(picture: np.ndarray) -> np.ndarray:
        strokes = noise[calls["host"]]
        calls["host"] += 1
        return np.clip(picture.astype(np.float32) + strokes, 0, 255).astype(np.uint8)

    def device(x: torch.Tensor) -> torch.Tensor:
        strokes = on_device(noise[calls["device"]])
        calls["device"] += 1
        # the host's uint8 cast truncates: painted whole levels, then [0, 1]
        return torch.floor((x * 255.0 + strokes).clamp(0, 255)) / 255.0

    return host, device


@pytest.mark.parametrize("settings", [{}, {"noise": 0.0}, {"strength": 0.8, "flow": "fast"}],
                         ids=["shipped", "no-steadiness", "fast-flow"])
def test_the_device_stabiliser_shows_the_reference_pictures(
        scene: np.ndarray, settings: dict[str, object]) -> None:
    """Ten frames of a pan with a square crossing it, painted with fresh strokes each
    frame: every picture within one grey level of the reference, nearly all equal."""
    cfg = TemporalConfig.model_validate({"enabled": True, **settings})
    rng = np.random.default_rng(5)
    noise = [rng.normal(0.0, 12.0, (H, W, 3)).astype(np.float32) for _ in range(10)]
    host_paint, device_paint = painters(noise)
    reference, device = Stabiliser(cfg, (W, H)), DeviceStabiliser(cfg, (W, H), "cpu")
    for i, f in enumerate(frames(scene)):
        want = reference(f, i * DT, host_paint)
        got = device(f, i * DT, device_paint)
        assert got.shape == want.shape == (H, W, 3) and got.dtype == np.uint8
        diff = np.abs(got.astype(int) - want.astype(int))
        # measured: at most 1 grey level anywhere, on < 0.3 % of the values
        assert diff.max() <= 1 and diff.mean() < 0.01, (i, diff.max(), diff.mean())
        assert device.kept == pytest.approx(reference.kept, abs=0.01)
    assert reference.kept > 0.5  # the blend ran: this compared the blending, not copies


def test_off_a_new_size_and_a_failing_flow(scene: np.ndarray,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    st = DeviceStabiliser(TemporalConfig(enabled=True), (W, H), "cpu")
    seq = frames(scene, 4)
    st.on = False
    assert np.array_equal(st(seq[0], 0.0, lambda x: x), seq[0])  # off: painted as it is
    st.on = True
    for i in range(3):
        st(seq[i], i * DT, lambda x: x)
    assert st.kept > 0.5
    st.resize((W // 2, H // 2))
    small = cv2.resize(seq[3], (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    out = st(small, 3 * DT, lambda x: x)
    assert out.shape == (H // 2, W // 2, 3) and st.kept > 0.3  # carried over, resized

    def broken(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise RuntimeError("flow broke")

    monkeypatch.setattr(st._flow, "coarse", broken)
    before = st.unblended
    painted = st(small, 4 * DT, lambda x: 1.0 - x)  # the negative: shown as painted
    assert st.unblended == before + 1
    assert np.abs(painted.astype(int) - (255 - small)).mean() < 2.0  # steady ≈ the camera


def test_a_picture_that_is_not_finite_is_refused(scene: np.ndarray) -> None:
    st = DeviceStabiliser(TemporalConfig(enabled=True), (W, H), "cpu")
    with pytest.raises(ValueError, match="not finite"):
        st(frames(scene, 1)[0], 0.0, lambda x: x * torch.nan)
    assert np.array_equal(st(frames(scene, 1)[0], 0.0, lambda x: x), frames(scene, 1)[0])
    assert upload(frames(scene, 1)[0], "cpu").shape == (1, 3, H, W)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a usable CUDA GPU")
def test_on_cuda_the_pictures_are_the_references(scene: np.ndarray) -> None:
    """The same frames on the GPU: only the device changes (cuDNN may blur in TF32)."""
    cfg = TemporalConfig(enabled=True)
    rng = np.random.default_rng(5)
    noise = [rng.normal(0.0, 12.0, (H, W, 3)).astype(np.float32) for _ in range(10)]
    host_paint, _ = painters(noise)
    _, device_paint = painters(noise)
    cuda_paint = lambda x: device_paint(x.cpu()).to(x.device)  # noqa: E731
    reference, device = Stabiliser(cfg, (W, H)), DeviceStabiliser(cfg, (W, H), "cuda")
    for i, f in enumerate(frames(scene)):
        diff = np.abs(device(f, i * DT, cuda_paint).astype(int)
                      - reference(f, i * DT, host_paint).astype(int))
        assert diff.max() <= 3 and diff.mean() < 0.1, (i, diff.max(), diff.mean())
