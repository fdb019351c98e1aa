"""Export the rebuilt GAN generators to ONNX, checked against torch before they are kept.

`models pull` calls `export_eyes` / `export_faces` (as the conversions "gan-eyes-to-onnx" and
"gan-faces-to-onnx" that models/manifest.toml names; installation/conversions.py binds them)
with the member extracted from the wheel and the path to write. The graph has batch 1 and fixed
shapes: eyes take `z` [1,100] and `labels` [1,8], faces take `z` [1,100]; both give
`image` [1,3,H,W] in [−1,1]. A file whose output differs from torch by 1e-3 or more on
seeded random inputs is deleted and the pull stops with a ModelError naming the model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx.external_data_helper import uses_external_data
from torch import nn

from installation.errors import ModelError
from installation.gan.generators import (
    EyeGenerator,
    load_eye_generator,
    load_face_generator,
)
from installation.gan.labels import LATENT_DIM
from installation.runtime import choose_device, create_session

OPSET = 17  # the opset the rest of the project's ONNX files use
TOLERANCE = 1e-3  # max abs difference ONNX vs torch, in output units ([−1,1] scale)
CHECK_SEED = 1234  # seeds the parity inputs, so a failure can be reproduced
CHECK_SAMPLES = 4  # random inputs per parity check


class _EyesOnnx(nn.Module):
    """The exported graph's signature: two flat inputs, concatenated inside."""

    def __init__(self, net: EyeGenerator) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(z, labels)
        return out


def export_eyes(source: Path, out: Path) -> None:
    """Write the eye generator (state dict at `source`) to `out` as ONNX, parity-checked."""
    net = _EyesOnnx(load_eye_generator(source))
    gen = torch.Generator().manual_seed(CHECK_SEED)
    n_classes = net.net.n_classes
    samples = []
    for i in range(CHECK_SAMPLES):
        z = torch.randn(1, LATENT_DIM, generator=gen)
        if i < CHECK_SAMPLES - 1:  # pure classes, then one blend of all classes
            label = torch.zeros(1, n_classes)
            label[0, int(torch.randint(n_classes, (1,), generator=gen))] = 1.0
        else:
            label = torch.softmax(torch.randn(1, n_classes, generator=gen), dim=1)
        samples.append((z, label))
    _export("gan-eyes", net, ("z", "labels"), samples, out)


def export_faces(source: Path, out: Path) -> None:
    """Write the face generator (weights.tar at `source`) to `out` as ONNX, parity-checked."""
    net = load_face_generator(source)
    gen = torch.Generator().manual_seed(CHECK_SEED)
    samples = [(torch.randn(1, LATENT_DIM, generator=gen),) for _ in range(CHECK_SAMPLES)]
    _export("gan-faces", net, ("z",), samples, out)


def _export(
    name: str,
    net: nn.Module,
    input_names: Sequence[str],
    samples: Sequence[tuple[torch.Tensor, ...]],
    out: Path,
) -> None:
    """Trace `net` on the first sample, write one self-contained file, check all samples."""
    net.eval()
    # The TorchScript exporter (dynamo=False): fixed shapes need nothing more, and the
    # torch.export path would add the onnxscript dependency. It warns that it is legacy.
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                net,
                samples[0],
                out,
                input_names=list(input_names),
                output_names=["image"],
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as exc:
        out.unlink(missing_ok=True)
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"model {name}: torch → ONNX export failed ({first[:160]})") from None
    try:
        _check_file(name, out)
        worst = _parity(net, input_names, samples, out)
    except Exception:
        out.unlink(missing_ok=True)
        raise
    if not worst < TOLERANCE:
        out.unlink(missing_ok=True)
        raise ModelError(
            f"model {name}: ONNX output differs from torch by {worst:.2e} "
            f"(allowed < {TOLERANCE:.0e}); the export is wrong, nothing was kept"
        )


def _check_file(name: str, path: Path) -> None:
    """A valid graph with every weight inline: one file, nothing beside it to lose."""
    model = onnx.load(str(path), load_external_data=False)
    if any(uses_external_data(t) for t in model.graph.initializer):
        raise ModelError(f"model {name}: export wrote weights outside {path.name}")
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:
        raise ModelError(f"model {name}: exported ONNX graph is invalid ({exc})") from None


def _parity(
    net: nn.Module,
    input_names: Sequence[str],
    samples: Sequence[tuple[torch.Tensor, ...]],
    path: Path,
) -> float:
    """The largest abs difference between torch and ONNX Runtime (CPU) over `samples`."""
    session = create_session(path, choose_device("cpu"))
    worst = 0.0
    for sample in samples:
        with torch.no_grad():
            expected = net(*sample).numpy()
        feeds = {n: t.numpy() for n, t in zip(input_names, sample, strict=True)}
        got = session.run(["image"], feeds)[0]
        if got.shape != expected.shape:
            return float("inf")
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst
