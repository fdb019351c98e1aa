"""`train-dream`: a few steps on tiny crops write a checked network; a stopped run resumes
exactly where it stopped; a checkpoint made with other settings is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from installation.cli import main
from installation.dream.fastnet import read_meta

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
    err = capsys.readouterr().err
    assert "seed = 0 in the checkpoint, 5 now" in err


@pytest.mark.parametrize(("args", "says"), [
    (["--layers", "16"], "--layers '16'"),
    (["--layers", "6:x"], "not a number"),
    (["--crop", "30"], "--crop 30"),
    (["--out", "nowhere/x.onnx"], "--out"),
])
def test_bad_options_get_one_line(args: list[str], says: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train-dream", "--layers", "6", "--out", str(tmp_path / "d.onnx"), "--steps", "1",
            "--frames-per-clip", "1", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err
