"""DeepDream's core: gradient ascent on a picture to amplify what chosen layers see.

The objective is the weighted mean square of the activations of some of the backbone's
blocks; each step rolls the picture by a random jitter (so the pattern does not lock to
the network's stride grid), takes the gradient with respect to the pixels, normalises it
by its mean magnitude (so `step_size` is in grey levels whatever the layer), steps, and
rolls back. Octaves dream a small copy first and carry the detail up, so patterns grow at
several scales. Pictures are float tensors N×3×H×W, pixels 0..255, RGB.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from installation.dream.backbone import EfficientNetLite0


def to_tensor(picture: np.ndarray) -> torch.Tensor:
    """An H×W×3 picture (uint8 or float, 0..255) as a 1×3×H×W float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(picture.transpose(2, 0, 1)))[None].float()


def objective(net: EfficientNetLite0, picture: torch.Tensor,
              layers: Mapping[int, float]) -> torch.Tensor:
    """Σ weight × mean(activation²) over `layers` (block index → weight), a scalar."""
    feats = net.blocks(net.normalize(picture), upto=max(layers))
    return sum((w * feats[i].pow(2).mean() for i, w in layers.items()),
               start=torch.zeros((), device=picture.device))


def ascent_step(net: EfficientNetLite0, picture: torch.Tensor, layers: Mapping[int, float],
                step_size: float, jitter_px: int, rng: np.random.Generator) -> torch.Tensor:
    """One jittered, normalised gradient step: a new picture (0..255), the input untouched."""
    oy, ox = (int(v) for v in rng.integers(-jitter_px, jitter_px + 1, 2)) if jitter_px else (0, 0)
    x = torch.roll(picture.detach(), (oy, ox), (2, 3)).requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(net, x, layers), x)
    grad = grad / (grad.abs().mean() + 1e-8)  # mean step of `step_size` grey levels
    with torch.no_grad():
        x = (x + step_size * grad).clamp_(0.0, 255.0)
    return torch.roll(x, (-oy, -ox), (2, 3))


def dream(net: EfficientNetLite0, picture: torch.Tensor, layers: Mapping[int, float],
          steps: int, step_size: float = 6.0, octaves: int = 2, octave_scale: float = 1.4,
          jitter_px: int = 8, seed: int = 0) -> torch.Tensor:
    """`steps` ascent steps at each of `octaves` scales, smallest first; detail carried up.

    Octave k (0 = full size) works at 1 / octave_scale^k of the size, never below 32 px.
    """
    rng = np.random.default_rng(seed)
    h, w = picture.shape[-2:]
    sizes = []
    for k in range(octaves - 1, -1, -1):
        s = octave_scale ** k
        sizes.append((max(32, round(h / s)), max(32, round(w / s))))
    base = picture.detach()
    detail = torch.zeros_like(F.interpolate(base, size=sizes[0], mode="bilinear",
                                            align_corners=False))
    for size in sizes:
        scaled = F.interpolate(base, size=size, mode="bilinear", align_corners=False)
        if detail.shape[-2:] != size:
            detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        x = (scaled + detail).clamp(0.0, 255.0)
        for _ in range(steps):
            x = ascent_step(net, x, layers, step_size, jitter_px, rng)
        detail = x - scaled
    if detail.shape[-2:] != (h, w):  # a picture under 32 px: the octaves were larger
        detail = F.interpolate(detail, size=(h, w), mode="bilinear", align_corners=False)
    return (base + detail).clamp(0.0, 255.0)
