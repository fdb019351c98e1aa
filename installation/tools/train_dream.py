"""Training a fast dream network (`python main.py train-dream`).

Loss per batch of crops x (0..255) and the network's output y:

    − objective(y)  +  content × mean(((y − x) / 255)²)  +  tv × total variation(y / 255)

`objective` is the live dream's (`ascent.objective`: weighted mean square of the chosen
backbone blocks' activations), so a trained network delivers the same kind of dream in one
pass. Pictures: frames of the three demo clips and scikit-image's colour stills, all at the
show's scale (320×180), cut into random square crops with random mirroring.

Deterministic for a seed: the crops come from a seeded generator whose state is saved in
every checkpoint with the weights and the optimiser, so a resumed run continues exactly
where it stopped (same thread count, same machine kind).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from installation.capture import decode_frames
from installation.dream.ascent import objective
from installation.dream.backbone import EfficientNetLite0
from installation.dream.fastnet import FastDreamNet
from installation.errors import UserError
from installation.models import ModelStore
from installation.pictures import cover

log = logging.getLogger(__name__)

SCALE = (320, 180)  # (W, H) px: the show's processing size, so strokes come out that big
CLIPS = ("demo-carphone", "demo-bikes", "demo-bigbuckbunny")
STILLS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides the trained weights (checked again on resume)."""

    layers: tuple[tuple[int, float], ...]  # (block, weight) pairs, as in DreamConfig
    steps: int = 3000
    batch: int = 4
    crop: int = 128  # px, square, a multiple of 4
    lr: float = 1e-3
    content: float = 5000.0
    tv: float = 0.5
    seed: int = 0
    width: int = 32
    blocks: int = 4
    frames_per_clip: int = 40  # taken every third frame from the start of each clip

    def compatible(self, other: TrainSettings) -> str:
        """'' when a checkpoint made with `other` can go on under these; else what differs."""
        for f in dataclasses.fields(self):
            if f.name != "steps" and getattr(self, f.name) != getattr(other, f.name):
                return f"{f.name} = {getattr(other, f.name)!r} in the checkpoint, " \
                       f"{getattr(self, f.name)!r} now"
        return ""


def training_images(store: ModelStore, frames_per_clip: int) -> torch.Tensor:
    """N×3×180×320 float 0..255: demo-clip frames and scikit-image stills at the show's scale."""
    import skimage.data

    pictures: list[np.ndarray] = []
    for clip in CLIPS:
        frames = decode_frames(store.require(clip), frames_per_clip * 3, SCALE, loop=False)
        pictures += frames[::3]
    for name in STILLS:
        still = getattr(skimage.data, name)()
        if still.ndim == 2:
            still = cv2.cvtColor(still, cv2.COLOR_GRAY2RGB)
        pictures.append(cover(np.ascontiguousarray(still[..., :3]), SCALE))
    return torch.from_numpy(np.stack(pictures)).permute(0, 3, 1, 2).float()


def sample_batch(images: torch.Tensor, rng: np.random.Generator, batch: int,
                 crop: int) -> torch.Tensor:
    """`batch` random `crop`-px squares of `images`, each mirrored with probability ½."""
    n, _, h, w = images.shape
    out = []
    for _ in range(batch):
        i = int(rng.integers(n))
        y, x = int(rng.integers(h - crop + 1)), int(rng.integers(w - crop + 1))
        piece = images[i, :, y:y + crop, x:x + crop]
        out.append(piece.flip(-1) if rng.random() < 0.5 else piece)
    return torch.stack(out)


def losses(net: FastDreamNet, backbone: EfficientNetLite0, x: torch.Tensor,
           layers: Mapping[int, float], s: TrainSettings) -> dict[str, torch.Tensor]:
    """The loss and its parts for one batch."""
    y = net(x)
    dream = objective(backbone, y, layers)
    content = ((y - x) / 255.0).pow(2).mean()
    tv = ((y[..., 1:, :] - y[..., :-1, :]).abs().mean()
          + (y[..., :, 1:] - y[..., :, :-1]).abs().mean()) / 255.0
    return {"loss": -dream + s.content * content + s.tv * tv, "dream": dream,
            "content": content, "tv": tv}


Progress = Callable[[int, dict[str, float]], None]  # (steps done, last losses)


class Trainer:
    """One training run: fresh, or resumed from `checkpoint`."""

    def __init__(self, settings: TrainSettings, backbone: EfficientNetLite0,
                 images: torch.Tensor, checkpoint: Path, resume: bool) -> None:
        self.s, self.backbone, self.images, self.checkpoint = settings, backbone, images, \
            checkpoint
        torch.manual_seed(settings.seed)
        self.net = FastDreamNet(settings.width, settings.blocks)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=settings.lr)
        self.rng = np.random.default_rng(settings.seed)
        self.step = 0
        self.saved_step: int | None = None  # the step of the checkpoint on disk
        if resume:
            self._load()

    def _load(self) -> None:
        if not self.checkpoint.is_file():
            raise UserError(f"--resume: no checkpoint at {self.checkpoint}; "
                            "start without --resume")
        try:
            state: dict[str, Any] = torch.load(self.checkpoint, map_location="cpu",
                                               weights_only=True)
            saved = TrainSettings(**state["settings"])
            # saved as lists; back to (block, weight) pairs to compare
            saved = dataclasses.replace(saved, layers=tuple((int(b), float(w))
                                                            for b, w in saved.layers))
            differs = self.s.compatible(saved)
            if not differs:
                self.net.load_state_dict(state["net"])
                self.opt.load_state_dict(state["opt"])
                self.rng.bit_generator.state = state["rng"]
                torch.set_rng_state(state["torch_rng"])
                self.step = self.saved_step = int(state["step"])
        except Exception as exc:
            raise UserError(f"checkpoint {self.checkpoint} cannot be read "
                            f"({type(exc).__name__}: {str(exc)[:120]}); "
                            "delete it and start again") from None
        if differs:
            raise UserError(f"checkpoint {self.checkpoint} was made with other settings "
                            f"({differs}): use the same options, or another --checkpoint")
        if self.step >= self.s.steps:
            raise UserError(f"checkpoint {self.checkpoint} is at step {self.step}: give "
                            f"--steps above {self.step} to train on")

    def save(self) -> None:
        """Write the checkpoint (atomically: a crash mid-write keeps the last one)."""
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        partial = self.checkpoint.with_name(self.checkpoint.name + ".partial")
        torch.save({"settings": dataclasses.asdict(self.s), "net": self.net.state_dict(),
                    "opt": self.opt.state_dict(), "rng": self.rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(), "step": self.step}, partial)
        partial.replace(self.checkpoint)
        self.saved_step = self.step

    def run(self, every: int, progress: Progress | None = None) -> dict[str, float]:
        """Train up to `settings.steps`, saving every `every` steps and at the end. Ctrl-C
        stops between two steps, saves, and raises KeyboardInterrupt, so a resumed run goes
        on exactly as if never stopped; a second Ctrl-C stops at once (the last checkpoint
        on disk stays). Returns the last losses."""
        layers = dict(self.s.layers)
        self.net.train()
        last: dict[str, float] = {}
        with _DeferredInterrupt() as interrupt:
            while self.step < self.s.steps:
                if interrupt.requested:
                    self.save()
                    raise KeyboardInterrupt
                x = sample_batch(self.images, self.rng, self.s.batch, self.s.crop)
                parts = losses(self.net, self.backbone, x, layers, self.s)
                self.opt.zero_grad(set_to_none=True)
                parts["loss"].backward()
                self.opt.step()
                self.step += 1
                last = {k: float(v.detach()) for k, v in parts.items()}
                if progress is not None:
                    progress(self.step, last)
                if self.step % every == 0 and self.step < self.s.steps:
                    self.save()
        self.save()
        return last


class _DeferredInterrupt:
    """Within the block, the first SIGINT only sets `requested` (the loop stops at a step
    boundary); the second raises KeyboardInterrupt at once. Only the main thread can take
    signals: elsewhere it changes nothing."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def train_command(args: argparse.Namespace, store: ModelStore,
                  say: Callable[[str], None] = print) -> int:
    """`python main.py train-dream`: train, checkpoint, export to ONNX with parity checked.

    Every option is checked before the pictures and the backbone load. Returns the exit
    status: 0 when the network is written, 130 after Ctrl-C (the checkpoint on disk stays).
    """
    from installation.dream.backbone import load_backbone
    from installation.dream.fastnet import export_onnx

    layers = _parse_layers(args.layers)
    out = _checked_out(args.out, store)
    settings = _settings(args, layers)
    checkpoint: Path = args.checkpoint or out.with_suffix(".ckpt")
    images = training_images(store, settings.frames_per_clip)
    trainer = Trainer(settings, load_backbone(store), images, checkpoint, args.resume)
    if trainer.step:
        say(f"resuming {checkpoint} at step {trainer.step} of {settings.steps}")
    last = _train_with_bar(trainer, args.checkpoint_every, say)
    if last is None:
        return 130
    worst = export_onnx(trainer.net, out, _export_meta(settings, getattr(args, "argv", None)))
    size_kib = out.stat().st_size / 1024
    say(f"wrote {out} ({size_kib:.0f} KiB; ONNX vs torch max |diff| {worst:.1e}); "
        f"last batch: dream {last.get('dream', 0.0):.1f}, content {last.get('content', 0.0):.4f}")
    return 0


def _parse_layers(spec: str) -> dict[int, float]:
    """`--layers` ("6:1,9:0.5") as {block: weight}; a UserError naming the option if not."""
    from installation.dream.config import parse_layers

    try:
        return {int(k): w for k, w in parse_layers(spec).items()}
    except ValueError as exc:
        raise UserError(f"--layers {spec!r}: {exc}") from None


def _checked_out(out: Path, store: ModelStore) -> Path:
    """`--out` as given, once it names a .onnx file (not a folder) in an existing folder
    and not one of the networks that ship with the project (training would overwrite it)."""
    if out.suffix != ".onnx" or not out.parent.is_dir() or out.is_dir():
        raise UserError(f"--out {out}: give a .onnx file in an existing folder, "
                        "e.g. models/dream-mine.onnx")
    for name, spec in store.manifest.models.items():
        if spec.committed and out.resolve() == store.path(name).resolve():
            raise UserError(f"--out {out}: that network ships with the project (pinned in "
                            "models/manifest.toml); give another name")
    return out


def _settings(args: argparse.Namespace, layers: dict[int, float]) -> TrainSettings:
    """The run's settings from the numeric options, each checked against its range."""
    for flag, value, low in (("--steps", args.steps, 1), ("--batch", args.batch, 1),
                             ("--checkpoint-every", args.checkpoint_every, 1),
                             ("--frames-per-clip", args.frames_per_clip, 1),
                             ("--content", args.content, 0), ("--tv", args.tv, 0)):
        if value < low:
            raise UserError(f"{flag} {value}: give at least {low}")
    if not 0 < args.lr <= 1:
        raise UserError(f"--lr {args.lr}: give a learning rate above 0 and at most 1")
    if args.crop % 4 or not 16 <= args.crop <= min(SCALE):
        raise UserError(f"--crop {args.crop}: give a multiple of 4 from 16 to {min(SCALE)} px")
    return TrainSettings(layers=tuple(sorted(layers.items())), steps=args.steps,
                         batch=args.batch, crop=args.crop, lr=args.lr,
                         content=args.content, tv=args.tv, seed=args.seed,
                         frames_per_clip=args.frames_per_clip)


def _train_with_bar(trainer: Trainer, every: int,
                    say: Callable[[str], None]) -> dict[str, float] | None:
    """Run `trainer` (checkpoint every `every` steps) under a progress bar; the last
    losses, or None after Ctrl-C, once `say` has told where the run can resume from."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as ProgressBar

    steps = trainer.s.steps
    columns = (TextColumn("train-dream"), BarColumn(), MofNCompleteColumn(),
               TextColumn("dream {task.fields[dream]:.1f} content {task.fields[content]:.4f}"),
               TimeRemainingColumn())
    with ProgressBar(*columns, transient=False) as bar:
        task = bar.add_task("train", total=steps, completed=trainer.step,
                            dream=0.0, content=0.0)

        def progress(step: int, parts: dict[str, float]) -> None:
            bar.update(task, completed=step, dream=parts["dream"], content=parts["content"])
            if not bar.console.is_terminal and step % every == 0:
                bar.console.print(f"step {step}/{steps}: dream {parts['dream']:.1f}, "
                                  f"content {parts['content']:.4f}")  # a log gets lines

        try:
            return trainer.run(every, progress)
        except KeyboardInterrupt:
            # Said inside the bar's block, so the line lands above the bar, not after it.
            kept = "none saved yet" if trainer.saved_step is None \
                else f"checkpoint {trainer.checkpoint} at step {trainer.saved_step}"
            say(f"interrupted: {kept}; run the same command with --resume to go on")
            return None


def _export_meta(settings: TrainSettings, argv: list[str] | None) -> dict[str, str]:
    """What the exported network records about how it was made (see `fastnet.read_meta`)."""
    import shlex

    return {"layers": ",".join(f"{b}:{w:g}" for b, w in settings.layers),
            "command": "python main.py " + " ".join(shlex.quote(a) for a in argv or []),
            "settings": str(dataclasses.asdict(settings))}
