"""The rebuilt torch generators: the published state dicts fit them exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from installation.errors import ModelError
from installation.gan.generators import (
    EYE_CLASSES,
    EyeGenerator,
    FaceGenerator,
    load_eye_generator,
    load_face_generator,
)


def test_eye_generator_loads_strictly_and_draws_128px(eye_weights: Path) -> None:
    net = load_eye_generator(eye_weights)
    assert not net.training  # eval: BatchNorm uses running stats, Dropout is off
    labels = torch.eye(len(EYE_CLASSES))[:2]
    with torch.no_grad():
        out = net(torch.randn(2, 100), labels)
    assert out.shape == (2, 3, 128, 128)
    assert out.abs().max() <= 1.0
    # Eval mode is deterministic (no dropout noise).
    z = torch.randn(1, 100)
    with torch.no_grad():
        torch.testing.assert_close(net(z, labels[:1]), net(z, labels[:1]))


def test_face_generator_loads_strictly_and_draws_64px(face_weights: Path) -> None:
    net = load_face_generator(face_weights)
    with torch.no_grad():
        out = net(torch.randn(3, 100, 1, 1))
    assert out.shape == (3, 3, 64, 64)
    assert out.abs().max() <= 1.0


def test_layer_indices_match_the_published_keys(eye_weights: Path, face_weights: Path) -> None:
    eye_state = torch.load(eye_weights, map_location="cpu", weights_only=True)
    face_state = torch.load(face_weights, map_location="cpu", weights_only=True)
    assert set(EyeGenerator().state_dict()) == set(eye_state)
    assert set(FaceGenerator().state_dict()) == set(face_state["netG_state_dict"])


def test_a_state_dict_that_does_not_fit_is_a_model_error(
    eye_weights: Path, tmp_path: Path
) -> None:
    state = torch.load(eye_weights, map_location="cpu", weights_only=True)
    del state["main.16.weight"]
    broken = tmp_path / "broken.pth"
    torch.save(state, broken)
    with pytest.raises(ModelError, match=r"gan-eyes: state dict does not fit.*main\.16"):
        load_eye_generator(broken)
    with pytest.raises(ModelError, match=r"gan-faces: .* has no netG_state_dict"):
        load_face_generator(eye_weights)
    (tmp_path / "junk.tar").write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="gan-faces: cannot read weights"):
        load_face_generator(tmp_path / "junk.tar")
