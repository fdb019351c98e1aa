"""`[compositor]`: how the scene's layers and scenes are put together."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from installation.section import Section


class CompositorConfig(Section):
    scene_fade_s: float = Field(
        1.0, ge=0.0, le=30.0, description="crossfade from one scene to the next, s"
    )
    gan_interpolation: Literal["cubic", "lanczos"] = Field(
        "cubic", description="how the generated picture is enlarged to the scene's size"
    )
