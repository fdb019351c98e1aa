"""The latent walk's settings: speeds, smoothing, the signal → axis mapping, labels, intensity.

Angles are radians on the latent hypersphere (pi/2 between two unrelated latents, so
0.1 rad is a small change of picture), speeds are radians per second, and every
smoothing is a time constant in seconds, so the settings mean the same at any frame rate.

Mapping signals (each is 0 when nobody moves, since motion rests at centre and zero):

    centroid_x, centroid_y    where the visitors are (or motion is, without perception),
                              minus the centre: -0.5 .. 0.5 (x right, y down)
    direction_x, direction_y  which way they move, times how much they agree: -1 .. 1
    energy, presence          0 .. 1
    crowd                     how many visitors: 0 .. 1 (a full crowd, [perception] crowd_full)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from installation.section import Section

Signal = Literal["centroid_x", "centroid_y", "direction_x", "direction_y", "energy", "presence",
                 "crowd"]


class AxisMapping(Section):
    """One signal moving the walk along one of the fixed axes."""

    signal: Signal
    axis: int = Field(ge=0, le=63, description="which fixed direction, 0 .. axes-1")
    gain: float = Field(
        1.0, ge=-20.0, le=20.0,
        description="offset: radians per unit of signal; velocity: rad/s per unit of signal",
    )
    mode: Literal["offset", "velocity"] = Field(
        "offset",
        description="offset: the walk leans towards signal × gain along the axis and back "
        "when the signal returns to 0 (a place in the room is a place in latent space); "
        "velocity: the walk travels along the axis at signal × gain while the signal lasts",
    )


def _default_mapping() -> list[AxisMapping]:
    return [
        AxisMapping(signal="centroid_x", axis=0, gain=1.0),  # ±0.5 rad from edge to edge
        AxisMapping(signal="centroid_y", axis=1, gain=1.0),
        AxisMapping(signal="direction_x", axis=2, gain=0.4, mode="velocity"),
        AxisMapping(signal="direction_y", axis=3, gain=0.4, mode="velocity"),
    ]


class IntensityConfig(Section):
    """Presence → intensity (0..1), for the compositor: idle + (full - idle) × presence^gamma."""

    idle: float = Field(0.3, ge=0.0, le=1.0, description="intensity with nobody there")
    full: float = Field(1.0, ge=0.0, le=1.0, description="intensity at full presence")
    gamma: float = Field(1.0, gt=0.0, le=10.0, description="curve: > 1 holds back weak presence")


class WalkConfig(Section):
    """A walk on the latent hypersphere steered by motion (see `installation.latent.walk`)."""

    seed: int = Field(0, ge=0, le=2**63 - 1, description="the walk's seed (operator key: reseed)")
    dim: int = Field(100, ge=3, le=4096, description="latent size, numbers")

    # -- speed and smoothness ----------------------------------------------------------------
    idle_speed: float = Field(
        0.08, gt=0.0, le=2.0,
        description="drift speed with nobody there, rad/s (about 20 s to a new picture)",
    )
    motion_speed: float = Field(
        0.8, ge=0.0, le=10.0, description="speed added at full motion energy, rad/s"
    )
    max_step: float = Field(
        0.15, gt=0.0, le=1.5,
        description="largest change of z per update, rad; a longer stall pauses the walk",
    )
    response_tau_s: float = Field(
        0.15, ge=0.01, le=5.0,
        description="time constant with which speed, leaning and intensity follow the "
        "signals, s (63 % of a change after this long)",
    )
    drift_turn: float = Field(
        0.6, ge=0.0, le=10.0,
        description="how fast the idle heading turns, rad/s per unit of noise (|noise| ≈ 0.7)",
    )
    drift_period_s: float = Field(
        4.0, ge=0.1, le=600.0,
        description="spacing of the idle drift's random control points: the time over which "
        "the turning changes its mind, s",
    )
    reseed_glide_s: float = Field(
        3.0, ge=0.1, le=60.0, description="glide from the old walk to a reseeded one, s"
    )

    # -- signals → fixed directions (axes must come before mapping: it is checked against it)
    axes: int = Field(4, ge=1, le=64, description="fixed orthonormal directions, seeded")
    mapping: list[AxisMapping] = Field(
        default_factory=_default_mapping, max_length=64,
        description="which signal moves along which axis, how far or how fast",
    )

    # -- class labels (conditional generators) -----------------------------------------------
    labels: int = Field(0, ge=0, le=1000, description="classes: 8 for the eyes, 0 = none")
    label_hold_s: float = Field(6.0, ge=0.0, le=3600.0, description="one class alone, s")
    label_fade_s: float = Field(2.0, ge=0.05, le=600.0, description="crossfade to the next, s")
    label_energy_rate: float = Field(
        1.0, ge=0.0, le=20.0,
        description="extra label-cycle rate at full energy: 1 = twice as fast, 0 = ignore motion",
    )
    label_crowd_rate: float = Field(
        1.0, ge=0.0, le=20.0,
        description="extra label-cycle rate with a full crowd: more visitors, a faster tour "
        "of the classes; 0 = ignore the count",
    )

    intensity: IntensityConfig = IntensityConfig()

    @field_validator("axes")
    @classmethod
    def _axes_fit(cls, v: int, info: ValidationInfo) -> int:
        dim = info.data.get("dim")
        if dim is not None and v > dim:
            raise ValueError(f"must be at most dim ({dim}): that many orthonormal directions")
        return v

    @field_validator("mapping")
    @classmethod
    def _axes_exist(cls, v: list[AxisMapping], info: ValidationInfo) -> list[AxisMapping]:
        axes = info.data.get("axes")
        for i, m in enumerate(v):
            if axes is not None and m.axis >= axes:
                raise ValueError(
                    f"mapping[{i}] ({m.signal}) uses axis {m.axis}; allowed 0..{axes - 1} "
                    f"(axes = {axes})"
                )
        return v
