"""What the offline commands share: sizes from the command line, the scene a command
measures, and a config quiet enough to run beside a live show."""

from __future__ import annotations

from typing import Any

import numpy as np

from installation.compositor.layers import PLAIN
from installation.errors import UserError
from installation.show.config import Config, SceneConfig


def parse_size(text: str, flag: str = "--size") -> tuple[int, int]:
    """"WxH" from the command line as (W, H), px; UserError (one line, naming `flag`)
    unless both sides are within 32..3840 x 32..2160."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"{flag} {text!r}: give WxH, e.g. 320x180") from None
    if not (32 <= w <= 3840 and 32 <= h <= 2160):
        raise UserError(f"{flag} {text}: sides must be 32..3840 x 32..2160 px")
    return w, h


def named_scene(cfg: Config, name: str) -> SceneConfig:
    """The scene called `name` (--scene); UserError (one line) when there is none."""
    try:
        return cfg.scene(name)
    except KeyError:
        raise UserError(f"--scene {name!r}: no such scene in the config") from None


def measured_scene(cfg: Config, name: str | None, size: tuple[int, int] | None = None,
                   temporal: str | None = None) -> SceneConfig:
    """The scene measured at `size` (None: its own): --scene as configured, or else the
    first style scene's style alone (no generated layers); temporal stabilisation "on",
    "off", or None as configured."""
    update: dict[str, Any] = {} if size is None else {"size": size}
    if name is None:
        scene = next((s for s in cfg.scenes if "style" in s.chain), cfg.scenes[0])
        update.update(effect="style", generator="none", layers=[PLAIN], paint_gan=False)
    else:
        scene = named_scene(cfg, name)
    # One style, fixed: the measurement is of speed or steadiness, not of crossfades.
    update["styles"] = scene.styles[:1]
    if temporal is not None:
        update["temporal"] = scene.temporal.model_copy(update={"enabled": temporal == "on"})
    return scene.model_copy(update=update)


def quiet(cfg: Config) -> Config:
    """`cfg` for a measuring run beside a running show: no OSC or status listener (their
    ports are taken), nothing sent out or taken from a controller, no playlist moving
    scenes, no automatic recording."""
    return cfg.model_copy(update={
        "osc": cfg.osc.model_copy(update={"enabled": False, "send_to": []}),
        "midi": cfg.midi.model_copy(update={"enabled": False}),
        "status": cfg.status.model_copy(update={"enabled": False}),
        "playlist": cfg.playlist.model_copy(update={"enabled": False}),
        "headless": cfg.headless.model_copy(update={"record": False}),
    })


def bench_config(cfg: Config, scene: SceneConfig) -> Config:
    """The config measured: the one scene, attract off, a plain window without vsync."""
    return quiet(cfg).model_copy(update={
        "scenes": [scene], "start_scene": scene.name,
        "attract": cfg.attract.model_copy(update={"enabled": False}),  # the scene, measured
        "display": cfg.display.model_copy(update={"fullscreen": False, "vsync": False}),
        "adaptive": cfg.adaptive.model_copy(update={"target_fps": 0.0}),  # a fixed size
    })


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile of `values` (0 when there are none)."""
    return float(np.percentile(values, q)) if values else 0.0
