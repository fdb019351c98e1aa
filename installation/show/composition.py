"""The compose step: the picture to show now, from the painted frame and the moment.

    painted frame ─┐
    moment (walk, GAN picture, visitors, motion mask, attract) ─┴─► layers ─► dissolve ─► picture

Attract coming or going starts a dissolve (and the live dream's zoom); a scene change
starts one from the picture on screen (`cut`).
"""

from __future__ import annotations

import logging

import numpy as np

from installation.compositor import compose
from installation.compositor.dissolve import Dissolve
from installation.show.attract import AttractConfig
from installation.show.config import SceneConfig
from installation.show.interaction import Moment
from installation.show.scenes import SceneSet
from installation.slots import Frame

log = logging.getLogger(__name__)


class Composition:
    """Composes each turn; `attract_changed` says attract came or went since last asked."""

    def __init__(self, scenes: SceneSet, t0: float) -> None:
        self.scenes = scenes
        self.t0 = t0  # the show's start, monotonic s: layer animation runs from it
        self.dissolve = Dissolve()
        self.attract = False
        self.attract_changed = False
        self._gan_seq = 0

    def cut(self, on_screen: np.ndarray | None, t: float, fade_s: float) -> None:
        """A new scene: dissolve from the picture on screen over `fade_s` s."""
        self.dissolve.start(on_screen, t, fade_s)

    def step(self, frame: Frame, moment: Moment | None, scene: SceneConfig,
             attract_cfg: AttractConfig, on_screen: np.ndarray | None, t: float,
             fresh: bool) -> np.ndarray | None:
        """The picture to show at `t` (monotonic s), or None when nothing in it changed."""
        m = moment
        attract = m is not None and m.attract
        if attract != self.attract:
            self.attract, self.attract_changed = attract, True
            fade = attract_cfg.fade_in_s if attract else attract_cfg.fade_out_s
            self.dissolve.start(on_screen, t, fade)
            log.info("attract mode %s", "on: nobody there" if attract else "off: welcome")
            self.scenes.set_attract(attract)
        gan_seq = m.gan.seq if m is not None and m.gan is not None else 0
        if not (fresh or gan_seq != self._gan_seq or self.dissolve.active):
            return None
        self._gan_seq = gan_seq
        if m is None:
            picture = frame.image
        else:
            layers = (scene.attract_layers or attract_cfg.layers) if m.attract else scene.layers
            # Presence strengthens the generated layers (not in attract: it is all there is).
            gain = 1.0 if m.attract or m.walk is None else m.walk.intensity
            mask = m.signals.mask if m.signals.mask.size > 1 else None
            gan = m.gan.image if m.gan is not None else None
            picture = compose(layers, frame.image, gan, mask, t - self.t0, gain,
                              visitors=m.visitors, raw=frame.captured)
        return self.dissolve.apply(picture, t)
