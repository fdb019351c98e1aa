"""`doctor` on this machine (no camera, no display, no GPU) says exactly that, and says what
to fix when something would stop the piece."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from installation.cli import main
from installation.models import MODELS_DIR, ModelStore
from installation.show.loading import load_config
from installation.tools.doctor import run_doctor

ROOT = Path(__file__).resolve().parents[2]


def doctor(config: Path, store: ModelStore) -> tuple[int, list[str]]:
    lines: list[str] = []
    return run_doctor(config, store, lines.append), lines


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shipped(tmp_path: Path) -> Path:
    """The shipped config, its status port moved to a free one (a show may hold 8321)."""
    text = (ROOT / "config.toml").read_text()
    assert text.count("port = 8321") == 1
    cfg = tmp_path / "config.toml"
    cfg.write_text(text.replace("port = 8321", f"port = {free_port()}"))
    return cfg


def test_this_machine(store: ModelStore, monkeypatch: pytest.MonkeyPatch,
                      tmp_path: Path) -> None:
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)  # look for a real screen
    monkeypatch.chdir(tmp_path)
    code, lines = doctor(shipped(tmp_path), store)
    by_name = {ln.split()[1]: ln for ln in lines[:-1]}
    assert code == 0 and lines[-1].startswith("nothing to fix"), lines
    assert by_name["config"].startswith("ok")
    assert by_name["camera"].startswith("note") and "no camera at webcam:0" in by_name["camera"]
    assert by_name["display"].startswith("note") and "no display" in by_name["display"]
    assert by_name["gpu"].startswith("note") and "no usable GPU" in by_name["gpu"]
    assert by_name["models"].startswith("ok") and by_name["disk"].startswith("ok")
    scenes = len(load_config(ROOT / "config.toml").scenes)
    assert by_name["scenes"].startswith("ok") and f"all {scenes} build" in by_name["scenes"]
    assert "recordings" in by_name["disk"] and by_name["status"].startswith("ok")
    assert "never a live camera" in by_name["privacy"]
    assert list(tmp_path.iterdir()) == [tmp_path / "config.toml"]  # nothing made


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


def test_the_command(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["doctor", "--config", str(shipped(tmp_path))]) == 0  # --config after it
    assert "nothing to fix" in capsys.readouterr().out


PLAIN = "[source]\nuri = 'demo'\n[status]\nenabled = false\n"


def scene(name: str) -> str:
    return f"[[scenes]]\nname = '{name}'\neffect = 'none'\nsize = [64, 36]\n"


class _Raises:
    name, scalable = "raises", False

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        raise RuntimeError("index 9 is out of bounds\n  at the first frame")


class _WrongShape(_Raises):
    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        return np.zeros((5, 5), np.float32)


def test_a_scene_that_fails_at_its_first_frame_is_named(
        tmp_path: Path, store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import installation.show.scenes as scenes
    from installation.errors import ModelError

    real = scenes.build_effect

    def build(s, *args, **kwargs):  # type: ignore[no-untyped-def]
        if s.name == "unbuildable":
            raise ModelError("model dream-nope: models/dream-nope.onnx is missing")
        return {"crashes": _Raises, "misshapen": _WrongShape}.get(s.name, lambda: real(
            s, *args, **kwargs))()

    monkeypatch.setattr(scenes, "build_effect", build)
    cfg = tmp_path / "config.toml"
    cfg.write_text(PLAIN + "".join(scene(n) for n in ("fine", "crashes", "misshapen",
                                                        "unbuildable", "also-fine")))
    code, lines = doctor(cfg, store)
    fails = [ln for ln in lines if ln.startswith("FIX")]
    assert code == 2 and lines[-1] == "3 to fix"
    assert len(fails) == 3 and all(ln.startswith("FIX  scene ") for ln in fails)
    crashes, misshapen, unbuildable = fails
    assert crashes.count("scene 'crashes'") == 1
    assert "RuntimeError: index 9 is out of bounds at the first frame" in crashes
    assert misshapen.count("scene 'misshapen'") == 1
    assert "float32 5x5" in misshapen and "uint8 36x64x3" in misshapen
    assert unbuildable.endswith("scene 'unbuildable' fails: model dream-nope: "
                                "models/dream-nope.onnx is missing")


def test_a_config_the_show_cannot_run_is_never_nothing_to_fix(
        tmp_path: Path, store: ModelStore) -> None:
    """Values the show once crashed on at the first frame: doctor finds them, whether the
    config refuses them or a scene's first frame fails."""
    for body in ("styles = [{3 = nan}]", "styles = [{3 = 1e308}]",
                 "dream = {layers = {'6' = inf}}"):
        cfg = tmp_path / "config.toml"
        cfg.write_text(PLAIN + "[[scenes]]\nname = 'x'\neffect = 'dream'\nsize = [64, 36]\n"
                       + body + "\n")
        code, lines = doctor(cfg, store)
        assert code == 2 and not lines[-1].startswith("nothing"), (body, lines)


def test_disks_where_pictures_go_are_checked_and_nothing_is_made(
        tmp_path: Path, store: ModelStore) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cfg = tmp_path / "config.toml"
    cfg.write_text(PLAIN + scene("a") + f"[headless]\nfolder = '{tmp_path / 'rec' / 'new'}'\n"
                   f"[snapshots]\nenabled = true\nfolder = '{blocker / 'snaps'}'\n")
    code, lines = run_doctor(cfg, store, (lines := []).append,
                             record=Path("/proc/nowhere/show.mp4")), lines
    disk = [ln for ln in lines if ln.split()[1] == "disk"]
    assert code == 2 and len(disk) == 3
    assert disk[0].startswith("FIX") and "--record /proc/nowhere/show.mp4" in disk[0]
    assert disk[1].startswith("ok") and f"{tmp_path / 'rec' / 'new'}/ (to be made)" in disk[1]
    assert disk[2].startswith("FIX") and "snapshots" in disk[2] and "is a file" in disk[2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "config.toml"]


def test_listener_ports_in_use_or_not_here(tmp_path: Path, store: ModelStore) -> None:
    cfg = tmp_path / "config.toml"
    with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        cfg.write_text("[source]\nuri = 'demo'\n" + scene("a")
                       + f"[status]\nenabled = true\nport = {tcp.getsockname()[1]}\n"
                       f"[osc]\nenabled = true\nport = {udp.getsockname()[1]}\n")
        code, lines = doctor(cfg, store)
    by_name = {ln.split()[1]: ln for ln in lines[:-1]}
    assert code == 2
    for name in ("status", "osc"):
        assert by_name[name].startswith(f"FIX  {name}") and "is in use" in by_name[name]
        assert f"set [{name}] port" in by_name[name]
    cfg.write_text("[source]\nuri = 'demo'\n" + scene("a")
                   + f"[status]\nenabled = true\nport = {free_port()}\n"
                   "[osc]\nenabled = true\nhost = '192.0.2.1'\nport = 9000\n")
    code, lines = doctor(cfg, store)
    by_name = {ln.split()[1]: ln for ln in lines[:-1]}
    assert by_name["status"].startswith("ok") and code == 2
    assert "192.0.2.1 is not an address of this machine" in by_name["osc"]


def test_a_broken_lock_file_is_a_finding_not_a_crash(tmp_path: Path, store: ModelStore) -> None:
    root = tmp_path / "models"
    shutil.copytree(MODELS_DIR, root, ignore=shutil.ignore_patterns(".wheels", "*.mp4"))
    (root / "lock.json").write_text("{not json")
    cfg = tmp_path / "config.toml"
    cfg.write_text(PLAIN + scene("a"))
    code, lines = doctor(cfg, ModelStore(root))
    models = next(ln for ln in lines if ln.split()[1] == "models")
    assert code == 2 and models.startswith("FIX") and "lock.json is not valid JSON" in models
    assert any(ln.startswith("note scenes") for ln in lines)


def test_a_serving_engine_that_does_not_answer_is_a_note(tmp_path: Path) -> None:
    from serving import free_base

    from installation.tools.doctor import check_remote

    path = tmp_path / "config.toml"
    path.write_text(f"[runtime]\nremote = '127.0.0.1:{free_base()}'\n")
    check = check_remote(load_config(path))
    assert check.verdict == "note" and "does not answer" in check.detail
    assert "run locally" in check.detail and "\n" not in check.detail
