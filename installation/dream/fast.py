"""The fast dream effect: a trained dream network on ONNX Runtime, like the style networks.

`fast-dream:NAME` in a scene runs `models/dream-NAME.onnx` (made by `train-dream`; the
shipped ones are pinned by sha256 in models/manifest.toml). The picture is reflect-padded
(bottom, right) to a multiple of 4 and the output cropped back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from installation.dream.config import NETWORK_NAME
from installation.errors import ModelError, UserError
from installation.models import ModelStore
from installation.pictures import resize_to
from installation.runtime import Network
from installation.runtime.network import TensorNetwork
from installation.stage import require_finite

if TYPE_CHECKING:
    import torch

MULTIPLE = 4  # H and W the networks take: multiples of this (two stride-2 steps)
KIND = "installation.fast-dream"  # metadata value that marks our dream networks


def available_networks(store: ModelStore) -> list[str]:
    """Names of the dream networks under models/ (shipped and trained here)."""
    return sorted(p.stem.removeprefix("dream-") for p in store.root.glob("dream-*.onnx"))


def network_path(store: ModelStore, name: str) -> Path:
    """`models/dream-NAME.onnx`, verified by its pinned sha256 when the project ships it
    (a file trained here is checked when its session opens: `DreamRunner`). One-line
    errors that say what to do."""
    if not NETWORK_NAME.match(name):
        raise UserError(f"fast dream network name {name!r}: use a-z, 0-9, '-' and '_'")
    shipped = f"dream-{name}"
    if shipped in store.manifest.models:
        return store.require(shipped)
    path = store.root / f"dream-{name}.onnx"
    if not path.is_file():
        have = ", ".join(available_networks(store)) or "none"
        raise UserError(
            f"fast dream network {name!r}: {path} not found (have: {have}); "
            f"train one with `python main.py train-dream --layers 6 --out {path}`")
    return path


class DreamRunner:
    """The network alone: RGB uint8 H×W×3 in, dreamt RGB uint8 out at the same size."""

    def __init__(self, network: Network, name: str = "") -> None:
        self.network = network
        self.input = network.inputs[0].name
        meta = network.metadata
        if meta.get("kind") != KIND:
            raise ModelError(f"fast dream network {name or '?'}: the file is not one made by "
                             "`python main.py train-dream`; retrain it or restore it")
        self.layers = meta.get("layers", "?")

    @staticmethod
    def preprocess(image: np.ndarray) -> np.ndarray:
        """1×3×H'×W' float32 0..255, H' and W' padded up to multiples of 4 (reflect)."""
        h, w = image.shape[:2]
        ph, pw = -h % MULTIPLE, -w % MULTIPLE
        if ph or pw:
            image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect")
        return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)

    def run(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        out = self.network.run({self.input: self.preprocess(image)})[0]
        # floor(x + 0.5): the graph already clamps to 0..255, but a clamp keeps a NaN,
        # which the cast would turn black: ValueError, and the frame passes through.
        picture = require_finite(out[0, :, :h, :w], "fast dream output")
        return (picture.transpose(1, 2, 0) + 0.5).astype(np.uint8)


class FastDreamEffect:
    """An `Effect`: the camera picture at the scene's size, dreamt by a trained network.
    On the torch engine also a `TensorPainter`: a chain (style, then this) then keeps the
    frame on the network's device."""

    def __init__(self, network: Network, name: str,
                 size: tuple[int, int]) -> None:
        self.net = DreamRunner(network, name)
        self.name = f"fast-dream:{name}"
        self.size = size  # (W, H) px
        self.torch_device: str | None = (network.torch_device
                                         if isinstance(network, TensorNetwork) else None)

    def paint_tensor(self, cam: torch.Tensor, t: float) -> torch.Tensor:
        """[1, 3, H, W] in [0, 1] on the network's device → dreamt, [1, 3, H, W] in [0, 1]
        there (the graph clamps to 0..255); `DreamRunner.run`'s steps as torch ops."""
        from installation.tensors import pad_to, require_finite

        network = self.net.network
        if not isinstance(network, TensorNetwork):
            raise RuntimeError(f"{self.name} does not run on torch tensors")
        h, w = cam.shape[2:]
        x = pad_to(cam * 255.0, h + (-h % MULTIPLE), w + (-w % MULTIPLE))
        out = network.run_tensors({self.net.input: x})[0][:, :, :h, :w]
        require_finite(out, "fast dream output")
        return out / 255.0

    scalable = True

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size

    def warm_up(self) -> None:
        w, h = self.size
        self.net.run(np.zeros((h, w, 3), np.uint8))

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        return self.net.run(resize_to(image, self.size))

    def step_style(self, delta: int, t: float) -> None:
        """Nothing to step: a network has one look."""

    def describe(self) -> str:
        return f"{self.name} ({self.net.layers})"
