"""Scenes with temporal stabilisation: the effect wrapped in a steadied `Chain`."""

from __future__ import annotations

import numpy as np

from installation.effects import Chain, MultiStyleEffect, build_effect, members
from installation.effects.config import StyleConfig
from installation.effects.style import resize_to
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import SceneConfig

SIZE = (96, 56)


def scene(**kw: object) -> SceneConfig:
    return SceneConfig.model_validate({"name": "test", "size": SIZE, "styles": [7], **kw})


def test_a_steadied_scene_wraps_its_effect(store: ModelStore, cpu: Device,
                                           photo: np.ndarray) -> None:
    chain = build_effect(scene(temporal={"enabled": True}), StyleConfig(), cpu, store)
    assert isinstance(chain, Chain) and chain.temporal is not None
    (style,) = members(chain)
    assert isinstance(style, MultiStyleEffect)
    assert chain.describe() == "7 ~steady"
    first = chain(photo, 0.0)
    assert first.shape == (56, 96, 3)
    # The first frame is the painting itself; a still picture then stays it (the network
    # is deterministic and the flow on identical pictures is about zero).
    np.testing.assert_array_equal(first, style(resize_to(photo, SIZE), 0.0))
    np.testing.assert_allclose(chain(photo, 1 / 30), first, atol=1)
    chain.resize((64, 36))  # adaptive resolution reaches the stabiliser too
    assert chain.temporal.grid.size == (64, 36) and chain(photo, 2 / 30).shape == (36, 64, 3)
    chain.temporal.on = False  # the T key
    assert chain.describe() == "7"


def test_only_the_scenes_own_effect_is_steadied(store: ModelStore, cpu: Device) -> None:
    plain = build_effect(scene(), StyleConfig(), cpu, store)
    assert isinstance(plain, MultiStyleEffect)
    painter = build_effect(scene(temporal={"enabled": True}), StyleConfig(), cpu, store,
                           chain=("style",))  # the painter of the generated picture
    assert isinstance(painter, MultiStyleEffect)
