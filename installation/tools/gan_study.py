"""Offline studies of the walk: how much the GAN layer answers motion, and what a walk looks like.

Both run the installation's own stages — `MotionAnalyzer`, `LatentWalk`, the exported
generator on ONNX Runtime — on decoded frames with a simulated clock (frame i at i / fps),
so the figures do not depend on how busy the machine is and repeat exactly.

    python main.py gan-response --source demo:carphone     # moving clip vs its still
    python main.py contact-sheet --out docs/walk-eyes.png  # frames along a walk
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from installation.capture import clip_file, decode_frames
from installation.capture.video import file_fps
from installation.errors import UserError
from installation.gan.renderer import MODELS, Generator, load_generator
from installation.latent import LatentWalk, WalkState
from installation.models import ModelStore
from installation.motion import MotionAnalyzer, MotionSignals
from installation.pictures import caption, write_picture
from installation.runtime import Device
from installation.show.config import Config, SceneConfig
from installation.show.interaction import walk_input
from installation.tools.common import named_scene

WARMUP_S = 1.0  # left out of the change figures: the motion smoothing starts from rest, s


@dataclass(frozen=True)
class Step:
    t: float  # simulated time, s
    signals: MotionSignals
    state: WalkState
    image: np.ndarray  # the generator's picture at its own size, uint8 RGB


def pingpong(frames: Sequence[np.ndarray], count: int) -> list[np.ndarray]:
    """`count` frames playing the clip forwards, backwards, forwards...: no jump at a loop."""
    if len(frames) < 2:
        return [frames[0]] * count
    period = 2 * len(frames) - 2
    out = []
    for i in range(count):
        k = i % period
        out.append(frames[k if k < len(frames) else period - k])
    return out


def with_noise(frames: Sequence[np.ndarray], sigma: float, seed: int = 0) -> list[np.ndarray]:
    """Frames with Gaussian sensor noise of `sigma` grey levels, as a camera delivers them."""
    if sigma <= 0:
        return list(frames)
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0.0, sigma, f.shape), 0, 255).astype(np.uint8)
            for f in frames]


def simulate(frames: Sequence[np.ndarray] | None, fps: float, count: int, cfg: Config,
             scene: SceneConfig, generator: Generator) -> Iterator[Step]:
    """`count` steps at `fps`: motion from `frames` (None: nobody there), walk, picture."""
    analyzer = MotionAnalyzer(cfg.motion)
    walk = LatentWalk(cfg.walk_for(scene, generator.n_labels))
    signals = MotionSignals()
    for i in range(count):
        t = i / fps
        if frames is not None:
            signals = analyzer.update(frames[i], t)
        state = walk.step(1.0 / fps if i else 0.0, walk_input(signals))
        yield Step(t, signals, state, generator.render(state.z, state.labels))


def mean_change(steps: Iterator[Step]) -> tuple[float, float]:
    """(mean per-frame change of the GAN picture in grey levels 0..255, mean energy)."""
    prev: np.ndarray | None = None
    changes, energies = [], []
    for step in steps:
        image = step.image.astype(np.int16)
        if prev is not None and step.t >= WARMUP_S:
            changes.append(float(np.abs(image - prev).mean()))
            energies.append(step.signals.energy)
        prev = image
    return float(np.mean(changes)), float(np.mean(energies))


# -- commands ------------------------------------------------------------------------------


def _scene(cfg: Config, name: str | None) -> SceneConfig:
    if name is not None:
        return named_scene(cfg, name)
    return next((s for s in cfg.scenes if s.generator != "none"), cfg.scenes[0])


def _generator(args: argparse.Namespace, scene: SceneConfig, cfg: Config, device: Device,
               store: ModelStore) -> Generator:
    name = args.generator or (scene.generator if scene.generator != "none"
                              else cfg.attract.generator)
    if name not in MODELS:
        raise UserError(f"--generator {name!r}: use one of {', '.join(MODELS)}")
    return load_generator(name, device, store)


def _clip(uri: str, cfg: Config, store: ModelStore, seconds: float
          ) -> tuple[list[np.ndarray], float]:
    """`seconds` of a clip at its own rate, ping-pong looped, small, and its fps."""
    path = clip_file(uri, cfg.source.demo_clip, store)
    fps = file_fps(path)
    count = round(seconds * fps)
    frames = decode_frames(path, count, None, loop=False)
    # Twice the motion analysis width: all the flow needs, and light to hold in memory.
    w = cfg.motion.width * 2
    h = round(w * frames[0].shape[0] / frames[0].shape[1])
    small = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames]
    return pingpong(small, count), fps


def run_response(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace) -> int:
    """`gan-response`: mean per-frame GAN change on a moving clip and on its first frame."""
    if args.seconds <= WARMUP_S + 1:
        raise UserError(f"--seconds {args.seconds:g}: give more than {WARMUP_S + 1:g}")
    scene = _scene(cfg, args.scene)
    generator = _generator(args, scene, cfg, device, store)
    frames, fps = _clip(args.source, cfg, store, args.seconds)
    count = len(frames)
    moving = with_noise(frames, args.noise, seed=1)
    still = with_noise([frames[0]] * count, args.noise, seed=2)
    m_change, m_energy = mean_change(simulate(moving, fps, count, cfg, scene, generator))
    s_change, s_energy = mean_change(simulate(still, fps, count, cfg, scene, generator))
    result = {
        "source": args.source, "scene": scene.name, "generator": generator.name,
        "seconds": args.seconds, "fps": round(fps, 3), "noise": args.noise,
        "seed": cfg.walk.seed,
        "moving": {"change": round(m_change, 4), "energy": round(m_energy, 4)},
        "still": {"change": round(s_change, 4), "energy": round(s_energy, 4)},
        "ratio": round(m_change / s_change, 3) if s_change > 0 else None,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.source} at {fps:.2f} fps for {args.seconds:g} s, scene {scene.name}, "
          f"generator {generator.name}, sensor noise {args.noise:g} grey levels")
    print(f"  moving clip   GAN change {m_change:6.2f} grey levels/frame   "
          f"mean energy {m_energy:.3f}")
    print(f"  still frame   GAN change {s_change:6.2f} grey levels/frame   "
          f"mean energy {s_energy:.3f}")
    print(f"  ratio moving / still: {result['ratio']}")
    return 0


def run_contact_sheet(cfg: Config, store: ModelStore, device: Device,
                      args: argparse.Namespace) -> int:
    """`contact-sheet`: `cols` x `rows` pictures taken evenly along a walk, labelled."""
    scene = _scene(cfg, args.scene)
    generator = _generator(args, scene, cfg, device, store)
    fps = 30.0
    count = round(args.seconds * fps)
    frames = None
    if args.source != "none":
        frames, fps = _clip(args.source, cfg, store, args.seconds)
        count = len(frames)
    tiles = args.cols * args.rows
    if tiles < 1 or count < tiles:
        raise UserError(f"--cols/--rows: {tiles} tiles need at least as many frames "
                        f"({count} in {args.seconds:g} s)")
    picks = {round(i * (count - 1) / max(tiles - 1, 1)) for i in range(tiles)}
    shots = [s for i, s in enumerate(simulate(frames, fps, count, cfg, scene, generator))
             if i in picks]
    px = args.tile
    sheet = np.zeros((args.rows * px, args.cols * px, 3), np.uint8)
    for k, step in enumerate(shots):
        tile = cv2.resize(step.image, (px, px), interpolation=cv2.INTER_CUBIC)
        label = f"{step.t:4.1f}s e{step.signals.energy:.2f}"
        caption(tile, label, (4, px - 6), px / 400)
        r, c = divmod(k, args.cols)
        sheet[r * px:(r + 1) * px, c * px:(c + 1) * px] = tile
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_picture(args.out, sheet)
    print(f"wrote {args.out}: {len(shots)} frames of a {args.seconds:g} s walk "
          f"({generator.name}, seed {cfg.walk.seed}, motion from {args.source})")
    return 0
