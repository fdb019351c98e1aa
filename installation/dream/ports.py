"""The live dream's ascent as the wire sees it (ascender.py runs it): its name, its ports
and their element types, and the checks of what a call carries. Torch-free, so the
serving side can declare and check the call without loading torch in its launcher.

Ports, in the wire's order:
  - `picture`: 1×3×H×W float32, 0..255 (RGB);
  - `settings`: SETTINGS float64: steps, step_size, octaves, octave_scale, jitter_px, seed,
    then each of the backbone's BLOCKS blocks' weight in the objective (0: not in it);
  - out `dream`: 1×3×H×W float32, 0..255.
float64, so a seed stays exact for any run length (a frame count: float32 would round it
after 6 days at 30 frames/s). A server checks what it is sent as a scene is checked: the
settings by DreamConfig (no 10⁹ steps for one client), the picture's sides by a scene's
size bounds (MAX_SIDES; each octave is dreamt at 32 px a side at least, so a 1-px-tall
strip of a 4K picture's pixels would cost 32 times its size: sides are bounded, not the
pixel count).
"""

from __future__ import annotations

import numpy as np
from pydantic import ValidationError

from installation.dream.config import BLOCKS, DreamConfig
from installation.runtime.network import Port

LIVE_DREAM = "live-dream"  # the network's name: in the log, on the server, in its metrics
BACKBONE = "dream-backbone"  # its weights' model name in the manifest
HEAD = ("steps", "step_size", "octaves", "octave_scale", "jitter_px")  # then the seed
SEED = len(HEAD)
SETTINGS = SEED + 1 + BLOCKS  # the settings vector's length
MAX_SIDES = (3840, 2160)  # (W, H) px: the largest scene's (4K UHD), as a scene is bounded


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
        raise ValueError(f"settings: seed {seed} is not a whole number in 0..2^53-1")
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
    """ValueError unless `picture` is one 1×3×H×W float32 picture with sides within
    MAX_SIDES (at least 1 px: adaptive resolution may shrink a scene far)."""
    if picture.dtype != np.float32 or picture.ndim != 4 or picture.shape[:2] != (1, 3):
        raise ValueError(f"picture: {picture.dtype} {picture.shape}, not float32 1x3xHxW")
    h, w = picture.shape[2:]
    if not (1 <= w <= MAX_SIDES[0] and 1 <= h <= MAX_SIDES[1]):
        raise ValueError(f"picture: {w}x{h} px; sides 1..{MAX_SIDES[0]} x "
                         f"1..{MAX_SIDES[1]} px")


# The ports and their element types (a serving engine's model config is written from these).
INPUTS = [Port("picture", (1, 3, "height", "width")), Port("settings", (SETTINGS,))]
OUTPUTS = [Port("dream", (1, 3, "height", "width"))]
INPUT_TYPES, OUTPUT_TYPES = (np.float32, np.float64), (np.float32,)
