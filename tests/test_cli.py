"""The command line as an operator meets it: one clear line and exit code 2 for their errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path, display: bool = True) -> subprocess.CompletedProcess[str]:
    """Run main.py; `display` False takes SDL's dummy driver away (a machine with no screen)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    if not display:
        env.pop("SDL_VIDEODRIVER")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1
    return errors[0]


def test_help_keys(tmp_path: Path) -> None:
    done = cli("--help-keys", cwd=tmp_path)
    assert done.returncode == 0
    for words in ("Right", "next style", "Down", "next scene", "quit", "snapshot"):
        assert words in done.stdout


def test_bad_config_key_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[display]\nmirorr = false\n")
    line = one_line_error(cli("--headless", cwd=tmp_path))
    assert "config.toml:2" in line and "'display.mirorr'" in line and "mirror" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--source", "nowhere.mp4"], "nowhere.mp4"),
        (["--source", "ftp://x"], "ftp://x"),
        (["--scene", "nope"], "--scene"),
        (["--config", "missing.toml"], "missing.toml"),
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    assert words in one_line_error(cli(*args, "--headless", "--duration", "1", cwd=tmp_path))


def test_no_camera_and_exit_policy(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[source]\nuri = 'webcam:7'\non_missing = 'exit'\n")
    line = one_line_error(cli("--headless", "--duration", "1", cwd=tmp_path))
    assert "webcam:7" in line and "on_missing" in line


def test_stylize_command(tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    cv2.imwrite(str(src), np.full((50, 70, 3), 128, np.uint8))
    done = cli("stylize", str(src), str(tmp_path / "out.png"), "--style", "4", "--size", "100",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = cv2.imread(str(tmp_path / "out.png"))
    assert out.shape == (71, 100, 3)
    line = one_line_error(cli("stylize", str(src), str(tmp_path / "o.png"), "--style", "26",
                              cwd=tmp_path))
    assert "26" in line


def test_headless_run_falls_back_to_demo_and_says_where_the_recording_is(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        "[source]\nuri = 'webcam:5'\ndemo_clip = 'carphone'\n[headless]\nduration_s = 2.0\n"
    )
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        pytest.skip("a display is available here")
    done = cli(cwd=tmp_path, display=False)  # no display: headless, bounded, recorded
    assert done.returncode == 0, done.stderr
    assert "no camera at webcam:5" in done.stderr and "demo clip 'carphone'" in done.stderr
    assert "recording: recordings/installation-" in done.stdout
    assert len(list((tmp_path / "recordings").glob("*.mp4"))) == 1


def test_readme_documents_every_key() -> None:
    from installation.commands import Name
    from installation.controls.keys import KEYMAP

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Keys", 1)[1].split("\n## ", 1)[0]
    # Every command that is not a number or a name has a key.
    needs_a_value = {Name.SCENE, Name.STYLE, Name.WEIGHTS, Name.STRENGTH, Name.WALK,
                     Name.DREAM, Name.BLACKOUT}
    assert {name for name, _, _ in KEYMAP.values()} == set(Name) - needs_a_value
    for word in ("Right", "Left", "Down", "Up", "| H |", "| F |", "| M |", "Space", "| S |",
                 "| R |", "| G |", "| A |", "Q / Esc"):
        assert word in section


@pytest.mark.parametrize(("args", "says"), [
    (["soak", "--minutes", "1"], "--minutes 1"),
    (["soak", "--scene", "nowhere"], "--scene 'nowhere'"),
])
def test_soak_options_are_checked(args: list[str], says: str, tmp_path: Path) -> None:
    assert says in one_line_error(cli(*args, cwd=tmp_path))
