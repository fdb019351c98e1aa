"""The fast dream network: one feed-forward pass that paints a dream onto a picture.

Trained (`train.py`) to raise the same objective as the live dream (`ascent.objective`)
while staying close to the picture, so it runs in milliseconds on ONNX Runtime where the
live dream needs many forward and backward passes of the backbone.

Shape: a full-resolution stem, two stride-2 convolutions down to 1/4 size, depthwise-
separable residual blocks there (cheap: most of the look lives at that scale), and two
bilinear ×2 steps back up, each joined by the features of its own resolution (so the
strokes can be finer than 4 px). The output is the input plus `amplitude` × tanh(...),
clamped to 0..255: a zero last layer is the identity, which is where training starts.
Input and output: N×3×H×W float32 RGB 0..255, H and W multiples of 4.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

from installation.dream.fast import KIND, MULTIPLE
from installation.errors import ModelError

OPSET = 17  # as the rest of the project's ONNX files
PARITY = 1e-3  # largest accepted |ONNX − torch| on the 0..255 scale


def _separable(c: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c, c, 3, 1, 1, groups=c), nn.Conv2d(c, c, 1), nn.ReLU(),
        nn.Conv2d(c, c, 3, 1, 1, groups=c), nn.Conv2d(c, c, 1),
    )


class FastDreamNet(nn.Module):
    """Picture in, dreamt picture out (see the module docstring for the shape)."""

    def __init__(self, width: int = 32, blocks: int = 4, amplitude: float = 80.0) -> None:
        super().__init__()
        self.width, self.n_blocks, self.amplitude = width, blocks, amplitude
        self.stem = nn.Conv2d(3, 8, 3, 1, 1)
        self.down1 = nn.Conv2d(8, 16, 3, 2, 1)
        self.down2 = nn.Conv2d(16, width, 3, 2, 1)
        self.blocks = nn.ModuleList(_separable(width) for _ in range(blocks))
        self.up1 = nn.Conv2d(width, 16, 1)
        self.up1_mix = nn.Conv2d(16, 16, 3, 1, 1, groups=16)
        self.up2 = nn.Conv2d(16, 8, 1)
        self.head = nn.Conv2d(8, 3, 3, 1, 1)
        nn.init.zeros_(self.head.weight)  # start as the identity
        nn.init.zeros_(self.head.bias)  # type: ignore[arg-type]  # it has one

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = (x - 127.5) / 127.5
        full = F.relu(self.stem(y))
        half = F.relu(self.down1(full))
        y = F.relu(self.down2(half))
        for block in self.blocks:
            y = y + block(y)
        y = F.interpolate(self.up1(y), scale_factor=2.0, mode="bilinear", align_corners=False)
        y = F.relu(self.up1_mix(y + half))
        y = F.interpolate(self.up2(y), scale_factor=2.0, mode="bilinear", align_corners=False)
        y = self.head(F.relu(y + full))
        return (x + self.amplitude * torch.tanh(y)).clamp(0.0, 255.0)


def export_onnx(net: FastDreamNet, out: Path, meta: Mapping[str, str],
                size: tuple[int, int] = (320, 180), seed: int = 0) -> float:
    """Write `net` to `out` (H and W free), `meta` in its metadata; returns the largest
    |ONNX − torch| over a few pictures of `size` (W, H) and others. ModelError when the
    export fails or the difference reaches `PARITY` (nothing is kept then)."""
    net = net.eval()
    w, h = size
    sample = torch.zeros(1, 3, h, w)
    partial = out.with_name(out.name + ".partial")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter says it is legacy
            torch.onnx.export(
                net, (sample,), partial, input_names=["image"], output_names=["dreamt"],
                dynamic_axes={"image": {2: "height", 3: "width"},
                              "dreamt": {2: "height", 3: "width"}},
                opset_version=OPSET, do_constant_folding=False, dynamo=False,
            )
        model = onnx.load(str(partial))
        onnx.helper.set_model_props(model, {"kind": KIND, **meta,
                                            "width": str(net.width),
                                            "blocks": str(net.n_blocks),
                                            "amplitude": f"{net.amplitude:g}"})
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, str(partial))
        worst = parity(net, partial, size, seed)
        if worst < PARITY:
            partial.replace(out)
    except ModelError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:
        partial.unlink(missing_ok=True)
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"fast dream export to {out} failed ({first[:160]})") from None
    if not worst < PARITY:
        partial.unlink(missing_ok=True)
        raise ModelError(f"fast dream export to {out}: ONNX differs from torch by "
                         f"{worst:.2e} (allowed < {PARITY:.0e}); nothing was kept")
    return worst


def parity(net: FastDreamNet, path: Path, size: tuple[int, int] = (320, 180),
           seed: int = 0) -> float:
    """Largest |ONNX Runtime (CPU) − torch| over random pictures at `size` and two others."""
    from installation.runtime import choose_device, create_session

    session = create_session(path, choose_device("cpu"))
    rng = np.random.default_rng(seed)
    w, h = size
    worst = 0.0
    for sh, sw in ((h, w), (h // 2 // MULTIPLE * MULTIPLE, w // 2 // MULTIPLE * MULTIPLE),
                   (64, 96)):
        x = rng.uniform(0, 255, (1, 3, max(sh, MULTIPLE), max(sw, MULTIPLE)))
        x = x.astype(np.float32)
        with torch.no_grad():
            expected = net(torch.from_numpy(x)).numpy()
        got = session.run(None, {"image": x})[0]
        if got.shape != expected.shape:
            return float("inf")
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def read_meta(path: Path) -> dict[str, str]:
    """The metadata of a fast dream network file; ModelError when it is not one."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise ModelError(f"fast dream network {path} cannot be read ({exc}); "
                         "retrain it or restore it from git") from None
    meta = {p.key: p.value for p in model.metadata_props}
    if meta.get("kind") != KIND:
        raise ModelError(f"{path} is not a fast dream network (made by `python main.py "
                         "train-dream`)")
    return meta


def from_onnx(path: Path) -> FastDreamNet:
    """The torch network rebuilt from an exported file's weights (for parity checks)."""
    meta = read_meta(path)
    net = FastDreamNet(int(meta["width"]), int(meta["blocks"]), float(meta["amplitude"]))
    model = onnx.load(str(path))
    weights = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
               for t in model.graph.initializer}
    state = {k: weights[k] for k in net.state_dict() if k in weights}
    missing = set(net.state_dict()) - set(state)
    if missing:
        raise ModelError(f"{path}: weights {sorted(missing)[:3]} not found in the file")
    net.load_state_dict(state, strict=True)
    return net.eval()
