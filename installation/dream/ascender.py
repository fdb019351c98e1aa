"""The live dream's gradient ascent as one network call: a picture and its settings in, the
dreamt picture out (the call's ports and their checks: ports.py, torch-free).

So the heavy half of the live dream (the ascent through the backbone, steps × octaves of
forward and backward passes) runs on the local torch device or is sent to a serving engine
like any other network, while the light half (the flow and the feedback, live.py) stays on
the display machine with its state.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from installation.dream.ascent import dream
from installation.dream.backbone import EfficientNetLite0, load_backbone_file
from installation.dream.config import DreamConfig
from installation.dream.ports import (
    BACKBONE,
    INPUTS,
    LIVE_DREAM,
    OUTPUTS,
    check_picture,
    read_settings,
    settings_vector,
)
from installation.models import ModelStore
from installation.runtime import Device, Network, beside_server, torch_device
from installation.runtime.network import EngineName, Precision
from installation.runtime.probes import probe_feeds


class DreamAscent:
    """A `Network`: the ascent through `net` (the backbone) on torch `device`."""

    engine: EngineName = "torch"
    precision: Precision = "fp32"

    def __init__(self, net: EfficientNetLite0, device: str = "cpu") -> None:
        self.net = net
        self.name = LIVE_DREAM
        self.torch_device = device
        self.inputs, self.outputs = list(INPUTS), list(OUTPUTS)

    @property
    def metadata(self) -> dict[str, str]:
        return {}

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        picture = feeds["picture"]
        check_picture(picture)
        cfg, seed = read_settings(feeds["settings"])
        x = torch.from_numpy(np.ascontiguousarray(picture)).to(self.torch_device)
        out = dream(self.net, x, cfg.weights(), cfg.steps, cfg.step_size, cfg.octaves,
                    cfg.octave_scale, cfg.jitter_px, seed=seed)
        return [out.detach().cpu().numpy()]

    def describe(self) -> str:
        return f"{LIVE_DREAM}: torch {self.torch_device} fp32 (EfficientNet-Lite0, gradient ascent)"


def probe(size: tuple[int, int], cfg: DreamConfig | None = None, seed: int = 1
          ) -> dict[str, np.ndarray]:
    """Feeds for measuring the ascent: the probe photo at `size` (W, H) and `cfg`'s settings
    (None: a scene's default dream)."""
    picture = probe_feeds(INPUTS[:1], 255.0, size)
    return {**picture, "settings": settings_vector(cfg or DreamConfig(), seed)}


def open_ascent(store: ModelStore, device: Device) -> Network:
    """The live dream's ascent on `device`'s torch device, its weights verified; sent to
    the serving engine when `device` has one (the local one standing by)."""
    where, path = torch_device(device), store.require(BACKBONE)
    return beside_server(DreamAscent(load_backbone_file(path, where), where), device, path)


def open_ascent_file(path: str | Path, device: str) -> DreamAscent:
    """The ascent with the backbone weights in the file at `path` (the serving side, which
    verified the file when it wrote its model repository)."""
    return DreamAscent(load_backbone_file(path, device), device)
