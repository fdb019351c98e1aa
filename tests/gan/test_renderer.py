"""The run-time side: generators through ONNX Runtime, and the newest-wins render thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from installation.gan import (
    EYE_CLASSES,
    GanImage,
    GanRenderer,
    Generator,
    blend,
    load_generator,
    one_hot,
)
from installation.models import ModelStore
from installation.runtime import Device, Network

DEADLINE_S = 15.0  # a hang guard for waits, never a speed requirement


def latent(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(100).astype(np.float32)


def diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference, in 0..255 pixel units."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def wait_for(renderer: GanRenderer, done: Callable[[GanImage], bool]) -> GanImage:
    """Read results until one satisfies `done`; fails after DEADLINE_S without one."""
    seen = 0
    while True:
        seen, image = renderer.read(after=seen, timeout=DEADLINE_S)
        assert image is not None, "no render arrived"
        if done(image):
            return image


# -- Generator ------------------------------------------------------------------------------


def test_generators_read_their_inputs_from_the_model(eyes: Generator, faces: Generator) -> None:
    assert (eyes.z_input, eyes.label_input, eyes.n_labels, eyes.size) == ("z", "labels", 8,
                                                                         (128, 128))
    assert eyes.classes == EYE_CLASSES
    assert (faces.z_input, faces.label_input, faces.size) == ("z", None, (64, 64))


@pytest.mark.parametrize("name", ["eyes", "faces"])
def test_images_are_rgb_uint8_and_follow_z(
    name: str, eyes: Generator, faces: Generator
) -> None:
    gen = eyes if name == "eyes" else faces
    label = one_hot("hazel")
    a, b = gen.render(latent(1), label), gen.render(latent(2), label)
    side = 128 if name == "eyes" else 64
    assert a.shape == (side, side, 3) and a.dtype == np.uint8 and a.flags.c_contiguous
    assert diff(a, b) > 5.0  # another latent, another picture
    np.testing.assert_array_equal(a, gen.render(latent(1), label))  # and the same, the same
    assert 20 < a.mean() < 235 and a.std() > 10  # a picture, not a flat or saturated field


def test_eyes_need_labels_and_faces_ignore_them(eyes: Generator, faces: Generator) -> None:
    with pytest.raises(ValueError, match="needs labels"):
        eyes.render(latent(1))
    np.testing.assert_array_equal(faces.render(latent(3)), faces.render(latent(3), one_hot("red")))


def test_label_interpolation_gives_a_picture_between_classes(eyes: Generator) -> None:
    z = latent(4)
    colour, grey = eyes.render(z, one_hot("green")), eyes.render(z, one_hot("grayscale"))
    half = eyes.render(z, blend("green", "grayscale", 0.5))
    apart = diff(colour, grey)
    assert apart > 5.0
    assert diff(half, colour) < apart and diff(half, grey) < apart
    # Saturation (HSV S, 0..255) falls from the colour class through the blend to grey.
    sat = [float(cv2.cvtColor(im, cv2.COLOR_RGB2HSV)[..., 1].mean())
           for im in (colour, half, grey)]
    assert sat[0] > sat[1] > sat[2]


def test_unknown_generator_and_class_are_refused(store: ModelStore, cpu: Device) -> None:
    with pytest.raises(ValueError, match="unknown generator 'cats'"):
        load_generator("cats", cpu, store)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="known: amber, blue"):
        one_hot("violet")


# -- GanRenderer ----------------------------------------------------------------------------


class Gated:
    """A real generator whose renders wait for `gate`; `started` is set when one begins."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name
        self.gate = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    def render(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        self.calls += 1
        self.started.set()
        assert self.gate.wait(DEADLINE_S)
        return self.inner.render(z, labels)


def test_renderer_drops_stale_requests(faces: Generator) -> None:
    gen = Gated(faces)
    renderer = GanRenderer(gen).start()
    try:
        renderer.submit(latent(0), stamp=100.0)
        assert gen.started.wait(DEADLINE_S)  # the thread is busy with the first latent...
        for i in range(1, 40):  # ...while the walk moves on 39 times
            last = renderer.submit(latent(i), stamp=100.0 + i)
        gen.gate.set()
        result = wait_for(renderer, lambda r: r.seq == last.seq)
    finally:
        renderer.stop()
    assert renderer.submitted == 40
    assert gen.calls == renderer.renders == 2  # the first, then only the newest
    assert renderer.dropped == 38
    assert result.stamp == 139.0 and result.generator == "faces"
    np.testing.assert_array_equal(result.image, faces.render(latent(39)))


def test_renderer_upscales_and_stamps(eyes: Generator) -> None:
    renderer = GanRenderer(eyes, output_size=(320, 240), interpolation="lanczos").start()
    try:
        req = renderer.submit(latent(5), one_hot("blue"), stamp=12.5)
        out = wait_for(renderer, lambda r: r.seq == req.seq)
        renderer.output_size = None  # the network's own size, from the next render on
        req2 = renderer.submit(latent(5), one_hot("blue"))
        native = wait_for(renderer, lambda r: r.seq == req2.seq)
    finally:
        renderer.stop()
    assert out.image.shape == (240, 320, 3) and out.image.dtype == np.uint8
    assert out.stamp == 12.5 and out.render_ms >= out.stages["gan"] >= 0.0
    np.testing.assert_array_equal(native.image, eyes.render(latent(5), one_hot("blue")))
    # Smooth: the upscale, shrunk back, is close to the network's own picture.
    back = cv2.resize(out.image, (128, 128), interpolation=cv2.INTER_AREA)
    assert diff(back, native.image) < 6.0


def test_errors_are_survived_and_swap_rerenders(
    eyes: Generator, faces: Generator, caplog: pytest.LogCaptureFixture,
    until: Callable[..., bool],
) -> None:
    renderer = GanRenderer(eyes).start()
    try:
        for _ in range(3):  # the eye generator needs labels: each render raises
            renderer.submit(latent(6))
            assert until(lambda: renderer.errors >= 1)
        renderer.swap(faces)  # the last request again, with a generator that can draw it
        out = wait_for(renderer, lambda r: r.generator == "faces")
        assert out.image.shape == (64, 64, 3)
        req = renderer.submit(latent(7))  # the thread is still alive
        wait_for(renderer, lambda r: r.seq == req.seq)
    finally:
        renderer.stop()
    assert renderer.errors >= 1
    failures = [r for r in caplog.records if "gan eyes failed" in r.getMessage()]
    assert len(failures) == 1  # the same message repeated: logged once


def test_a_hung_render_is_restarted_in_place(faces: Generator) -> None:
    """The watchdog gives up on a render that never returns: a fresh thread renders the
    next latent, the last image stays meanwhile, and the stuck render's late image is
    dropped."""
    renderer = GanRenderer(faces).start()
    gen = Gated(faces)
    try:
        first = renderer.submit(latent(1))
        before = wait_for(renderer, lambda r: r.seq == first.seq)
        renderer.swap(gen)  # the last latent again, with a generator that hangs
        assert gen.started.wait(DEADLINE_S)
        busy = renderer.busy_since
        assert busy is not None
        stuck = renderer._thread
        event = renderer.watch(busy + 10.0, 5.0, most_restarts=1)
        assert event is not None and event.startswith("gan faces stalled (10.0 s")
        version, last = renderer.slot.peek()
        assert last is before  # the last image stays
        renderer.swap(faces)  # the walk goes on: the fresh thread renders with `faces`
        _, after = renderer.read(after=version, timeout=DEADLINE_S)
        assert after is not None and after.seq == first.seq
        gen.gate.set()  # the stuck render returns: its image is dropped, its thread quits
        assert stuck is not None
        stuck.join(DEADLINE_S)
        assert not stuck.is_alive()
    finally:
        gen.gate.set()
        renderer.stop()
    assert renderer.slot.peek()[1] is after and renderer.renders == 2
    assert renderer.restarts == 1 and renderer.errors == 0


class NanNetwork:
    """A generator network whose output is all NaN (a broken export, an overflow)."""

    def __init__(self, inner: Network) -> None:
        self.inner = inner

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        out = self.inner.run(feeds)
        return [np.full_like(out[0], np.nan)]


def test_a_generator_whose_output_is_not_finite_keeps_the_last_picture(
        faces: Generator, until: Callable[..., bool]) -> None:
    broken = Generator(faces.network, "faces")
    broken.network = NanNetwork(faces.network)  # type: ignore[assignment]
    with pytest.raises(ValueError, match="generator faces output is not finite"):
        broken.render(latent(1))
    renderer = GanRenderer(faces).start()
    try:
        renderer.submit(latent(2))
        good = wait_for(renderer, lambda r: True)
        renderer.swap(broken)
        renderer.submit(latent(3))
        assert until(lambda: renderer.errors >= 1)
        assert renderer.slot.peek()[1] is good  # the last good picture stays, not black
    finally:
        renderer.stop()
