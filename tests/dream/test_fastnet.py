"""The fast dream network: starts as the identity, exports to ONNX with parity, and the
shipped networks match their torch rebuild, stay small and say what they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from installation.dream.fastnet import (
    PARITY,
    FastDreamNet,
    export_onnx,
    from_onnx,
    parity,
    read_meta,
)
from installation.errors import ModelError
from installation.models import ModelStore

SHIPPED = ("ripples", "deep")


def randomised(seed: int = 0) -> FastDreamNet:
    """A network whose every weight (the zero head too) is random: parity must hold for
    what a trained network computes, not just for the identity."""
    torch.manual_seed(seed)
    net = FastDreamNet(width=16, blocks=2)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.3)
    return net.eval()


def test_an_untrained_network_is_the_identity() -> None:
    x = torch.rand(1, 3, 36, 64) * 255
    with torch.no_grad():
        assert torch.equal(FastDreamNet()(x), x)


def test_export_parity_and_metadata(tmp_path: Path) -> None:
    out = tmp_path / "dream-t.onnx"
    net = randomised()
    worst = export_onnx(net, out, {"layers": "6:1"}, size=(64, 36))
    assert worst < PARITY
    assert read_meta(out)["layers"] == "6:1"
    x = np.random.default_rng(1).uniform(0, 255, (1, 3, 36, 64)).astype(np.float32)
    with torch.no_grad():
        changed = net(torch.from_numpy(x)).numpy()
    assert np.abs(changed - x).mean() > 1.0  # the check compares a real picture change
    rebuilt = from_onnx(out)
    for a, b in zip(rebuilt.state_dict().values(), net.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_read_meta_refuses_other_onnx_files(store: ModelStore) -> None:
    with pytest.raises(ModelError, match="not a fast dream network"):
        read_meta(store.path("multistyle26"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_networks_match_torch_and_are_small(name: str, store: ModelStore) -> None:
    path = store.require(f"dream-{name}")
    assert path.stat().st_size < 5 * 1024 * 1024
    meta = read_meta(path)
    assert meta["command"].startswith("python main.py train-dream ")
    assert parity(from_onnx(path), path) < PARITY
