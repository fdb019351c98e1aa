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
                     Name.DREAM, Name.BLACKOUT, Name.PRESET_SAVE, Name.MIDI_LEARN}
    assert {name for name, _, _ in KEYMAP.values()} == set(Name) - needs_a_value
    for word in ("Right", "Left", "Down", "Up", "| H |", "| F |", "| M |", "Space", "| S |",
                 "| R |", "| G |", "| A |", "| 1-9 |", "Q / Esc"):
        assert word in section


@pytest.mark.parametrize(("args", "says"), [
    (["soak", "--minutes", "1"], "--minutes 1"),
    (["soak", "--scene", "nowhere"], "--scene 'nowhere'"),
])
def test_soak_options_are_checked(args: list[str], says: str, tmp_path: Path) -> None:
    assert says in one_line_error(cli(*args, cwd=tmp_path))


# -- numbers on the command line --------------------------------------------------------

TRAIN = ["train-dream", "--layers", "6", "--out", "x.onnx"]
STYLIZE = ["stylize", "in.png", "out.png"]
BAD_FLOAT = ["nan", "NaN", "inf", "-inf", "1e309", "x", ""]
BAD_COUNT = ["nan", "inf", "1.5", "1e3", "x", "", "-1"]
# (the command, the flag, values refused beside the generic ones)
NUMERIC = [
    ([], "--duration", [*BAD_FLOAT, "0", "-1", "-0.0", "1e12"]),
    (["bench"], "--frames", [*BAD_COUNT, "0", "100001"]),
    (["bench"], "--source-fps", [*BAD_FLOAT, "0", "-240"]),
    (["soak"], "--minutes", [*BAD_FLOAT, "0", "-1"]),
    (["soak"], "--every", [*BAD_FLOAT, "0", "-10", "1e6"]),
    (STYLIZE, "--size", [*BAD_COUNT, "0", "15", "100000"]),
    (STYLIZE, "--strength", [*BAD_FLOAT, "-0.1", "1.5"]),
    (STYLIZE, "--style", BAD_COUNT),
    (TRAIN, "--steps", [*BAD_COUNT, "0"]),
    (TRAIN, "--batch", [*BAD_COUNT, "0", "100000"]),
    (TRAIN, "--crop", [*BAD_COUNT, "0", "1000000"]),
    (TRAIN, "--lr", [*BAD_FLOAT, "0", "-0.001", "2"]),
    (TRAIN, "--content", [*BAD_FLOAT, "-1"]),
    (TRAIN, "--tv", [*BAD_FLOAT, "-0.5", "1e300"]),
    (TRAIN, "--seed", [*BAD_COUNT, str(1 << 32)]),
    (TRAIN, "--frames-per-clip", [*BAD_COUNT, "0"]),
    (TRAIN, "--checkpoint-every", [*BAD_COUNT, "0"]),
    (["gan-response"], "--seconds", [*BAD_FLOAT, "0", "-20"]),
    (["gan-response"], "--noise", [*BAD_FLOAT, "-1", "256"]),
    (["contact-sheet"], "--seconds", [*BAD_FLOAT, "0"]),
    (["contact-sheet"], "--cols", [*BAD_COUNT, "0", "1000"]),
    (["contact-sheet"], "--rows", [*BAD_COUNT, "0", "1000"]),
    (["contact-sheet"], "--tile", [*BAD_COUNT, "0", "100000"]),
    (["flicker"], "--frames", [*BAD_COUNT, "0"]),
    (["flicker"], "--still-frames", BAD_COUNT),
    (["dream-compare"], "--frames", [*BAD_COUNT, "0"]),
]


@pytest.mark.parametrize(("command", "flag", "values"), NUMERIC,
                         ids=[f"{(c or ['run'])[0]} {f}" for c, f, _ in NUMERIC])
def test_bad_numbers_are_refused_in_one_line_naming_the_flag(
        command: list[str], flag: str, values: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    from installation.cli import main

    for value in values:
        assert main([*command, f"{flag}={value}"]) == 2, value
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and err.startswith(f"error: {flag}: "), (value, err)
        assert "--help" in err


def test_good_numbers_still_pass() -> None:
    from installation.cli.parser import build_parser as _parser

    p = _parser()
    assert p.parse_args(["--duration", "0.5"]).duration == 0.5
    assert p.parse_args(["flicker", "--still-frames", "0"]).still_frames == 0
    assert p.parse_args([*STYLIZE, "--strength", "0"]).strength == 0.0
    assert p.parse_args([*TRAIN, "--lr", "1e-4", "--seed", "0"]).lr == 1e-4
    assert p.parse_args(["contact-sheet", "--cols", "16", "--tile", "1024"]).tile == 1024


def test_bad_duration_through_main_py(tmp_path: Path) -> None:
    for value in ("nan", "inf", "-1", "0"):
        line = one_line_error(cli("--headless", "--duration", value, cwd=tmp_path))
        assert "--duration" in line and value in line


# -- global flags after the command ------------------------------------------------------

def test_config_is_taken_after_any_command_that_reads_it() -> None:
    from installation.cli.parser import build_parser as _parser

    p = _parser()
    commands = [["doctor"], STYLIZE, ["bench"], ["gan-response"], TRAIN, ["dream-compare"],
                ["flicker"], ["soak"], ["contact-sheet"]]
    for command in commands:
        assert p.parse_args([*command, "--config", "after.toml"]).config == Path("after.toml")
        assert p.parse_args(["--config", "before.toml", *command]).config == \
            Path("before.toml")
        assert p.parse_args(command).config is None
    args = p.parse_args(["--config", "a.toml", "doctor", "--config", "b.toml"])
    assert args.config == Path("b.toml")
    assert p.parse_args(["doctor", "--record", "r.mp4"]).record == Path("r.mp4")


def test_doctor_with_config_after_it(tmp_path: Path) -> None:
    cfg = tmp_path / "mine.toml"
    cfg.write_text("[source]\nuri = 'demo'\n[status]\nenabled = false\n"
                   "[[scenes]]\nname = 'plain'\neffect = 'none'\n")
    done = cli("doctor", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{cfg} is valid (1 scenes, first: plain)" in done.stdout
    assert "nothing to fix" in done.stdout
    assert not (tmp_path / "recordings").exists()  # doctor makes nothing


# -- files a run writes: checked before the show starts ---------------------------------

DEMO = "[source]\nuri = 'demo'\n[status]\nenabled = false\n" \
       "[[scenes]]\nname = 'plain'\neffect = 'none'\n"


def read_only_folder(tmp_path: Path) -> Path:
    """A folder no file can be made in, for this user (root too: then /sys)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return folder
    folder = Path("/sys")  # root ignores permissions; sysfs refuses new files even to root
    try:
        (folder / "probe").open("x").close()
    except OSError:
        return folder
    pytest.skip("no folder here refuses this user's files")


def unwritable(tmp_path: Path) -> list[tuple[str, Path]]:
    """(what, a file path that cannot be written) for each way it cannot."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return [
        ("under a file", blocker / "sub" / "out.x"),
        ("read-only", read_only_folder(tmp_path) / "out.x"),
        ("a folder", tmp_path),
    ]


@pytest.mark.parametrize("flag", ["--record", "--stats"])
def test_unwritable_record_and_stats_paths_are_one_line(flag: str, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(DEMO)
    for what, path in unwritable(tmp_path):
        done = cli("--headless", "--duration", "1", flag, str(path), cwd=tmp_path)
        line = one_line_error(done)
        assert f"{flag} {path}" in line, what
        assert "Exception ignored" not in done.stderr and "thread" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "config.toml",
                                                          "read-only"]


def test_unwritable_headless_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for folder in (tmp_path / "a-file" / "recordings", read_only_folder(tmp_path) / "rec"):
        (tmp_path / "config.toml").write_text(
            DEMO + f"[headless]\nfolder = '{folder}'\n")
        line = one_line_error(cli("--headless", "--duration", "1", cwd=tmp_path))
        assert "[headless] folder" in line and str(folder) in line and "record = false" in line


def test_writable_paths_are_probed_without_leaving_or_changing_anything(
        tmp_path: Path) -> None:
    from installation.cli import _writable_file

    _writable_file("--record", tmp_path / "new" / "deeper" / "show.mp4")
    assert list((tmp_path / "new" / "deeper").iterdir()) == []  # the folder, as the show
    kept = tmp_path / "stats.jsonl"
    kept.write_text("earlier run\n")
    _writable_file("--stats", kept)
    assert kept.read_text() == "earlier run\n"
