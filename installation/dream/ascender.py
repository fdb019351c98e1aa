"""The live dream's gradient ascent as one network call: a picture and its settings in, the
dreamt picture out.

So the heavy half of the live dream (the ascent through the backbone, steps × octaves of
forward and backward passes) runs on the local torch device or is sent to a serving engine
like any other network, while the light half (the flow and the feedback, live.py) stays on
the display machine with its state.

Ports, in the wire's order:
  - `picture`: 1×3×H×W float32, 0..255 (RGB);
  - `settings`: SETTINGS float64: steps, step_size, octaves, octave_scale, jitter_px, seed,
    then each of the backbone's BLOCKS blocks' weight in the objective (0: not in it);
  - out `dream`: 1×3×H×W float32, 0..255.
float64, so a seed stays exact for any run length (a frame count: float32 would round it
after 6 days at 30 frames/s). A server checks what it is sent as a scene's settings are
checked (DreamConfig: no 10⁹ steps for one client) and bounds the picture (MAX_PIXELS).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from pydantic import ValidationError

from installation.dream.ascent import dream
from installation.dream.backbone import EfficientNetLite0, load_backbone_file
from installation.dream.config import BLOCKS, DreamConfig
from installation.models import ModelStore
from installation.runtime import Device, Network, Port, beside_server, torch_device
from installation.runtime.network import EngineName, Precision
from installation.runtime.probes import probe_feeds

LIVE_DREAM = "live-dream"  # the network's name: in the log, on the server, in its metrics
BACKBONE = "dream-backbone"  # its weights' model name in the manifest
HEAD = ("steps", "step_size", "octaves", "octave_scale", "jitter_px")  # then the seed
SEED = len(HEAD)
SETTINGS = SEED + 1 + BLOCKS  # the settings vector's length
MAX_PIXELS = 3840 * 2160  # the largest picture dreamt in one call (4K UHD)


def settings_vector(cfg: DreamConfig, seed: int) -> np.ndarray:
    """`cfg`'s ascent settings and `seed` as the `settings` input."""
    vec = np.zeros(SETTINGS, np.float64)
    vec[:SEED] = [float(getattr(cfg, f)) for f in HEAD]
    vec[SEED] = seed
    for block, weight in cfg.weights().items():
        vec[SEED + 1 + block] = weight
    return vec


def read_settings(vec: np.ndarray) -> tuple[DreamConfig, int]:
    """The ascent settings and seed a `settings` input holds; ValueError naming what is
    wrong (the same bounds as a scene's `dream` settings)."""
    vec = np.asarray(vec, np.float64).reshape(-1)
    if vec.shape != (SETTINGS,):
        raise ValueError(f"settings: {vec.size} numbers, not {SETTINGS}")
    seed = vec[SEED]
    if not (np.isfinite(seed) and seed >= 0 and seed == np.floor(seed) and seed < 2**53):
        raise ValueError(f"settings: seed {seed} is not a whole number in 0..2^53")
    weights = vec[SEED + 1:]
    layers = {str(b): float(w) for b, w in enumerate(weights) if w != 0}  # NaN is kept
    fields = {f: _whole(vec[i]) if f in ("steps", "octaves", "jitter_px") else float(vec[i])
              for i, f in enumerate(HEAD)}
    try:
        cfg = DreamConfig.model_validate({"layers": layers, **fields})
    except ValidationError as exc:  # one line: the first thing wrong, and where
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"settings: {where}: {first['msg']}") from None
    return cfg, int(seed)


def _whole(v: float) -> int | float:
    """An integer setting as an int when it is one (the config then checks its range),
    else as it is (and refused there)."""
    return int(v) if np.isfinite(v) and v == np.floor(v) else float(v)


def check_picture(picture: np.ndarray) -> None:
    """ValueError unless `picture` is one 1×3×H×W float32 picture of at most MAX_PIXELS."""
    if picture.dtype != np.float32 or picture.ndim != 4 or picture.shape[:2] != (1, 3):
        raise ValueError(f"picture: {picture.dtype} {picture.shape}, not float32 1x3xHxW")
    h, w = picture.shape[2:]
    if not 0 < h * w <= MAX_PIXELS:
        raise ValueError(f"picture: {w}x{h} px; at most {MAX_PIXELS} px in one call")


# The ports and their element types (a serving engine's model config is written from these).
INPUTS = [Port("picture", (1, 3, "height", "width")), Port("settings", (SETTINGS,))]
OUTPUTS = [Port("dream", (1, 3, "height", "width"))]
INPUT_TYPES, OUTPUT_TYPES = (np.float32, np.float64), (np.float32,)


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
