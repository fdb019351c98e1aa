"""`doctor` on this machine (no camera, no display, no GPU) says exactly that, and says what
to fix when something would stop the piece."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from installation.cli import main
from installation.models import MODELS_DIR, ModelStore
from installation.tools.doctor import run_doctor

ROOT = Path(__file__).resolve().parents[2]


def doctor(config: Path, store: ModelStore) -> tuple[int, list[str]]:
    lines: list[str] = []
    return run_doctor(config, store, lines.append), lines


def test_this_machine(store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)  # look for a real screen
    code, lines = doctor(ROOT / "config.toml", store)
    by_name = {ln.split()[1]: ln for ln in lines[:-1]}
    assert code == 0 and lines[-1].startswith("nothing to fix")
    assert by_name["config"].startswith("ok")
    assert by_name["camera"].startswith("note") and "no camera at webcam:0" in by_name["camera"]
    assert by_name["display"].startswith("note") and "no display" in by_name["display"]
    assert by_name["gpu"].startswith("note") and "no usable GPU" in by_name["gpu"]
    assert by_name["models"].startswith("ok") and by_name["disk"].startswith("ok")
    assert "never a live camera" in by_name["privacy"]


def test_what_to_fix(tmp_path: Path, store: ModelStore) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[display]\nfit = 'zoom'\n")
    code, lines = doctor(bad, store)
    assert code == 2 and lines[0].startswith("FIX  config") and "display.fit" in lines[0]
    strict = tmp_path / "strict.toml"
    strict.write_text("[source]\non_missing = 'exit'\n")
    code, lines = doctor(strict, store)
    assert code == 2 and any(ln.startswith("FIX  camera") for ln in lines)


def test_a_missing_model_is_named(tmp_path: Path, store: ModelStore) -> None:
    root = tmp_path / "models"
    shutil.copytree(MODELS_DIR, root, ignore=shutil.ignore_patterns(".wheels", "*.mp4"))
    code, lines = doctor(ROOT / "config.toml", ModelStore(root))
    models = next(ln for ln in lines if ln.split()[1] == "models")
    assert code == 2 and models.startswith("FIX") and "models pull" in models


def test_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    assert "nothing to fix" in capsys.readouterr().out
