"""`[source]`: where pictures come from."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from installation.section import Section

DEMO_CLIPS = ("carphone", "bikes", "bigbuckbunny")


class SourceConfig(Section):
    """Where pictures come from: `webcam:N`, `/dev/videoN`, a video file, an image, `demo`."""

    uri: str = "webcam:0"
    width: int = Field(1280, ge=16, le=7680, description="requested camera width, px")
    height: int = Field(720, ge=16, le=4320, description="requested camera height, px")
    fps: float = Field(30.0, ge=1.0, le=240, description="requested camera rate, frames/s")
    on_missing: Literal["demo", "exit"] = "demo"
    demo_clip: Literal["carphone", "bikes", "bigbuckbunny"] = "bikes"
    stall_timeout_s: float = Field(3.0, ge=0.05, le=600)
    reconnect_min_s: float = Field(0.5, ge=0.01, le=60)
    reconnect_max_s: float = Field(10.0, ge=0.01, le=600)

    @field_validator("reconnect_max_s")
    @classmethod
    def _backoff_order(cls, v: float, info: ValidationInfo) -> float:
        if v < info.data.get("reconnect_min_s", 0.0):
            raise ValueError("must be at least reconnect_min_s")
        return v
