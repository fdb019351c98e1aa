"""The manifest, pull, verify: a tampered or missing model is refused with one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from installation.conversions import CONVERTERS
from installation.errors import ModelError
from installation.models import CONVERSIONS, MODELS_DIR, Manifest, ModelStore, sha256_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch(tmp_path: Path, store: ModelStore) -> ModelStore:
    """A private copy of the pulled models (wheel cache left out: pull must not need it)."""
    root = tmp_path / "models"
    shutil.copytree(MODELS_DIR, root, ignore=shutil.ignore_patterns(".wheels", "trt-cache"))
    return ModelStore(root)


def test_manifest_pins_every_wheel() -> None:
    m = Manifest.load(MODELS_DIR / "manifest.toml")
    assert "multistyle26" in m.models and "demo-bikes" in m.models
    for w in m.wheels.values():
        assert len(w.sha256) == 64
    for spec in m.models.values():
        assert spec.wheel in m.wheels or spec.installed or (
            spec.committed and len(spec.sha256) == 64)


def test_pulled_models_verify(store: ModelStore) -> None:
    assert store.verify() == []
    for name in store.manifest.models:
        assert store.require(name).is_file()


def test_second_pull_downloads_nothing(scratch: ModelStore) -> None:
    said: list[str] = []
    assert scratch.pull(said.append) == 0
    assert not any("downloading" in s for s in said)


def test_tampered_file_refused_by_verify_and_require(scratch: ModelStore) -> None:
    path = scratch.path("multistyle26")
    with path.open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02\x03")
    problems = scratch.verify()
    assert [p.model for p in problems] == ["multistyle26"]
    assert "altered" in problems[0].line() and "models pull" in problems[0].line()
    with pytest.raises(ModelError, match=r"multistyle26\.onnx is altered.*models pull"):
        scratch.require("multistyle26")


def test_missing_file_refused_then_restored_by_pull(scratch: ModelStore) -> None:
    path = scratch.path("demo-carphone")
    path.unlink()
    with pytest.raises(ModelError, match=r"carphone\.mp4 is missing"):
        scratch.require("demo-carphone")
    shutil.copytree(MODELS_DIR / ".wheels", scratch.wheel_cache)  # offline: cached wheels
    assert scratch.pull(lambda s: None) == 1
    assert sha256_file(path) == scratch.manifest.models["demo-carphone"].sha256


def test_a_committed_network_is_restored_from_the_checkout_not_pulled(
        scratch: ModelStore) -> None:
    path = scratch.path("dream-deep")
    path.unlink()
    with pytest.raises(ModelError, match=r"dream-deep\.onnx is missing.*git checkout -- "
                       r"models/dream-deep\.onnx"):
        scratch.require("dream-deep")
    said: list[str] = []
    assert scratch.pull(said.append) == 1  # a store kept elsewhere: copied from the checkout
    assert sha256_file(path) == scratch.manifest.models["dream-deep"].sha256
    assert any("copied from" in s for s in said) and not any("download" in s for s in said)


def test_a_committed_entry_must_pin_its_file(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.toml"
    bad.write_text("[models.x]\ncommitted = true\nfile = 'x.onnx'\n")
    with pytest.raises(ModelError, match="x is committed: give `file` and `sha256` only"):
        Manifest.load(bad)


def test_an_unknown_conversion_is_refused_when_the_manifest_is_read(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.toml"
    bad.write_text("[wheels.w]\nversion = '1'\nsha256 = 'x'\n\n[models.gan-x]\nwheel = 'w'\n"
                   "member = 'm'\nfile = 'x.onnx'\nconvert = 'installation.gan.export:nope'\n")
    with pytest.raises(ModelError) as err:
        Manifest.load(bad)
    line = str(err.value)
    assert "\n" not in line
    assert "gan-x names unknown conversion 'installation.gan.export:nope'" in line
    assert "known: extract, gan-eyes-to-onnx, gan-faces-to-onnx" in line


def test_every_named_conversion_has_a_function_and_the_manifest_uses_them() -> None:
    assert set(CONVERTERS) == set(CONVERSIONS)
    used = {m.convert for m in Manifest.load(MODELS_DIR / "manifest.toml").models.values()}
    assert used == {"extract", *CONVERSIONS}


def test_a_pull_that_needs_a_conversion_it_was_not_given_stops_before_downloading(
        scratch: ModelStore) -> None:
    scratch.path("gan-faces").unlink()
    said: list[str] = []
    with pytest.raises(ModelError, match="gan-faces needs conversion gan-faces-to-onnx"):
        scratch.pull(said.append)
    assert said == []


def _cli(args: list[str], models: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INSTALLATION_MODELS": str(models), "SDL_VIDEODRIVER": "dummy"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)


def test_tampered_model_stops_start_and_verify_command(scratch: ModelStore,
                                                       tmp_path: Path) -> None:
    with scratch.path("multistyle26").open("ab") as f:
        f.write(b"junk")
    cfg = tmp_path / "config.toml"
    cfg.write_text("[source]\nuri = 'demo'\n[[scenes]]\nname = 'a'\n")
    done = _cli(["--config", str(cfg), "--headless", "--duration", "1"], scratch.root, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "multistyle26.onnx is altered" in last and "models pull" in last
    done = _cli(["models", "verify"], scratch.root, tmp_path)
    assert done.returncode == 2 and "multistyle26" in done.stderr


def _unreadable(lock: Path) -> None:
    """A lock file no user can read: a symbolic link to itself (root reads through modes)."""
    lock.unlink()
    lock.symlink_to(lock.name)


# The command line says the store's one line whatever the damage: two kinds go through it
# (each of its three commands costs seconds), every kind through the store.
@pytest.mark.parametrize(("damage", "says", "through_cli"), [
    (lambda lock: (lock.unlink(), lock.mkdir()), "is a folder, not a file: remove it", True),
    (_unreadable, "cannot be read", False),
    (lambda lock: lock.write_text("{\"multistyle26\": "), "is not valid JSON", False),
    (lambda lock: lock.write_bytes(b"\xff\xfe\x00garbage\x80"), "is not JSON", True),
    (lambda lock: lock.write_text("[1, 2, 3]\n"), "is not a JSON object", False),
    (lambda lock: lock.write_text("[" * 100_000), "is not a JSON object", False),
], ids=["folder", "unreadable", "truncated", "binary", "a-list", "deep"])
def test_a_broken_lock_file_is_one_line_naming_it(scratch: ModelStore, tmp_path: Path,
                                                  damage: Any, says: str,
                                                  through_cli: bool) -> None:
    damage(scratch.lock_path)
    with pytest.raises(ModelError) as err:
        scratch.verify()
    assert str(scratch.lock_path) in str(err.value) and says in str(err.value)
    assert "\n" not in str(err.value) and "python main.py models pull" in str(err.value)
    if not through_cli:
        return
    cfg = tmp_path / "config.toml"
    cfg.write_text("[source]\nuri = 'demo'\n[status]\nenabled = false\n"
                   "[[scenes]]\nname = 'a'\n")
    for args in (["models", "verify"], ["models", "list"],
                 ["--config", str(cfg), "--headless", "--duration", "1"]):
        done = _cli(args, scratch.root, tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
        assert len(errors) == 1 and "lock.json" in errors[0] and says in errors[0], args
        assert "python main.py models pull" in errors[0]


def test_a_lock_file_unreadable_by_permissions(scratch: ModelStore) -> None:
    scratch.lock_path.chmod(0)
    if os.access(scratch.lock_path, os.R_OK):
        pytest.skip("this user reads through permissions (root)")
    with pytest.raises(ModelError, match=r"lock\.json cannot be read \(Permission denied\)"):
        scratch.verify()


def test_pull_starts_over_from_a_garbled_lock_file(scratch: ModelStore) -> None:
    scratch.lock_path.write_text("{garbled")
    assert scratch._lock(rewriting=True) == {}
    scratch.lock_path.unlink()
    scratch.lock_path.mkdir()  # a folder it cannot overwrite: said, not a traceback
    with pytest.raises(ModelError, match="is a folder"):
        scratch.pull(lambda s: None)


def test_a_platform_wheel_is_asked_for_by_its_exact_tags(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A wheel read only for its data files is fetched as the pinned file whatever Python
    runs the pull: pip is told its tags (a different Python would get another file, whose
    hash the pin refuses)."""
    shutil.copy(MODELS_DIR / "manifest.toml", tmp_path / "manifest.toml")
    store = ModelStore(tmp_path)  # an empty wheel cache: every wheel is asked of pip
    assert store.manifest.wheels["mediapipe"].platform == "cp311-manylinux_2_28_x86_64"
    asked: list[list[str]] = []

    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        asked.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "offline")

    monkeypatch.setattr(subprocess, "run", run)
    with pytest.raises(ModelError, match=r"cannot download mediapipe==0\.10\.21"):
        store._wheel("mediapipe", lambda _: None)
    cmd = asked[0]
    for flag, value in (("--python-version", "311"), ("--implementation", "cp"),
                        ("--abi", "cp311"), ("--platform", "manylinux_2_28_x86_64")):
        assert cmd[cmd.index(flag) + 1] == value
    with pytest.raises(ModelError):
        store._wheel("scikit-video", lambda _: None)
    assert "--platform" not in asked[1]  # a pure-Python wheel: pip picks as usual
