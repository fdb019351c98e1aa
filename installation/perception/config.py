"""The `[perception]` section: how visitors are found, tracked and turned into signals.

Sizes are in pixels of the analysis picture (`width` px wide) unless named as fractions;
speeds are in body heights per second (a visitor's own height), so a walker far from the
camera counts as much as one near it; times in seconds.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from installation.section import Section


class PerceptionConfig(Section):
    """Background subtraction + a person network → tracked visitors → the walk's signals."""

    enabled: bool = Field(
        True, description="read visitors as people; off: the walk follows whole-picture "
        "optical flow as before")

    # -- the analysis picture and its rate -------------------------------------------------
    width: int = Field(256, ge=64, le=640, description="analysis width, px")
    rate_hz: float = Field(15.0, ge=1.0, le=60.0, description="analysed frames per second at most")

    # -- background subtraction (OpenCV MOG2, a fixed camera) ------------------------------
    background_s: float = Field(
        30.0, ge=1.0, le=3600.0,
        description="something new that stays still where no visitor is tracked becomes "
        "part of the room after this long, s")
    var_threshold: float = Field(
        16.0, ge=2.0, le=200.0,
        description="squared distance from the background model that counts as foreground")
    shadows: bool = Field(True, description="shadows (darker, same colour) are not visitors")
    still_forget_s: float = Field(
        300.0, ge=10.0, le=86400.0,
        description="a visitor who has not moved this long may be a thing left in the room "
        "(or a photo the person network takes for someone): the background learns it and "
        "the network's find there is ignored, s")
    cut_share: float = Field(
        0.6, gt=0.0, le=1.0,
        description="this share of the picture changing at once, once a bumped camera and "
        "the light are matched, is a cut, not visitors: the background starts again, 0..1")

    # -- the person network (near the camera) ----------------------------------------------
    segmentation: bool = Field(True, description="use the person network where pulled")
    person_threshold: float = Field(
        0.6, gt=0.0, lt=1.0, description="network probability that counts as person, 0..1")
    person_min_share: float = Field(
        0.01, ge=0.0, le=1.0,
        description="a region the network alone finds counts from this share of the "
        "picture (it is made for people near the camera), 0..1")
    faces: bool = Field(True, description="place heads on faces the face network finds")

    # -- blobs and tracks -------------------------------------------------------------------
    min_height: float = Field(
        0.04, gt=0.0, le=1.0, description="smallest visitor, a share of the picture's height")
    confirm_s: float = Field(0.3, ge=0.0, le=10.0, description="seen this long to count, s")
    lost_s: float = Field(
        1.5, gt=0.0, le=30.0,
        description="unseen this long, a visitor has left (they coast on their last "
        "velocity meanwhile: crossings, occlusions), s")
    arrive_heights: float = Field(
        0.5, ge=0.0, le=10.0,
        description="a region that moved this far is a visitor who walked in; one that "
        "appears in place (light, a moved thing) is not, unless the person network sees a "
        "person there, body heights")
    match_heights: float = Field(
        1.0, gt=0.0, le=10.0,
        description="farthest a visitor moves between analysed frames, body heights")
    position_tau_s: float = Field(0.12, gt=0.0, le=10.0, description="position smoothing, s")
    velocity_tau_s: float = Field(0.3, gt=0.0, le=10.0, description="velocity smoothing, s")
    shape_weight: float = Field(
        0.5, ge=0.0, le=10.0,
        description="how much a silhouette changing in place (waving, turning) counts, "
        "body heights/s per share of the silhouette changed per s (a visitor's motion is "
        "their travel or this, whichever is more)")
    shape_noise_px: float = Field(
        1.5, ge=0.0, le=20.0,
        description="a silhouette's outline flickers by about this much whatever the "
        "visitor's size: a change below this many pixels of their height is no motion, px")

    # -- signals ----------------------------------------------------------------------------
    noise_floor: float = Field(
        0.05, ge=0.0, le=2.0,
        description="motion below this is jitter, body heights/s (counted in full from "
        "twice this)")
    gain_learn_s: float = Field(
        300.0, ge=1.0, le=86400.0,
        description="how slowly the automatic gain forgets a busy room, s (it learns a "
        "busier one ten times faster)")
    typical_motion: float = Field(
        0.5, gt=0.0, le=10.0,
        description="the room's usual motion before anything is learned, body heights/s")
    gain_range: tuple[float, float] = Field(
        (0.25, 4.0), description="the automatic gain stays within this many times the "
        "starting gain (low, high)")

    @field_validator("gain_range")
    @classmethod
    def _gain_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        low, high = v
        if not 0.01 <= low <= 1.0 <= high <= 100.0:
            raise ValueError("must be [low, high] with 0.01 <= low <= 1 <= high <= 100 "
                             "(times the starting gain)")
        return v

    typical_energy: float = Field(
        0.6, gt=0.0, le=1.0, description="energy the room's usual motion reads as, 0..1")
    presence_tau_s: float = Field(0.5, gt=0.0, le=60.0, description="presence smoothing, s")
    presence_hold_s: float = Field(
        2.0, ge=0.0, le=600.0, description="a visitor unseen this briefly is still there, s")
    crowd_full: int = Field(4, ge=1, le=100, description="this many visitors is a full crowd")

    # -- the silhouettes for the compositor -------------------------------------------------
    mask_tau_s: float = Field(
        0.15, gt=0.0, le=10.0, description="silhouette smoothing in time (no flicker), s")
    feather_px: int = Field(3, ge=0, le=31, description="silhouette edge softness, analysis px")
