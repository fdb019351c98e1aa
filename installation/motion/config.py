"""The `[motion]` section: analysis size, optical-flow settings, noise floor, smoothing.

Flow is measured on a small grey picture, so sizes and speeds here are in pixels *of the
analysis picture* (`width` px wide), not of the camera. Speeds are per second, so the
same settings hold at any camera frame rate; only the noise floor is per frame, because
sensor noise does not scale with the time between frames.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from installation.section import Section

MAX_SIDE = 640  # no side of the analysis picture is longer, px (width's own bound)
MIN_SIDE = 8  # nor shorter, px


class MotionConfig(Section):
    """Motion analysis: dense optical flow on a small grey frame → energy, centroid, ..."""

    # -- analysis picture --------------------------------------------------------------------
    width: int = Field(160, ge=32, le=640, description="analysis width, px")
    height: int = Field(
        0, ge=0, le=480,
        description="analysis height, px; 0 = from the camera's aspect ratio",
    )
    blur_sigma_px: float = Field(
        1.0, ge=0.0, le=5.0,
        description="Gaussian blur before flow (sigma, analysis px) against sensor noise; 0 = off",
    )

    # -- Farneback dense optical flow (cv2.calcOpticalFlowFarneback) -------------------------
    pyr_scale: float = Field(0.5, ge=0.1, le=0.9, description="size ratio between pyramid levels")
    levels: int = Field(3, ge=1, le=8, description="pyramid levels; 3 follows ~10 px/frame")
    winsize: int = Field(13, ge=5, le=51, description="averaging window, analysis px")
    iterations: int = Field(2, ge=1, le=10, description="iterations per pyramid level")
    poly_n: Literal[5, 7] = Field(5, description="neighbourhood of the polynomial fit, px")
    poly_sigma: float = Field(1.1, ge=0.5, le=2.5, description="1.1 suits poly_n 5, 1.5 suits 7")

    # -- from flow to signals ----------------------------------------------------------------
    noise_floor: float = Field(
        0.5, ge=0.0, le=5.0,
        description="flow below this is sensor noise and ignored (and above twice this "
        "counted in full), analysis px/frame",
    )
    energy_scale: float = Field(
        20.0, gt=0.0, le=1000.0,
        description="mean speed over the whole picture that counts as full energy (1.0), "
        "analysis px/s",
    )
    mask_speed: float = Field(
        40.0, gt=0.0, le=5000.0,
        description="speed at which a pixel is fully in the motion mask, analysis px/s",
    )
    moving_energy: float = Field(
        0.05, gt=0.0, le=1.0,
        description="raw energy (0..1) from which someone counts as moving; below half of "
        "it the centroid and direction fade back to rest",
    )
    min_interval_s: float = Field(
        0.025, ge=0.0, le=1.0,
        description="a frame sooner than this after the last analysed one is skipped, s: "
        "flow over a longer step rises further above the per-frame noise floor, so a fast "
        "camera sees slow motion as a 30 frames/s one does (and saves CPU)",
    )
    max_gap_s: float = Field(
        1.0, gt=0.0, le=60.0,
        description="frames further apart than this are not compared (a stalled camera), s",
    )

    # -- smoothing: exponential, time constants in seconds -----------------------------------
    energy_tau_s: float = Field(0.2, gt=0.0, le=60.0, description="energy smoothing, s")
    centroid_tau_s: float = Field(0.3, gt=0.0, le=60.0, description="centroid smoothing, s")
    direction_tau_s: float = Field(0.4, gt=0.0, le=60.0, description="direction smoothing, s")
    mask_tau_s: float = Field(0.1, gt=0.0, le=60.0, description="motion mask smoothing, s")
    presence_tau_s: float = Field(0.5, gt=0.0, le=60.0, description="presence smoothing, s")

    # -- presence ----------------------------------------------------------------------------
    presence_hold_s: float = Field(
        5.0, ge=0.0, le=600.0, description="someone who moved this recently is still present, s"
    )
    background_tau_s: float = Field(
        60.0, gt=0.0, le=3600.0,
        description="how slowly the empty-scene background is learned (a visitor standing "
        "still fades into it over a few of these), s",
    )
    background_threshold: float = Field(
        25.0, gt=0.0, le=255.0,
        description="grey difference from the background that counts, grey levels 0..255",
    )
    background_fraction: float = Field(
        0.02, gt=0.0, le=1.0,
        description="share of the picture that must differ from the background for full "
        "presence, 0..1",
    )

    @field_validator("height")
    @classmethod
    def _height(cls, v: int) -> int:
        if v != 0 and v < 24:
            raise ValueError("must be 0 (from the aspect ratio) or 24..480 px")
        return v

    def analysis_size(self, frame_w: int, frame_h: int) -> tuple[int, int]:
        """(width, height) of the analysis picture for a camera frame of this size, px.

        The height follows the camera's aspect, but never past `MAX_SIDE`: a very tall
        source narrows the picture instead (a very wide one keeps at least `MIN_SIDE`
        rows), so no camera makes the analysis bigger than `MAX_SIDE` squared."""
        if self.height:
            return self.width, self.height
        frame_w, frame_h = max(1, frame_w), max(1, frame_h)
        height = round(self.width * frame_h / frame_w)
        if height > MAX_SIDE:
            return max(MIN_SIDE, round(MAX_SIDE * frame_w / frame_h)), MAX_SIDE
        return self.width, max(MIN_SIDE, height)
