"""The playlist: scenes in order with durations, cycled automatically (crossfading through
the compositor's scene dissolve), held for a while after an operator picks a scene by hand,
and an attract scene for when nobody is there.

`Playlist` only decides (which scene, when); the show changes scenes. Times are monotonic
seconds.
"""

from __future__ import annotations

from pydantic import Field

from installation.section import Section


class PlaylistEntry(Section):
    scene: str = Field(min_length=1, description="a scene's name")
    duration_s: float = Field(120.0, gt=0.0, le=86_400.0, description="how long it shows, s")


class PlaylistConfig(Section):
    """`[playlist]`: automatic scene cycling."""

    enabled: bool = False
    entries: list[PlaylistEntry] = Field(
        default_factory=list, max_length=256,
        description="scenes in order with durations; [] = every scene, each duration_s",
    )
    duration_s: float = Field(120.0, gt=0.0, le=86_400.0,
                              description="each scene's time when entries is empty, s")
    manual_hold_s: float = Field(
        60.0, ge=0.0, le=86_400.0,
        description="after the operator picks a scene (keys, OSC), cycling waits this long, s",
    )
    attract_scene: str = Field("", description="scene shown in attract mode; '' = stay")


class Playlist:
    """Which scene should show when (see the module docstring)."""

    def __init__(self, cfg: PlaylistConfig, scenes: list[str], current: str, t: float) -> None:
        self.cfg = cfg
        self.order = [(e.scene, e.duration_s) for e in cfg.entries] or \
            [(name, cfg.duration_s) for name in scenes]
        names = [name for name, _ in self.order]
        self.index = names.index(current) if current in names else 0
        self.since = t  # when the current scene started showing, s
        self.held_until = float("-inf")
        self._before_attract: str | None = None
        self._off_list = current not in names  # showing a scene the list does not name

    def carry(self, old: Playlist) -> Playlist:
        """Keep `old`'s hold and attract state (a live config edit rebuilt the playlist)."""
        self.held_until, self._before_attract = old.held_until, old._before_attract
        self.since = old.since
        return self

    @property
    def scene(self) -> str:
        return self.order[self.index][0]

    def due(self, t: float, current: str) -> str | None:
        """The scene to change to now, or None (not enabled, held, attract, time not up)."""
        if not self.cfg.enabled or t < self.held_until or self._before_attract is not None:
            return None
        if current != self.scene and not self._off_list:  # somebody else moved: follow
            self._follow(current, t)
            return None
        # A scene off the list counts as the current entry's slot: the next one follows.
        if t - self.since < self.order[self.index][1]:
            return None
        self.index = (self.index + 1) % len(self.order)
        self.since = t
        self._off_list = False
        return self.scene if self.scene != current else None

    def manual(self, scene: str, t: float) -> None:
        """The operator picked `scene`: cycling holds for manual_hold_s, then goes on from it."""
        self.held_until = t + self.cfg.manual_hold_s
        self._follow(scene, t)

    def attract(self, on: bool, current: str) -> str | None:
        """Attract starts (the attract scene, remembering this one) or ends (back to it)."""
        target = self.cfg.attract_scene
        if not target:
            return None
        if on:
            self._before_attract = current
            return target if target != current else None
        back, self._before_attract = self._before_attract, None
        return back if back is not None and back != current else None

    def _follow(self, scene: str, t: float) -> None:
        names = [name for name, _ in self.order]
        self._off_list = scene not in names
        if not self._off_list:
            self.index = names.index(scene)
        self.since = t
