"""`[style]` and what a scene asks of its effect: the settings effects are built from.

A scene's table in `config.toml` is flat; `EffectSettings` holds the part of it that the
effects read (the show's `EffectSettings` adds layers, generator and mapping on top), so the
effects never import the show's config.
"""

from __future__ import annotations

import os

from pydantic import Field, ValidationInfo, field_validator

from installation.commands import (  # the network's style count, 26; blend weights' cap
    MAX_STYLE_WEIGHT,
    NUM_STYLES,
)
from installation.dream.config import NETWORK_NAME, DreamConfig
from installation.section import Section
from installation.temporal.config import TemporalConfig

StyleEntry = int | dict[str, float]
EFFECTS = ("style", "arbitrary", "none", "dream")  # and "fast-dream:NAME"
PAINTERS = ("style", "arbitrary")  # the effects that repaint with a painting's style
MAX_STYLES = 64  # entries in a scene's `styles` (each a style, or a blend of them)
MAX_PAINTINGS = 256  # entries in a scene's `paintings`
MAX_CHAIN = 8  # effects in one chain


# Working memory of each effect per pixel of the processing size, bytes: ONNX Runtime's
# buffers, the dream's activations and gradients (measured on the CPU at 160x96 and 640x384,
# rounded up). What the models themselves hold is in `SHOW_BYTES`.
BYTES_PER_PX = {"style": 900, "arbitrary": 250, "none": 0, "dream": 2000, "fast-dream": 600}
TEMPORAL_BYTES_PER_PX = 150  # the stabiliser: flow, the held and warped pictures
SHOW_BYTES = 1 << 30  # the rest of the show: models, GAN, camera, motion, sinks


def memory_budget() -> int:
    """Bytes the networks of one scene may need: half of this machine's memory (or of the
    cgroup's limit, under systemd's MemoryMax), so a scene the CPU cannot hold is refused
    at load, not found out by an out-of-memory kill mid-show."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 << 30
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except OSError:
        pass
    return total // 2


class StyleConfig(Section):
    """`[style]`: crossfades and where paintings are found."""

    crossfade_s: float = Field(1.5, ge=0, le=60, description="style crossfade time, s")
    paintings_dirs: list[str] = Field(default_factory=lambda: ["styles", "models/paintings"],
                                      max_length=32)


def style_weights(entry: StyleEntry) -> list[float]:
    """A style entry (an index, or a table of index → weight) as 26 weights summing to 1."""
    w = [0.0] * NUM_STYLES
    if isinstance(entry, bool):
        raise ValueError("a style is an index 0..25 or a table like {3 = 0.5, 12 = 0.5}")
    if isinstance(entry, int):
        if not 0 <= entry < NUM_STYLES:
            raise ValueError(f"style index {entry} is out of range; allowed 0..{NUM_STYLES - 1}")
        w[entry] = 1.0
        return w
    for key, weight in entry.items():
        if not key.isdigit() or not 0 <= int(key) < NUM_STYLES:
            raise ValueError(f"style index {key!r} is out of range; allowed 0..{NUM_STYLES - 1}")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(f"style weight {weight!r} for {key} is not a number")
        if not 0 <= weight <= MAX_STYLE_WEIGHT:  # NaN and the infinities fail too
            raise ValueError(f"style weight {weight} for {key} is not allowed; weights are "
                             f"0..{MAX_STYLE_WEIGHT:g} (finite, >= 0)")
        w[int(key)] += float(weight)
    total = sum(w)
    if total <= 0:
        raise ValueError("style weights are all zero; give at least one positive weight")
    return [x / total for x in w]


class EffectSettings(Section):
    """A scene's effect: which networks in which order, at what size, with which styles."""

    name: str = Field(min_length=1)
    effect: str | list[str] = Field(
        "style", description="style | arbitrary | none | dream | fast-dream:NAME, or a list "
        "of them applied in order, e.g. ['style', 'fast-dream:ripples']",
    )
    size: tuple[int, int] = Field((320, 180), description="processing resolution [W, H], px")
    styles: list[StyleEntry] = Field(
        default_factory=lambda: [0],  # type: ignore[arg-type]
        min_length=1, max_length=MAX_STYLES)
    paintings: list[str] = Field(default_factory=list, max_length=MAX_PAINTINGS)
    strength: float = Field(1.0, ge=0.0, le=1.0)
    preserve_color: bool = False
    dream: DreamConfig = Field(default_factory=DreamConfig,
                               description="the live dream's settings (effect 'dream')")
    temporal: TemporalConfig = Field(
        default_factory=TemporalConfig,
        description="flow-guided temporal stabilisation of the effect's output (no flicker)",
    )

    @field_validator("size")
    @classmethod
    def _size(cls, v: tuple[int, int]) -> tuple[int, int]:
        w, h = v
        if not (32 <= w <= 3840 and 32 <= h <= 2160):
            raise ValueError("each side must be 32..3840 (W) and 32..2160 (H) px")
        return v

    @field_validator("effect")
    @classmethod
    def _effect(cls, v: str | list[str]) -> str | list[str]:
        chain = [v] if isinstance(v, str) else v
        allowed = ("allowed: 'style', 'arbitrary', 'none', 'dream', 'fast-dream:NAME' "
                   "(NAME: a-z, 0-9, '-', '_'), or a list of them")
        if not chain:
            raise ValueError(allowed)
        if len(chain) > MAX_CHAIN:
            raise ValueError(f"a chain has at most {MAX_CHAIN} effects, not {len(chain)}")
        for step in chain:
            kind, _, name = step.partition(":")
            if step not in EFFECTS and not (kind == "fast-dream" and NETWORK_NAME.match(name)):
                raise ValueError(f"{step!r} is not an effect; {allowed}")
        if len(set(chain)) < len(chain):
            raise ValueError("an effect appears twice in the chain")
        if "none" in chain and len(chain) > 1:
            raise ValueError("'none' stands alone: leave it out of a chain")
        if sum(step in PAINTERS for step in chain) > 1:
            raise ValueError("one painting effect per scene: 'style' or 'arbitrary'")
        return v

    @field_validator("styles")
    @classmethod
    def _styles(cls, v: list[StyleEntry]) -> list[StyleEntry]:
        for entry in v:
            style_weights(entry)  # raises ValueError with what is allowed
        return v

    @field_validator("temporal")
    @classmethod
    def _steadied(cls, v: TemporalConfig, info: ValidationInfo) -> TemporalConfig:
        if v.enabled and info.data.get("effect") == "none":
            raise ValueError("the camera picture is not repainted (effect = 'none'): "
                             "leave temporal off, or pick an effect")
        return v

    def memory_bytes(self, painters: int = 0) -> int:
        """About how much memory this scene's effect needs at its size, bytes (`painters`:
        how many more painting passes run at this size beside it, e.g. the GAN painter)."""
        w, h = self.size
        per_px = sum(BYTES_PER_PX[step.partition(":")[0]] for step in self.chain)
        if self.painter is not None:
            per_px += painters * BYTES_PER_PX[self.painter]
        if "dream" in self.chain and self.dream.octaves > 1:
            per_px += BYTES_PER_PX["dream"] // 2  # the smaller octaves, together
        if self.temporal.enabled:
            per_px += TEMPORAL_BYTES_PER_PX
        return w * h * per_px + SHOW_BYTES

    @property
    def chain(self) -> tuple[str, ...]:
        """The effects in the order they are applied."""
        return (self.effect,) if isinstance(self.effect, str) else tuple(self.effect)

    @property
    def painter(self) -> str | None:
        """The chain's painting effect ('style' or 'arbitrary'), if it has one."""
        return next((step for step in self.chain if step in PAINTERS), None)
