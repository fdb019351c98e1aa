"""The scene set: the one owner of the show's effects.

Every scene's effect (and the effect that paints its generated picture, if it has one) is
built and warmed up here at start — fail at start-up, never mid-show — and nowhere else.
A live edit builds the effects of new and changed scenes with `prepare` (off the loop: a
big edit never freezes the picture) and the loop swaps them in between frames with
`adopt`; out of GPU memory, `to_cpu` builds them all again on the CPU.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np

from installation.effects import Loaded, build_effect, members, stabiliser_of
from installation.effects.adaptive import ResolutionController
from installation.effects.base import Attractable, Effect
from installation.errors import UserError
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

    def prepare(self, cfg: Config, scenes: list[SceneConfig], check: bool = True) -> Built:
        """The effects (and GAN painters) of `scenes`, built and warmed up, and (`check`)
        each run once on a test picture (`first_frame`). Raises ModelError or UserError in
        one line that names the scene, whatever went wrong. Safe beside the loop: it only
        adds to the shared model cache (a model loaded once serves every scene), and
        replaces nothing in use."""
        # One look at the device and the loaded models: a move to the CPU meanwhile (on
        # the loop) leaves this build whole, and stale by its generation.
        device, loaded, built = self.device, self._loaded, Built(generation=self.generation)
        for s in scenes:
            try:
                built.effects[s.name] = build_effect(s, cfg.style, device, self.store, loaded)
                if s.paint_gan and s.has_gan and s.painter:
                    built.painters[s.name] = build_effect(s, cfg.style, device, self.store,
                                                          loaded, (s.painter,))
            except UserError:
                raise
            except Exception as exc:  # out of memory, a runtime's refusal: one line
                raise UserError(f"scene '{s.name}': its effect cannot be built: "
                                f"{type(exc).__name__}: {_line(exc)}") from None
            if check:
                first_frame(s.name, built.effects[s.name], s.size)
                if s.name in built.painters:
                    first_frame(s.name, built.painters[s.name], s.size)
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
        self.device = dataclasses.replace(choose_device("cpu", threads=self.device.threads),
                                          remote=self.device.remote)
        self._loaded = {}
        self.generation += 1
        built = self.prepare(cfg, cfg.scenes, check=False)  # on the loop: built, not tried
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


def test_picture(size: tuple[int, int]) -> np.ndarray:
    """A picture to try an effect on: (W, H) px, RGB uint8, smooth ramps and a bright
    square (something to paint, no flat black a broken network could pass on)."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    picture = np.stack([xs * 255 // max(1, w - 1), ys * 255 // max(1, h - 1),
                        (xs + ys) * 255 // max(1, w + h - 2)], axis=-1).astype(np.uint8)
    picture[h // 3: 2 * h // 3, w // 3: 2 * w // 3] = 230
    return picture


def first_frame(scene: str, effect: Effect, size: tuple[int, int]) -> None:
    """Run a newly built `effect` once on a test picture at the scene's size `size`; the
    output must be a finite H×W×3 uint8 picture of that size. UserError naming the scene
    otherwise. What the effect remembers of the test picture is forgotten after."""
    w, h = size
    try:
        out = effect(test_picture(size), 0.0)
    except Exception as exc:  # whatever the effect raises: the edit is refused
        raise UserError(f"scene '{scene}': its first frame failed: "
                        f"{type(exc).__name__}: {_line(exc)}") from None
    finally:
        forget(effect)
    if not isinstance(out, np.ndarray):
        raise UserError(f"scene '{scene}': its first frame is a {type(out).__name__}, "
                        "not a picture")
    if out.shape != (h, w, 3) or out.dtype != np.uint8:
        raise UserError(f"scene '{scene}': its first frame is {out.dtype} "
                        f"{'x'.join(map(str, out.shape))}, not uint8 {h}x{w}x3")


def forget(effect: Effect) -> None:
    """Drop what `effect` carries from frame to frame (the dream, the stabiliser's last
    output), so the first live frame starts afresh."""
    parts: list[object] = [*members(effect), stabiliser_of(effect)]
    for part in parts:
        reset = getattr(part, "reset", None)
        if callable(reset):
            reset()


def _line(exc: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(exc).split()) or "no message"
    return text if len(text) <= 200 else text[:197] + "..."
