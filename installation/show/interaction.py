"""The interactive half of the piece: visitors steer a latent walk, a GAN paints it.

    capture ──► perception thread (visitors) ─┬─► main loop: walk.step(dt) ──► GAN thread
            └─► motion thread (flow, mask) ───┘                 ──► newest picture

The main loop calls `update(t)` once per shown frame: it takes the newest visitors (and
motion signals: the motion mask, and the walk's signals when perception is off),
advances the current walk by the real time since the last call (so the walk does not
depend on the frame rate), hands its latent to the GAN thread (newest wins) and returns a
`Moment`: what the compositor needs for this frame. Attract mode is decided here too.

Each (scene, generator) pair has its own walk, created when first shown and paused while
another is on screen, so a scene comes back where it left off; the scene crossfade covers
the change from one walk to another.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from installation.capture.base import Source
from installation.effects.base import Effect
from installation.gan.renderer import (
    INTERPOLATIONS,
    MODELS,
    GanImage,
    GanRenderer,
    Generator,
    load_generator,
)
from installation.latent import LatentWalk, WalkInput, WalkState
from installation.models import ModelStore
from installation.motion import MotionSignals, MotionWorker
from installation.perception import Visitors
from installation.perception.worker import PerceptionWorker
from installation.runtime import Device
from installation.section import with_value
from installation.show.attract import AttractSchedule
from installation.show.config import Config, SceneConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Moment:
    """One frame's interactive state."""

    signals: MotionSignals
    attract: bool
    visitors: Visitors | None = None  # None: perception is off
    generator: str = ""  # "" when the composition on screen has no generator
    walk: WalkState | None = None
    gan: GanImage | None = None  # the newest picture of `generator` (None before the first)
    seed: int = 0


def walk_input(s: MotionSignals, v: Visitors | None = None) -> WalkInput:
    """What the walk follows: the visitors (`v`), or whole-picture motion (`s`) when
    perception is off."""
    if v is None:
        return WalkInput(energy=s.energy, centroid=s.centroid, direction=s.direction,
                         coherence=s.magnitude, presence=s.presence)
    return WalkInput(energy=v.energy, centroid=v.centroid, direction=v.direction,
                     coherence=v.coherence, presence=v.presence, crowd=v.crowd)


class Interaction:
    """Motion analysis, the walks, the GAN renderer and the attract schedule of one show.

    `painters` maps a scene name to the effect that paints its generated pictures (scenes
    with `paint_gan`); each is its own instance, since it runs in the GAN thread.
    """

    def __init__(self, cfg: Config, source: Source, device: Device, store: ModelStore,
                 painters: dict[str, Effect], scene: SceneConfig, t_start: float) -> None:
        self.cfg = cfg
        self.motion = MotionWorker(source, cfg.motion)
        self.perception = (PerceptionWorker(source, cfg.perception, store)
                           if cfg.perception.enabled else None)
        # Both generators load now (together well under a second): the operator's switch
        # key then never loads anything mid-show.
        self.generators: dict[str, Generator] = {
            name: load_generator(name, device, store) for name in MODELS  # type: ignore[arg-type]
        }
        self.renderer = GanRenderer(next(iter(self.generators.values())), scene.size,
                                    cfg.compositor.gan_interpolation)
        self.schedule = AttractSchedule(cfg.attract, t_start)
        # The scene set's own dict (one owner: it swaps its contents on a live edit and on
        # the move to the CPU); read here each frame, never replaced.
        self.painters = painters
        self.scene = scene
        self.walks: dict[tuple[str, str], LatentWalk] = {}
        self.restarts = {stage.stage: 0 for stage in self._stages()}  # watchdog restarts
        self.chosen: dict[str, str] = {}  # scene name → generator picked by key
        self._t: float | None = None

    def _stages(self) -> list[MotionWorker | PerceptionWorker | GanRenderer]:
        return [self.motion, *([] if self.perception is None else [self.perception]),
                self.renderer]

    def start(self) -> Interaction:
        for stage in self._stages():
            stage.start()
        return self

    def stop(self) -> None:
        for stage in self._stages():
            stage.stop()

    # -- operator -----------------------------------------------------------------------------

    def generator_for(self, scene: SceneConfig, attract: bool) -> str:
        """The generator shown for `scene` ("none" when it has none and attract is off)."""
        name = self.chosen.get(scene.name, scene.generator)
        return self.cfg.attract.generator if name == "none" and attract else name

    def switch_generator(self) -> str:
        """The next generator for the current scene (and its attract), by key."""
        names = list(MODELS)
        current = self.generator_for(self.scene, True)
        nxt = names[(names.index(current) + 1) % len(names)]
        self.chosen[self.scene.name] = nxt
        return nxt

    def force_attract(self, on: bool | None) -> None:
        """Attract now (True), back to interaction (False), or flipped (None): by operator."""
        self.schedule.force(not self.schedule.active if on is None else on)

    def reseed(self, seed: int | None = None) -> int:
        """Move the current walk to `seed` (None: the next one); it glides there. The seed."""
        walk = self.current_walk()
        walk.reseed(walk.seed + 1 if seed is None else seed)
        return walk.seed

    def current_walk(self) -> LatentWalk:
        """The walk of the current scene and its generator (made now if it was not yet)."""
        return self._walk(self.scene, self.generator_for(self.scene, attract=True))

    def reconfigure(self, cfg: Config, scene: SceneConfig, changed: set[str]) -> None:
        """A new config, live: walks of changed scenes (all of them with "*") start again
        under their new settings; attract's settings apply. (The painters are the scene
        set's: it has already swapped them.)"""
        self.cfg = cfg
        self.schedule.cfg = cfg.attract
        self.renderer.interpolation = INTERPOLATIONS[cfg.compositor.gan_interpolation]
        self.walks = {k: w for k, w in self.walks.items()
                      if "*" not in changed and k[0] not in changed}
        self.scene = scene

    def restart_stalled(self, now: float, limit_s: float, most: int) -> list[str]:
        """The watchdog for the motion and GAN threads, the effect's policy
        (`StageThread.watch`): a stage whose one call has run past `limit_s` s gets a fresh
        thread in place (the GAN's last picture kept), at most `most` times per stage; one
        that hangs again after that is left stalled (motion signals stay as they were, the
        last GAN picture stays). Returns the stages restarted."""
        restarted = []
        for stage in self._stages():
            if stage.watch(now, limit_s, most) is not None:
                self.restarts[stage.stage] = stage.restarts
                restarted.append(stage.stage)
        return restarted

    def errors(self) -> dict[str, int]:
        """Failures of the interactive threads so far, by stage."""
        return {stage.stage: stage.errors for stage in self._stages()}

    def failing(self) -> list[str]:
        """What the interactive threads cannot do right now, in words (for HUD, /health)."""
        out = []
        now, stall_s = time.monotonic(), self.cfg.watchdog.stall_s
        if self.motion.failing:
            out.append("motion analysis keeps failing: the walk rests")
        elif self.motion.stalled(now, stall_s):  # past its last restart: stalled for good
            out.append("motion analysis stalled: the walk rests")
        p = self.perception
        if p is not None and p.failing:
            out.append("perception keeps failing: the visitors rest")
        elif p is not None and p.stalled(now, stall_s):
            out.append("perception stalled: the visitors rest")
        if self.renderer.failing:
            out.append("the GAN keeps failing: its last picture stays")
        elif self.renderer.stalled(now, stall_s):
            out.append("the GAN stalled: its last picture stays")
        return out

    def tune_walk(self, field: str, value: float) -> None:
        """One walk setting changed live (OSC) on every walk; ValueError when out of range."""
        for walk in self.walks.values():
            walk.cfg = with_value(walk.cfg, field, value)

    # -- per frame ----------------------------------------------------------------------------

    def update(self, t: float) -> Moment:
        """Advance to monotonic time `t` (s) and say what to compose."""
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        signals = self.motion.latest()
        visitors = None if self.perception is None else self.perception.latest()
        presence = signals.presence if visitors is None else visitors.presence
        attract = self.schedule.update(presence, t)
        name = self.generator_for(self.scene, attract)
        if name == "none" or (not attract and not self.scene.has_gan):
            return Moment(signals, attract, visitors)
        walk = self._walk(self.scene, name)
        state = walk.step(dt, walk_input(signals, visitors))
        r = self.renderer
        generator = self.generators[name]
        if r.generator is not generator:
            r.swap(generator)
        r.output_size = self.scene.size
        r.paint = None if attract else self.painters.get(self.scene.name)
        r.submit(state.z, state.labels, stamp=t)
        _, image = r.slot.peek()
        if image is not None and image.generator != name:
            image = None  # made before a switch: the compositor waits for the new one
        return Moment(signals, attract, visitors, name, state, image, walk.seed)

    def _walk(self, scene: SceneConfig, generator: str) -> LatentWalk:
        key = (scene.name, generator)
        if key not in self.walks:
            labels = self.generators[generator].n_labels
            self.walks[key] = LatentWalk(self.cfg.walk_for(scene, labels))
        return self.walks[key]
