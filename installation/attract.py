"""Attract mode: when nobody has been there for a while, the piece shows an idle composition.

A small state machine on the presence signal (0..1), with hysteresis so a flickering
presence does not flip it: nobody counts as there while presence < `absent_below`; after
`after_s` seconds of that, attract starts; it ends as soon as presence reaches
`arrive_above`. The operator can also start or end it by key (`force`); a forced attract
also ends when someone arrives.
"""

from __future__ import annotations

from installation.config import AttractConfig


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
