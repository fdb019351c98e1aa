"""The 26-style network: a style is a weight vector, so blends and crossfades are mixes of it.

Pre- and post-processing follow shared/MODELS.md exactly: RGB float32 in [0, 1], NCHW,
H and W reflect-padded (bottom and right) to a multiple of 4, the output cropped back,
clipped to [0, 1] and quantised as floor(x * 255 + 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from installation.effects.config import NUM_STYLES, EffectSettings, StyleEntry, style_weights
from installation.pictures import resize_to
from installation.runtime import Network
from installation.runtime.network import TensorNetwork
from installation.stage import require_finite

if TYPE_CHECKING:
    import torch

    from installation.effects.on_device import DeviceStyle

# -- time-eased vectors -------------------------------------------------------------------


@dataclass(frozen=True)
class _Fade:
    start: np.ndarray
    end: np.ndarray
    t0: float  # s
    duration_s: float

    def progress(self, t: float) -> float:
        """Smoothstep-eased progress in [0, 1] at time `t` (s)."""
        if self.duration_s <= 0.0:
            return 1.0
        u = min(max((t - self.t0) / self.duration_s, 0.0), 1.0)
        return u * u * (3.0 - 2.0 * u)


class Crossfade:
    """A vector easing from one value to another over time (smoothstep).

    A new target starts from the value shown at that moment, so a change mid-fade never
    jumps. The whole fade is one immutable record swapped in a single assignment: the main
    thread may retarget while the effect thread reads.
    """

    def __init__(self, initial: Sequence[float] | np.ndarray) -> None:
        v = np.asarray(initial, dtype=np.float32).copy()
        self._fade = _Fade(v, v, 0.0, 0.0)

    def set_target(self, target: Sequence[float] | np.ndarray, t: float, duration_s: float) -> None:
        start = self.value(t)
        end = np.asarray(target, dtype=np.float32).copy()
        self._fade = _Fade(start, end, t, max(float(duration_s), 0.0))

    def value(self, t: float) -> np.ndarray:
        fade = self._fade
        s = fade.progress(t)
        if s >= 1.0:
            return fade.end.copy()
        if s <= 0.0:
            return fade.start.copy()
        return ((1.0 - s) * fade.start + s * fade.end).astype(np.float32)

    def fading(self, t: float) -> bool:
        return self._fade.progress(t) < 1.0

    @property
    def start(self) -> np.ndarray:
        return self._fade.start

    @property
    def target(self) -> np.ndarray:
        return self._fade.end


class StyleMixer(Crossfade):
    """The 26 style weights shown at each moment: non-negative and summing to 1."""

    def __init__(self, weights: Sequence[float] | np.ndarray) -> None:
        super().__init__(_normalised(weights))

    def set_target(self, target: Sequence[float] | np.ndarray, t: float, duration_s: float) -> None:
        super().set_target(_normalised(target), t, duration_s)

    def weights(self, t: float) -> np.ndarray:
        return _normalised(self.value(t))


def _normalised(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.clip(np.asarray(weights, dtype=np.float32), 0.0, None)
    if w.shape != (NUM_STYLES,) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"style weights must be {NUM_STYLES} non-negative numbers, not all 0")
    return (w / w.sum()).astype(np.float32)


def weights_label(weights: Sequence[float] | np.ndarray) -> str:
    """'7' for a single style, '3:0.50+12:0.50' for a blend."""
    w = np.asarray(weights, dtype=np.float64)
    used = [(i, float(x)) for i, x in enumerate(w) if x > 1e-4]
    if len(used) == 1:
        return str(used[0][0])
    return "+".join(f"{i}:{x:.2f}" for i, x in used)


# -- pictures and tensors -----------------------------------------------------------------


def padded_shape(h: int, w: int) -> tuple[int, int]:
    """H and W rounded up to a multiple of 4 (the network downsamples by 4)."""
    return h + (-h) % 4, w + (-w) % 4


def preprocess_into(image: np.ndarray, buf: np.ndarray) -> None:
    """Write HxWx3 uint8 RGB into `buf` [1, 3, Hp, Wp] float32: /255, reflect-padded.

    Padding mirrors about the last row/column without repeating it (numpy's 'reflect').
    No allocation: the pad is filled from the picture already in `buf`.
    """
    h, w = image.shape[:2]
    hp, wp = buf.shape[2:]
    if min(h, w) < 5:  # too small to mirror a 3 px pad once: let numpy repeat the reflection
        padded = np.pad(image, ((0, hp - h), (0, wp - w), (0, 0)), mode="reflect")
        np.divide(padded.transpose(2, 0, 1), np.float32(255.0), out=buf[0])
        return
    np.divide(image.transpose(2, 0, 1), np.float32(255.0), out=buf[0, :, :h, :w])
    for k in range(hp - h):
        buf[0, :, h + k, :w] = buf[0, :, h - 2 - k, :w]
    for k in range(wp - w):
        buf[0, :, :, w + k] = buf[0, :, :, w - 2 - k]


def preprocess(image: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 RGB → a new [1, 3, Hp, Wp] float32 tensor (see `preprocess_into`)."""
    hp, wp = padded_shape(*image.shape[:2])
    buf = np.empty((1, 3, hp, wp), np.float32)
    preprocess_into(image, buf)
    return buf


def to_uint8(x: np.ndarray, what: str = "style network output") -> np.ndarray:
    """[0, 1] floats → uint8 as floor(clip(x) * 255 + 0.5). Works in place on `x`.

    ValueError("`what` is not finite") when any value is NaN or ±inf (NaN would be cast
    to black): the effect thread then passes the camera frame through and reports it."""
    require_finite(x, what)
    np.clip(x, 0.0, 1.0, out=x)
    x *= np.float32(255.0)
    x += np.float32(0.5)
    np.floor(x, out=x)
    return x.astype(np.uint8, order="C")


def postprocess(output: np.ndarray, h: int, w: int) -> np.ndarray:
    """The network's [1, 3, Hp, Wp] output → HxWx3 uint8 RGB, cropped. Consumes `output`."""
    return to_uint8(output[0, :, :h, :w].transpose(1, 2, 0))


def keep_colour(stylised: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Luminance of `stylised`, chroma of `original` (both HxWx3 float32 RGB in [0, 1])."""
    ycc = cv2.cvtColor(np.ascontiguousarray(original), cv2.COLOR_RGB2YCrCb)
    ycc[..., 0] = cv2.cvtColor(np.ascontiguousarray(stylised), cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def finish(
    stylised: np.ndarray, camera: np.ndarray, strength: float, preserve_color: bool
) -> np.ndarray:
    """Preserve-colour then strength, in float; uint8 out. `stylised` HxWx3 float32 [0, 1]
    (may be modified), `camera` HxWx3 uint8 at the same size."""
    if strength >= 1.0 and not preserve_color:
        return to_uint8(stylised)
    cam = camera.astype(np.float32) / np.float32(255.0)
    out = keep_colour(stylised, cam) if preserve_color else stylised
    if strength < 1.0:
        # A linear mix with the camera picture; at 0 the camera comes back unchanged.
        out = np.float32(strength) * out + np.float32(1.0 - strength) * cam
    return to_uint8(np.ascontiguousarray(out))


class MultiStyleNet:
    """The 26-style network with its input names read from the model."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.image_input = next(i.name for i in network.inputs if len(i.shape) == 4)
        self.weights_input = next(i.name for i in network.inputs if len(i.shape) == 1)

    def run(self, tensor: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """[1, 3, Hp, Wp] float32 and 26 weights → the stylised [1, 3, Hp, Wp] in ~[0, 1]."""
        feeds = {self.image_input: tensor, self.weights_input: weights.astype(np.float32)}
        return self.network.run(feeds)[0]

    def stylise(self, image: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 → HxWx3 float32 (unclipped), for stills of any size."""
        h, w = image.shape[:2]
        return np.array(self.run(preprocess(image), weights)[0, :, :h, :w].transpose(1, 2, 0))


# -- the live effect ----------------------------------------------------------------------


def on_device(network: Network, net: MultiStyleNet) -> DeviceStyle | None:
    """The on-device path (effects/on_device.py) for a network that runs on torch tensors,
    else None (numpy in, numpy out)."""
    if not isinstance(network, TensorNetwork):
        return None
    from installation.effects.on_device import DeviceStyle

    return DeviceStyle(network, net.image_input, net.weights_input)


class MultiStyleEffect:
    """Camera frames repainted in one of the scene's styles, crossfading between them."""

    name = "style"
    scalable = True

    def __init__(
        self, network: Network, scene: EffectSettings, crossfade_s: float
    ) -> None:
        self.net = MultiStyleNet(network)
        self.size = scene.size  # (W, H), px
        self.strength = scene.strength
        self.preserve_color = scene.preserve_color
        self.crossfade_s = crossfade_s
        self._styles = [style_weights(e) for e in scene.styles]
        self._index = 0
        self.mixer = StyleMixer(self._styles[0])
        self._labels = ("", weights_label(self.mixer.target))  # (from, to) for describe()
        self._now = 0.0  # the latest show time seen, s; lets describe() know about fades
        self._device_path = on_device(network, self.net)
        # The device the on-device path paints on (a stabiliser then blends there), or None.
        self.torch_device: str | None = (network.torch_device if self._device_path is not None
                                         and isinstance(network, TensorNetwork) else None)
        self.resize(self.size)

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size
        w, h = size
        # The one input buffer, reused every frame (reallocated only when the size changes).
        self._buf = np.empty((1, 3, *padded_shape(h, w)), np.float32)

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        self._now = max(self._now, t)
        w, h = self.size
        camera = resize_to(image, self.size)
        if self._device_path is not None:  # the torch engine: on its device, one download
            return self._device_path(camera, self.mixer.weights(t), self.strength,
                                     self.preserve_color, self._buf.shape[2:])
        preprocess_into(camera, self._buf)
        out = self.net.run(self._buf, self.mixer.weights(t))
        stylised = out[0, :, :h, :w].transpose(1, 2, 0)
        return finish(stylised, camera, self.strength, self.preserve_color)

    def paint_tensor(self, cam: torch.Tensor, t: float) -> torch.Tensor:
        """The on-device path's painting of [1, 3, H, W] in [0, 1] at the scene's size,
        left on the device, unclipped (for temporal/on_device.py)."""
        if self._device_path is None:
            raise RuntimeError(f"{self.net.network.name} does not run on torch tensors")
        self._now = max(self._now, t)
        return self._device_path.paint(cam, self.mixer.weights(t), self.strength,
                                       self.preserve_color, self._buf.shape[2:])

    def warm_up(self) -> None:
        """One inference on a black frame, so the first live frame is not the slow one
        (through the on-device path where there is one: it is the one compiled)."""
        if self._device_path is not None:
            w, h = self.size
            self._device_path(np.zeros((h, w, 3), np.uint8), self.mixer.target,
                              self.strength, self.preserve_color, self._buf.shape[2:])
            return
        self._buf.fill(0.0)
        self.net.run(self._buf, self.mixer.target)

    def step_style(self, delta: int, t: float) -> None:
        self._index = (self._index + delta) % len(self._styles)
        self._retarget(self._styles[self._index], t)

    def set_style(self, entry: StyleEntry, t: float) -> None:
        """Crossfade to any style or blend (an index or {"idx": weight}); ValueError if bad."""
        self._retarget(style_weights(entry), t)

    def _retarget(self, weights: list[float], t: float) -> None:
        self._now = max(self._now, t)
        self.mixer.set_target(weights, t, self.crossfade_s)
        self._labels = (self._labels[1], weights_label(self.mixer.target))

    def describe(self) -> str:
        """The target style; while fading 'from→to' (from = the previous target)."""
        before, target = self._labels
        return f"{before}→{target}" if self.mixer.fading(self._now) else target
