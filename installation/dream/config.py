"""A dream scene's settings (`[scenes.dream]` or `dream = {...}` in a scene)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from installation.section import Section

BLOCKS = 16  # EfficientNet-Lite0 has blocks 0..15
MAX_WEIGHT = 100.0  # the largest weight of a block's activations
NETWORK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # NAME in fast-dream:NAME


class DreamConfig(Section):
    """The live DeepDream effect: which layers, how hard, and how frames feed back."""

    layers: dict[str, float] = Field(
        default_factory=lambda: {"6": 1.0, "9": 0.5}, max_length=BLOCKS,
        description="backbone block (0..15) → weight of its activations in the objective",
    )
    steps: int = Field(2, ge=1, le=50, description="ascent steps per frame and octave")
    step_size: float = Field(4.0, gt=0.0, le=50.0, description="mean step, grey levels")
    octaves: int = Field(1, ge=1, le=6, description="scales dreamt, smallest first")
    octave_scale: float = Field(1.4, ge=1.1, le=3.0, description="size ratio of octaves")
    jitter_px: int = Field(8, ge=0, le=64, description="random roll per step, px")
    feedback: float = Field(
        0.9, ge=0.0, le=1.0,
        description="share of the last dream carried into a still region each frame: the "
        "dream deepens where visitors stand still",
    )
    reset_px: float = Field(
        3.0, gt=0.0, le=100.0,
        description="motion (px/frame at the scene's size) at which a region drops its dream "
        "and starts again from the camera",
    )
    zoom: Literal["off", "attract", "always"] = Field(
        "attract", description="when the dream slowly zooms in: the endless dream of attract "
        "mode (nobody there), always, or never",
    )
    zoom_per_s: float = Field(
        0.03, ge=0.0, le=1.0, description="zoom speed, fraction of the size per second",
    )

    @field_validator("layers")
    @classmethod
    def _layers(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("give at least one block, e.g. {6 = 1.0}")
        for key, weight in v.items():
            if not key.isdigit() or not 0 <= int(key) < BLOCKS:
                raise ValueError(f"block {key!r} is out of range; allowed 0..{BLOCKS - 1}")
            if not 0 < weight <= MAX_WEIGHT:  # NaN fails too
                raise ValueError(f"weight {weight} for block {key} is not allowed; "
                                 f"allowed 0 < weight <= {MAX_WEIGHT:g}")
        return v

    def weights(self) -> dict[int, float]:
        return {int(k): float(w) for k, w in self.layers.items()}


def parse_layers(text: str) -> dict[str, float]:
    """Blocks and weights from the command line: '6', '6,9' or '6:1,9:0.5' (weight 1 when
    left out). ValueError, saying what is allowed, when they are not valid."""
    layers: dict[str, float] = {}
    for part in text.split(","):
        block, _, weight = part.strip().partition(":")
        try:
            layers[block.strip()] = float(weight) if weight.strip() else 1.0
        except ValueError:
            raise ValueError(f"weight {weight!r} of block {block} is not a number") from None
    return DreamConfig._layers(layers)
