"""A scene's temporal stabilisation settings (`temporal = {...}` in a scene)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from installation.section import Section


class TemporalConfig(Section):
    """Flow-guided blending of each output with the last one, and a steady camera picture."""

    enabled: bool = Field(
        False, description="blend each repainted frame with the last one carried along the "
        "optical flow, where the flow can be trusted (the T key toggles it live)",
    )
    strength: float = Field(
        0.94, ge=0.0, le=0.98,
        description="share of the last output kept each frame where the warp is trusted; "
        "higher is steadier, and slower to follow a change of style",
    )
    change: float = Field(
        20.0, gt=0.0, le=255.0,
        description="camera difference along the flow (grey levels) at which a region counts "
        "as really changed and is painted afresh",
    )
    noise: float = Field(
        2.0, ge=0.0, le=64.0,
        description="input steadiness: camera changes below this (grey levels, lightly "
        "blurred) are sensor noise, and the network sees the held picture there; 0 = off",
    )
    flow: Literal["fast", "medium"] = Field(
        "medium", description="optical flow quality: 'fast' costs less, 'medium' follows "
        "motion more closely (steadier, less ghosting)",
    )
