"""Attract mode: when nobody has been there for a while, the piece shows an idle composition.

A small state machine on the presence signal (0..1), with hysteresis so a flickering
presence does not flip it: nobody counts as there while presence < `absent_below`; after
`after_s` seconds of that, attract starts; it ends as soon as presence reaches
`arrive_above`. The operator can also start or end it by key (`force`); a forced attract
also ends when someone arrives.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from installation.compositor.layers import LayerConfig
from installation.section import Section


class AttractConfig(Section):
    """The idle composition shown after a while with nobody there."""

    enabled: bool = True
    after_s: float = Field(60.0, ge=1.0, le=86_400.0, description="nobody there this long, s")
    absent_below: float = Field(
        0.2, ge=0.0, le=1.0, description="presence (0..1) below this counts as nobody there"
    )
    arrive_above: float = Field(
        0.4, gt=0.0, le=1.0, description="presence (0..1) above this ends attract at once"
    )
    fade_in_s: float = Field(3.0, ge=0.0, le=60.0, description="dissolve into attract, s")
    fade_out_s: float = Field(
        0.4, ge=0.0, le=1.0, description="dissolve back to interaction, s (at most 1 s)"
    )
    generator: Literal["eyes", "faces"] = Field(
        "eyes", description="generator for scenes that have none"
    )
    layers: list[LayerConfig] = Field(
        default_factory=lambda: [LayerConfig(source="gan")], min_length=1, max_length=8
    )

    @field_validator("arrive_above")
    @classmethod
    def _hysteresis(cls, v: float, info: ValidationInfo) -> float:
        if v < info.data.get("absent_below", 0.0):
            raise ValueError("must be at least absent_below (arrival needs more than absence)")
        return v


class AttractSchedule:
    """`update(presence, t)` once per frame (t in monotonic s) → whether attract is on."""

    def __init__(self, cfg: AttractConfig, t_start: float) -> None:
        self.cfg = cfg
        self.active = False
        # Nobody is there when the show starts: the wait for attract begins at once.
        self._absent_since: float | None = t_start
        self.changes = 0  # how often attract started or ended, for tests and the log

    def update(self, presence: float, t: float) -> bool:
        cfg = self.cfg
        if not cfg.enabled and not self.active:
            return False
        if presence >= cfg.arrive_above:
            self._absent_since = None
            self._set(False)
        elif presence < cfg.absent_below:
            if self._absent_since is None:
                self._absent_since = t
            if cfg.enabled and t - self._absent_since >= cfg.after_s:
                self._set(True)
        # In between: someone may be there; keep the state, restart no clock.
        return self.active

    def absent_for(self, t: float) -> float:
        """How long nobody has been there, s (0 while someone is)."""
        return 0.0 if self._absent_since is None else max(0.0, t - self._absent_since)

    def force(self, on: bool) -> None:
        """The operator's key: attract now, or back to interaction now."""
        self._set(on)

    def _set(self, on: bool) -> None:
        if on != self.active:
            self.active = on
            self.changes += 1
