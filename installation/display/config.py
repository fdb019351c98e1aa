"""`[display]`, `[recording]` and `[snapshots]`: where the shown picture goes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from installation.section import Section


class DisplayConfig(Section):
    fullscreen: bool = False
    display: int = Field(0, ge=0, le=16, description="which monitor, 0 = first")
    width: int = Field(1280, ge=64, le=7680, description="window size, px")
    height: int = Field(720, ge=64, le=4320, description="window size, px")
    vsync: bool = True
    mirror: bool = True
    fit: Literal["fit", "fill"] = "fill"
    hud: bool = False
    idle_fps: float = Field(
        30.0, ge=1.0, le=500, description="redraw rate while no new picture arrives, frames/s"
    )


class RecordingConfig(Section):
    fps: float = Field(30.0, ge=1.0, le=120,
                       description="the written file's clock: its highest frame rate")
    crf: int = Field(23, ge=0, le=51, description="H.264 quality, lower is better")
    width: int = Field(1280, ge=16, le=7680)
    height: int = Field(720, ge=16, le=4320)


class NdiConfig(Section):
    """`[ndi]`: the shown picture as an NDI source on the network (display/ndi.py)."""

    enabled: bool = False
    name: str = Field("installation", min_length=1, max_length=64,
                      description="the source's name (receivers list it as HOST (name))")
    width: int = Field(1280, ge=16, le=7680)
    height: int = Field(720, ge=16, le=4320)
    fps: float = Field(30.0, ge=1.0, le=120.0, description="pictures sent a second at most")


class SnapshotConfig(Section):
    enabled: bool = False
    folder: str = "snapshots"
    max_mb: float = Field(500.0, gt=0, le=100_000_000.0,
                          description="the folder's cap: oldest go first, MB")
