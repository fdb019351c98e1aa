"""The inputs a network is checked with before an engine other than the reference runs it,
and how far that engine's output may be from the reference's.

Pictures are a real photo (scikit-image's astronaut), not noise: a network's error on
noise says little about what visitors see. Free dimensions get the live size (320x180 by
default, the shipped scenes'); a caller that knows its scene's size passes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.runtime.network import Port, Precision

PROBE_SIZE = (320, 180)  # (W, H) px for free picture dimensions
SEED = 16  # seeds the latent and vector inputs: a failed check can be reproduced
GREY = 1.0 / 255.0  # one grey level, as a share of the output's span
# fp32 engines agree to 1e-3 of the output's span (one quarter of a grey level); bf16 and
# fp16 round every product to 8 or 11 bits: a mean under one grey level is invisible.
FP32_MAX = 1e-3
LOW_MEAN = 1.0  # grey levels
LOW_MAX = 64.0  # grey levels: a few pixels in a dark corner may flip; a broken build is
# off everywhere (its mean fails first)


def _photo(width: int, height: int) -> np.ndarray:
    from skimage import data

    return cv2.resize(np.ascontiguousarray(data.astronaut()), (width, height),
                      interpolation=cv2.INTER_AREA)


def _size(port: Port, dims: tuple[int, int]) -> tuple[int, ...]:
    """The port's shape with free dimensions filled: the last two of a picture take the
    (H, W) in `dims`, any other free one is 1."""
    out = []
    n = len(port.shape)
    for i, d in enumerate(port.shape):
        if isinstance(d, int):
            out.append(d)
        elif n == 4 and i == n - 2:
            out.append(dims[0])
        elif n == 4 and i == n - 1:
            out.append(dims[1])
        else:
            out.append(1)
    return tuple(out)


def probe_feeds(inputs: list[Port], picture_scale: float = 1.0,
                size: tuple[int, int] = PROBE_SIZE) -> dict[str, np.ndarray]:
    """One feed per input: pictures (rank 4 with 3 channels first or last) from the photo
    in [0, picture_scale]; a vector of weights (rank 1) even, summing to 1; anything else
    seeded standard normal, but a [1, k] input after a [1, 100] latent one-hot (labels)."""
    rng = np.random.default_rng(SEED)
    feeds: dict[str, np.ndarray] = {}
    for port in inputs:
        shape = _size(port, (size[1], size[0]))
        if len(shape) == 4 and 3 in (shape[1], shape[3]):
            nchw = shape[1] == 3
            h, w = (shape[2], shape[3]) if nchw else (shape[1], shape[2])
            pic = _photo(w, h).astype(np.float32) * np.float32(picture_scale / 255.0)
            feeds[port.name] = np.ascontiguousarray(pic.transpose(2, 0, 1)[None] if nchw
                                                    else pic[None])
        elif len(shape) == 1:
            feeds[port.name] = np.full(shape, 1.0 / shape[0], np.float32)
        elif len(shape) == 2 and shape[1] != 100 and feeds:
            onehot = np.zeros(shape, np.float32)
            onehot[0, 0] = 1.0
            feeds[port.name] = onehot
        else:
            feeds[port.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


@dataclass(frozen=True)
class Parity:
    """How far an engine's outputs are from the reference's, in grey levels of each
    output's span (the reference's max − min), the worst output counted."""

    mean: float
    max: float
    ok: bool
    limit: str  # the bound it was held to, in words

    def line(self) -> str:
        return f"mean {self.mean:.3f}, max {self.max:.2f} grey levels ({self.limit})"


def quantized(path: Path) -> bool:
    """Whether the model file holds int8 QDQ nodes: engines round those differently, so it
    is held to the bound of a low precision even in fp32."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return False
    return any(n.op_type == "QuantizeLinear" for n in model.graph.node)


def parity(reference: list[np.ndarray], got: list[np.ndarray], precision: Precision,
           int8: bool = False) -> Parity:
    """`got` against `reference` for an engine at `precision` (`int8`: a QDQ model)."""
    means, maxes = [0.0], [0.0]
    finite = True
    for ref, out in zip(reference, got, strict=True):
        if out.shape != ref.shape:
            return Parity(float("inf"), float("inf"), False, f"shape {out.shape} != {ref.shape}")
        finite = finite and bool(np.isfinite(out).all())
        span = max(float(ref.max() - ref.min()), 1e-6)
        diff = np.abs(out.astype(np.float64) - ref.astype(np.float64)) / (span * GREY)
        means.append(float(diff.mean()))
        maxes.append(float(diff.max()))
    mean, worst = max(means), max(maxes)
    if precision == "fp32" and not int8:
        limit = FP32_MAX / GREY
        return Parity(mean, worst, finite and worst <= limit,
                      f"fp32: max {limit:.3f} grey levels")
    ok = finite and mean < LOW_MEAN and worst <= LOW_MAX
    kind = "int8 model" if int8 else precision
    return Parity(mean, worst, ok, f"{kind}: mean < {LOW_MEAN:g}, max {LOW_MAX:g}")


def copy_outputs(outputs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs copied out of an engine's buffers (they are valid only until its next run)."""
    return [np.array(o, np.float32, copy=True) for o in outputs]
