"""Effects: a frame in, a frame out. `build_effect` makes the one a scene asks for.

- `style`: the 26-style network (`style.MultiStyleEffect`), blends and crossfades of styles;
- `arbitrary`: any painting as the style (`arbitrary.ArbitraryStyleEffect`);
- `none`: the camera picture at the scene's size (`PassThrough`).
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from installation.config import SceneConfig, StyleConfig
from installation.effects.arbitrary import ArbitraryStyleEffect, find_paintings
from installation.effects.base import Effect
from installation.effects.style import MultiStyleEffect, StyleMixer, resize_to
from installation.models import ModelStore
from installation.runtime import Device, create_session

__all__ = [
    "ArbitraryStyleEffect",
    "Effect",
    "MultiStyleEffect",
    "PassThrough",
    "StyleMixer",
    "build_effect",
    "find_paintings",
]


class PassThrough:
    """The camera picture, resized to the scene's size (effect "none")."""

    name = "none"

    def __init__(self, scene: SceneConfig) -> None:
        self.size = scene.size  # (W, H), px

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        return resize_to(image, self.size)

    def step_style(self, delta: int, t: float) -> None:
        """Nothing to step: this effect has no styles."""

    def describe(self) -> str:
        return "none"


def build_effect(
    scene: SceneConfig,
    style_cfg: StyleConfig,
    device: Device,
    store: ModelStore,
    sessions: dict[str, ort.InferenceSession] | None = None,
) -> Effect:
    """The effect for `scene`, its models verified, sessions created and warmed up.

    `sessions` (model name → session), when given, is shared between the scenes of a show,
    so each network is loaded once however many scenes use it.
    Raises ModelError (a model missing or altered) or UserError (no paintings) in one line:
    meant for start-up and scene loading, never for the middle of a frame.
    """
    shared = sessions if sessions is not None else {}

    def session(name: str) -> ort.InferenceSession:
        if name not in shared:
            shared[name] = create_session(store.require(name), device)
        return shared[name]

    if scene.effect == "none":
        return PassThrough(scene)
    if scene.effect == "style":
        style = MultiStyleEffect(session("multistyle26"), scene, style_cfg.crossfade_s)
        style.warm_up()
        return style
    # Relative painting folders (and the style-vector cache) live in the project folder,
    # the parent of models/, whatever the current folder is.
    paintings = find_paintings(style_cfg.paintings_dirs, scene.paintings, root=store.root.parent)
    arbitrary = ArbitraryStyleEffect(
        session("arbitrary-predict"),
        session("arbitrary-transform"),
        scene,
        paintings,
        style_cfg.crossfade_s,
        cache_dir=store.root / ".style-cache",
    )
    arbitrary.warm_up()
    return arbitrary
