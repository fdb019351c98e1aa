"""`train-dream`: a few steps on tiny crops write a checked network; a stopped run resumes
exactly where it stopped; a checkpoint made with other settings is refused."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from installation.cli import main
from installation.dream.fastnet import read_meta
from installation.tools.train_dream import TrainSettings

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--layers", "3:1", "--batch", "1", "--crop", "32", "--frames-per-clip", "1",
        "--checkpoint-every", "2"]


def train(out: Path, steps: int, *extra: str) -> int:
    return main(["train-dream", "--out", str(out), "--steps", str(steps), *TINY, *extra])


def weights(ckpt: Path) -> dict[str, torch.Tensor]:
    return torch.load(ckpt, weights_only=False)["net"]


def test_a_few_steps_write_a_network_and_resume_continues_exactly(tmp_path: Path) -> None:
    straight = tmp_path / "dream-a.onnx"
    assert train(straight, 4) == 0
    meta = read_meta(straight)
    assert meta["layers"] == "3:1"
    assert "--steps 4" in meta["command"]

    stopped = tmp_path / "dream-b.onnx"
    assert train(stopped, 2) == 0
    assert torch.load(stopped.with_suffix(".ckpt"), weights_only=False)["step"] == 2
    assert train(stopped, 4, "--resume") == 0
    resumed = weights(stopped.with_suffix(".ckpt"))
    for name, value in weights(straight.with_suffix(".ckpt")).items():
        torch.testing.assert_close(resumed[name], value, rtol=0, atol=1e-6)
    assert float(resumed["head.weight"].abs().max()) > 0  # it trained: the head left zero


def test_resume_refuses_other_settings_and_a_missing_checkpoint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dream-c.onnx"
    assert train(out, 2, "--resume") == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert train(out, 2) == 0
    assert train(out, 4, "--resume", "--seed", "5") == 2
    assert "seed = 0 in the checkpoint, 5 now" in capsys.readouterr().err
    assert train(out, 2, "--resume") == 2  # nothing left to train
    assert "give --steps above 2" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"not a checkpoint", None])
def test_a_broken_checkpoint_gets_one_line(content: bytes | None, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dream-d.onnx"
    ckpt = out.with_suffix(".ckpt")
    if content is None:  # a readable file that lacks the weights
        same = TrainSettings(layers=((3, 1.0),), steps=4, batch=1, crop=32, frames_per_clip=1)
        torch.save({"settings": dataclasses.asdict(same), "step": 1}, ckpt)
    else:
        ckpt.write_bytes(content)
    assert train(out, 4, "--resume") == 2
    err = capsys.readouterr().err.strip()
    assert "cannot be read" in err and "\n" not in err


def test_a_folder_as_out_is_refused_before_training(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "d.onnx"
    folder.mkdir()
    assert train(folder, 1) == 2
    assert "--out" in capsys.readouterr().err


CTRL_C = """
import signal, sys
from pathlib import Path
import pytest, torch
from installation.dream.backbone import load_backbone
from installation.models import ModelStore
from installation.tools.train_dream import Trainer, TrainSettings, training_images

store, folder = ModelStore(), Path(sys.argv[1])
backbone, images = load_backbone(store), training_images(store, 1)
settings = TrainSettings(layers=((3, 1.0),), steps=4, batch=1, crop=32)

def interrupt_at_2(step, parts):
    if step == 2:
        signal.raise_signal(signal.SIGINT)

stopped = Trainer(settings, backbone, images, folder / "a.ckpt", resume=False)
with pytest.raises(KeyboardInterrupt):
    stopped.run(every=100, progress=interrupt_at_2)
assert stopped.saved_step == 2, stopped.saved_step
resumed = Trainer(settings, backbone, images, folder / "a.ckpt", resume=True)
assert resumed.step == 2, resumed.step
resumed.run(every=100)
straight = Trainer(settings, backbone, images, folder / "b.ckpt", resume=False)
straight.run(every=100)
for a, b in zip(resumed.net.state_dict().values(), straight.net.state_dict().values(),
                strict=True):
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
print("resumed exactly")
"""


def test_ctrl_c_stops_between_steps_and_resume_is_exact(tmp_path: Path) -> None:
    """SIGINT during step 2 lets that step finish, saves at 2, and the resumed run ends
    with the weights of a run never stopped. In a fresh process, as a Ctrl-C meets one:
    in the suite's long-lived process, a signal after many other tests' native thread
    pools once ended it with SIGSEGV (not reproduced alone; see the issue notes)."""
    done = subprocess.run([sys.executable, "-c", CTRL_C, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("resumed exactly")


@pytest.mark.parametrize(("args", "says"), [
    (["--layers", "16"], "--layers '16'"),
    (["--layers", "6:x"], "not a number"),
    (["--crop", "30"], "--crop 30"),
    (["--crop", "1000"], "--crop 1000"),
    (["--out", "nowhere/x.onnx"], "--out"),
    (["--out", "x.txt"], "give a .onnx file"),
    (["--out", "models/dream-ripples.onnx"], "ships with the project"),
    (["--steps", "0"], "--steps: 0 is out of range"),
    (["--lr", "-1"], "--lr: -1 is out of range"),
    (["--frames-per-clip", "0"], "--frames-per-clip: 0 is out of range"),
    (["--content", "-1"], "--content: -1 is out of range"),
])
def test_bad_options_get_one_line(args: list[str], says: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train-dream", "--layers", "6", "--out", str(tmp_path / "d.onnx"), "--steps", "1",
            "--frames-per-clip", "1", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err
