"""The scene set: the one owner of the show's effects.

Every scene's effect (and the effect that paints its generated picture, if it has one) is
built and warmed up here at start — fail at start-up, never mid-show — and nowhere else.
A live edit builds the effects of new and changed scenes with `prepare` (off the loop: a
big edit never freezes the picture) and the loop swaps them in between frames with
`adopt`; out of GPU memory, `to_cpu` builds them all again on the CPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from installation.effects import Loaded, build_effect
from installation.effects.adaptive import ResolutionController
from installation.effects.base import Attractable, Effect
from installation.models import ModelStore
from installation.runtime import Device, choose_device
from installation.show.config import Config, SceneConfig

log = logging.getLogger(__name__)


@dataclass
class Built:
    """Effects made for a new config, not yet in use; `generation`: the scene set's when
    the building began (a move to the CPU since makes them stale)."""

    effects: dict[str, Effect] = field(default_factory=dict)
    painters: dict[str, Effect] = field(default_factory=dict)
    generation: int = 0


class SceneSet:
    """Effects, GAN painters and processing-size controllers, by scene name."""

    def __init__(self, cfg: Config, device: Device, store: ModelStore) -> None:
        self.device = device
        self.store = store
        self._loaded: Loaded = {}  # models by name, shared by every scene (and reloads)
        self.generation = 0  # bumped by the move to the CPU: effects built before are stale
        built = self.prepare(cfg, cfg.scenes)
        self.effects: dict[str, Effect] = built.effects
        # Own instances, run in the GAN thread. One dict for the life of the show (the
        # interaction reads it): its contents are swapped, never the dict.
        self.painters: dict[str, Effect] = built.painters
        # Adaptive resolution: one controller per scene whose effect gets cheaper smaller.
        self.controllers = self._controllers(cfg)

    def prepare(self, cfg: Config, scenes: list[SceneConfig]) -> Built:
        """The effects (and GAN painters) of `scenes`, built and warmed up. Raises ModelError
        or UserError in one line. Safe beside the loop: it only adds to the shared model
        cache (a model loaded once serves every scene), and replaces nothing in use."""
        # One look at the device and the loaded models: a move to the CPU meanwhile (on
        # the loop) leaves this build whole, and stale by its generation.
        device, loaded, built = self.device, self._loaded, Built(generation=self.generation)
        for s in scenes:
            built.effects[s.name] = build_effect(s, cfg.style, device, self.store, loaded)
            if s.paint_gan and s.has_gan and s.painter:
                built.painters[s.name] = build_effect(s, cfg.style, device, self.store,
                                                      loaded, (s.painter,))
        return built

    def stale(self, built: Built) -> bool:
        """Whether `built` was made before the last move to the CPU (build it again)."""
        return built.generation != self.generation

    def adopt(self, cfg: Config, built: Built, adaptive_changed: bool) -> None:
        """Swap in a new config's effects (between frames). Scenes not rebuilt keep theirs,
        and their current processing size unless [adaptive] changed."""
        self.effects = {s.name: built.effects.get(s.name) or self.effects[s.name]
                        for s in cfg.scenes}
        kept = {name: p for name, p in self.painters.items()
                if name not in built.effects and name in self.effects}
        self._swap_painters({**kept, **built.painters})
        fresh = self._controllers(cfg)
        self.controllers = {
            name: self.controllers[name] if name in self.controllers
            and name not in built.effects and not adaptive_changed else c
            for name, c in fresh.items()}

    def to_cpu(self, cfg: Config) -> bool:
        """Every effect built again on the CPU (out of GPU memory even at the smallest
        size: slower, but the show goes on). False when already on the CPU."""
        if self.device.kind == "cpu":
            return False
        self.device = choose_device("cpu", threads=self.device.threads)
        self._loaded = {}
        self.generation += 1
        built = self.prepare(cfg, cfg.scenes)
        self.effects = built.effects
        self._swap_painters(built.painters)
        self.controllers = self._controllers(cfg)
        return True

    def _swap_painters(self, painters: dict[str, Effect]) -> None:
        """New contents for the one painters dict (the GAN thread reads it by scene)."""
        for name in [n for n in self.painters if n not in painters]:
            del self.painters[name]
        self.painters.update(painters)

    def set_attract(self, on: bool) -> None:
        """The live dream zooms while nobody is there."""
        for effect in self.effects.values():
            if isinstance(effect, Attractable):
                effect.set_attract(on)

    def _controllers(self, cfg: Config) -> dict[str, ResolutionController]:
        """A processing-size controller per scene whose effect scales: with adaptive
        resolution on, and always on a GPU (running out of memory steps the size down)."""
        return {s.name: ResolutionController(cfg.adaptive, s.size) for s in cfg.scenes
                if (cfg.adaptive.target_fps > 0 or self.device.kind == "cuda")
                and self.effects[s.name].scalable}
