"""Effects: a frame in, a frame out. `build_effect` makes the one a scene asks for.

- `style`: the 26-style network (`style.MultiStyleEffect`), blends and crossfades of styles;
- `arbitrary`: any painting as the style (`arbitrary.ArbitraryStyleEffect`);
- `none`: the camera picture at the scene's size (`PassThrough`);
- `dream`: the live DeepDream with feedback (`dream.live.DreamEffect`, torch);
- `fast-dream:NAME`: a trained dream network (`dream.fast.FastDreamEffect`, ONNX Runtime).

A scene may chain them (`effect = ["style", "fast-dream:ripples"]`): each works on the
last one's picture (`Chain`). A scene with `temporal.enabled` gets its effect wrapped in a
`Chain` with a `temporal.Stabiliser`: the camera picture held steady and the output blended
with the last one along the optical flow (no flicker); on the torch engine's device when
the effect paints there (`stabiliser_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from installation.effects.arbitrary import ArbitraryStyleEffect, find_paintings
from installation.effects.base import Attractable, Effect, TensorPainter
from installation.effects.config import EffectSettings, StyleConfig
from installation.effects.style import MultiStyleEffect, StyleMixer, padded_shape
from installation.models import ModelStore
from installation.pictures import resize_to
from installation.runtime import Device, Network, open_network
from installation.temporal import Stabiliser
from installation.temporal.stabiliser import Steadier

__all__ = [
    "ArbitraryStyleEffect",
    "Chain",
    "Effect",
    "Loaded",
    "MultiStyleEffect",
    "PassThrough",
    "StyleMixer",
    "build_effect",
    "find_paintings",
    "members",
    "painters_of",
    "painting_device",
    "stabiliser_for",
    "stabiliser_of",
    "strength_of",
]


class PassThrough:
    """The camera picture, resized to the scene's size (effect "none")."""

    name = "none"
    scalable = True

    def __init__(self, scene: EffectSettings) -> None:
        self.size = scene.size  # (W, H), px

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        return resize_to(image, self.size)

    def step_style(self, delta: int, t: float) -> None:
        """Nothing to step: this effect has no styles."""

    def describe(self) -> str:
        return "none"


class Chain:
    """Effects applied one after another, each on the last one's picture; with a
    `Stabiliser`, on a steady camera picture and blended with the last output."""

    def __init__(self, effects: list[Effect], temporal: Steadier[Any] | None = None) -> None:
        self.effects = effects
        self.temporal = temporal
        self.name = "+".join(e.name for e in effects)
        self.scalable = all(e.scalable for e in effects)
        # The device every effect paints on (the frame then stays there), or None.
        self.device = painting_device(effects)
        if temporal is not None and temporal.device not in (None, self.device):
            raise ValueError(f"a stabiliser on {temporal.device} for effects painting on "
                             f"{self.device or 'the host'}: use stabiliser_for")

    def resize(self, size: tuple[int, int]) -> None:
        for effect in self.effects:
            effect.resize(size)
        if self.temporal is not None:
            self.temporal.resize(size)

    @property
    def size(self) -> tuple[int, int]:
        """The processing size (W, H), px: every effect of the chain works at it."""
        size: tuple[int, int] = getattr(self.effects[0], "size", (0, 0))
        return size

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        def paint(picture: np.ndarray) -> np.ndarray:
            for effect in self.effects:
                picture = effect(picture, t)
            return picture

        if self.device is not None and (self.temporal is None or self.temporal.device):
            return self._on_device(image, t, self.device)
        if self.temporal is None:
            return paint(image)
        return self.temporal(resize_to(image, self.size), t, paint)

    def _on_device(self, image: np.ndarray, t: float, device: str) -> np.ndarray:
        """Every effect painting on `device`: one upload, one download (and the blending
        there too, with a stabiliser)."""
        import torch

        from installation.tensors import download, levels, upload

        painters = [e for e in self.effects if isinstance(e, TensorPainter)]

        def paint(x: torch.Tensor) -> torch.Tensor:
            for i, effect in enumerate(painters):
                if i:  # each step sees a picture in whole grey levels, as on the host
                    x = levels(x, f"{painters[i - 1].name} output") / 255.0
                x = effect.paint_tensor(x, t)
            return x

        picture = resize_to(image, self.size)
        if self.temporal is not None:
            return self.temporal(picture, t, paint)
        with torch.inference_mode():
            return download(levels(paint(upload(picture, device)),
                                   f"{painters[-1].name} output"))

    def step_style(self, delta: int, t: float) -> None:
        for effect in self.effects:
            effect.step_style(delta, t)

    def describe(self) -> str:
        text = " > ".join(e.describe() for e in self.effects)
        return text + " ~steady" if self.temporal is not None and self.temporal.on else text

    def set_attract(self, on: bool) -> None:
        for effect in self.effects:
            if isinstance(effect, Attractable):
                effect.set_attract(on)


def members(effect: Effect) -> list[Effect]:
    """The effects a scene's effect is made of: a chain's, or the effect itself."""
    return list(effect.effects) if isinstance(effect, Chain) else [effect]


def stabiliser_of(effect: Effect) -> Steadier[Any] | None:
    """The temporal stabiliser of a scene's effect, or None when it has none."""
    return effect.temporal if isinstance(effect, Chain) else None


def painters_of(effect: Effect) -> list[MultiStyleEffect | ArbitraryStyleEffect]:
    """The style networks of a scene's effect (those with a strength), in order."""
    return [e for e in members(effect) if isinstance(e, MultiStyleEffect | ArbitraryStyleEffect)]


def strength_of(effect: Effect) -> float | None:
    """How much of the painting a scene's effect shows, 0..1; None: no style network."""
    painters = painters_of(effect)
    return painters[0].strength if painters else None


Loaded = dict[str, Any]  # model name → its network (any engine)


def build_effect(
    scene: EffectSettings,
    style_cfg: StyleConfig,
    device: Device,
    store: ModelStore,
    loaded: Loaded | None = None,
    chain: tuple[str, ...] | None = None,
) -> Effect:
    """The effect for `scene` (its `chain`, or the steps given), models verified, sessions
    created and warmed up; steadied (`Chain` with a `Stabiliser`) when the scene's
    `temporal.enabled` and no steps are given.

    `loaded` (model name → session or network), when given, is shared between the scenes of
    a show, so each network is loaded once however many scenes use it.
    Raises ModelError (a model missing or altered) or UserError (no paintings, an unknown
    dream network) in one line: meant for start-up and scene loading, never mid-frame.
    """
    shared = loaded if loaded is not None else {}
    steps = chain if chain is not None else scene.chain
    effects = [_one(step, scene, style_cfg, device, store, shared) for step in steps]
    # Only the scene's own effect is steadied (not a painter of the generated picture).
    if chain is None and scene.temporal.enabled:
        return Chain(effects, stabiliser_for(effects, scene))
    return effects[0] if len(effects) == 1 else Chain(effects)


def painting_device(effects: list[Effect]) -> str | None:
    """The torch device all `effects` paint tensors on (the torch engine), or None when
    any paints on the host only or they are on different devices."""
    devices = {e.torch_device if isinstance(e, TensorPainter) else None for e in effects}
    return devices.pop() if len(devices) == 1 else None


def stabiliser_for(effects: list[Effect], scene: EffectSettings) -> Steadier[Any]:
    """The scene's stabiliser: on the GPU its effects all paint on (the torch engine on
    CUDA: the frame then stays there from upload to the picture shown), else on the host.
    On the CPU the host's (OpenCV) is kept even for torch: at 320x180 with nothing painted,
    the blending took 11 ms a frame with OpenCV against 24 ms as torch ops on the CPU
    (interleaved in one process, 2-core EPYC; docs/benchmarks.md)."""
    device = painting_device(effects)
    if device is not None and not device.startswith("cpu"):
        from installation.temporal.on_device import DeviceStabiliser

        return DeviceStabiliser(scene.temporal, scene.size, device)
    return Stabiliser(scene.temporal, scene.size)


def _padded(size: tuple[int, int]) -> tuple[int, int]:
    """(W, H) px rounded up as the picture networks take it (multiples of 4)."""
    h, w = padded_shape(size[1], size[0])
    return w, h


def _one(step: str, scene: EffectSettings, style_cfg: StyleConfig, device: Device,
         store: ModelStore, shared: Loaded) -> Effect:
    def network(name: str, path_of: Callable[[], Path] | None = None,
                picture_scale: float = 1.0) -> Network:
        if name not in shared:
            path = path_of() if path_of is not None else store.require(name)
            shared[name] = open_network(name, path, device, store.engine_cache,
                                        picture_scale, _padded(scene.size))
        return shared[name]

    if step == "none":
        return PassThrough(scene)
    if step == "dream":
        from installation.dream.ascender import open_ascent
        from installation.dream.live import DreamEffect
        from installation.dream.ports import LIVE_DREAM

        if LIVE_DREAM not in shared:
            shared[LIVE_DREAM] = open_ascent(store, device)
        return DreamEffect(shared[LIVE_DREAM], scene.dream, scene.size)
    if step.startswith("fast-dream:"):
        from installation.dream.fast import FastDreamEffect, network_path

        name = step.partition(":")[2]
        fast = FastDreamEffect(network(step, lambda: network_path(store, name), 255.0), name,
                               scene.size)
        fast.warm_up()
        return fast
    if step == "style":
        style = MultiStyleEffect(network("multistyle26"), scene, style_cfg.crossfade_s)
        style.warm_up()
        return style
    # Relative painting folders (and the style-vector cache) live in the project folder,
    # the parent of models/, whatever the current folder is.
    paintings = find_paintings(style_cfg.paintings_dirs, scene.paintings, root=store.root.parent)
    arbitrary = ArbitraryStyleEffect(
        network("arbitrary-predict"),
        network("arbitrary-transform"),
        scene,
        paintings,
        style_cfg.crossfade_s,
        cache_dir=store.root / ".style-cache",
    )
    arbitrary.warm_up()
    return arbitrary
