"""Offline studies of the walk: how much the GAN layer answers visitors, and what a walk
looks like.

Both run the installation's own stages — the perception stage (`Perceiver`, with the
person and face networks where pulled) or, with `--perception off`, the whole-picture
`MotionAnalyzer`; `LatentWalk` fed by `walk_input` as in the show; the exported generator
on ONNX Runtime — on decoded frames with a simulated clock (frame i at i / fps), so the
figures do not depend on how busy the machine is and repeat exactly.

    frames (+ sensor noise) ─► Perceiver ─► Visitors ─┐
                          └─► MotionAnalyzer (off) ───┴─► walk_input ─► LatentWalk ─► generator

    python main.py gan-response --source demo:bikes@187:242,synthetic:walkers
    python main.py gan-response --source demo:bikes --shots   # where the montage cuts
    python main.py contact-sheet --out docs/walk-eyes.png      # frames along a walk

`gan-distance` (gan_distance.py) runs the same measurement on the clip shrunk into a
corner of a larger picture.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from installation.errors import UserError
from installation.gan.renderer import MODELS, Generator, load_generator
from installation.latent import LatentWalk, WalkState
from installation.models import ModelStore
from installation.motion import MotionAnalyzer, MotionSignals
from installation.perception import Perceiver, Visitors
from installation.perception.networks import Networks, load_networks
from installation.pictures import caption, write_picture
from installation.runtime import Device
from installation.show.config import Config, SceneConfig
from installation.show.interaction import walk_input
from installation.tools.common import named_scene
from installation.tools.study_sources import (
    StudyClip,
    load_clip,
    looped,
    noisy,
    pingpong_index,
    shots,
    source_list,
    still,
)

WARMUP_S = 1.0  # left out of the figures: the smoothing and the room's model start from rest, s
MOVING_SEED, STILL_SEED = 1, 2  # sensor noise of the clip and of its still


@dataclass(frozen=True)
class Step:
    t: float  # simulated time, s
    signals: MotionSignals  # whole-picture motion (at rest when perception reads visitors)
    visitors: Visitors | None  # None: perception off
    state: WalkState
    image: np.ndarray  # the generator's picture at its own size, uint8 RGB


def pingpong(frames: Sequence[np.ndarray], count: int) -> list[np.ndarray]:
    """`count` frames playing the clip forwards, backwards, forwards...: no jump at a loop."""
    return [frames[pingpong_index(i, len(frames))] for i in range(count)]


def perceiver_for(cfg: Config, networks: Networks | None) -> Perceiver | None:
    """A fresh perception stage (its own room model, tracks and gain) on `networks`;
    None with perception off (`networks` None)."""
    if networks is None:
        return None
    return Perceiver(cfg.perception, networks.segmenter, networks.faces, networks.missing)


def simulate(frames: Sequence[np.ndarray] | None, fps: float, count: int, cfg: Config,
             scene: SceneConfig, generator: Generator,
             perceiver: Perceiver | None = None) -> Iterator[Step]:
    """`count` steps at `fps`: visitors (with `perceiver`) or whole-picture motion (without)
    from `frames` (None: nobody there), the walk following them as in the show, picture."""
    analyzer = MotionAnalyzer(cfg.motion) if perceiver is None else None
    walk = LatentWalk(cfg.walk_for(scene, generator.n_labels))
    signals, visitors = MotionSignals(), None
    for i in range(count):
        t = i / fps
        if frames is not None:
            if perceiver is not None:
                visitors = perceiver.update(frames[i], t)
            elif analyzer is not None:
                signals = analyzer.update(frames[i], t)
        state = walk.step(1.0 / fps if i else 0.0, walk_input(signals, visitors))
        yield Step(t, signals, visitors, state, generator.render(state.z, state.labels))


@dataclass(frozen=True)
class Measure:
    """Means over one run after `WARMUP_S`. `change`: the GAN picture's change between
    frames, grey levels 0..255; `speed`: the walk's drift, rad/s; `energy`: what the walk
    reads, 0..1 (after the automatic gain; whole-picture flow energy with perception off);
    `energy_raw`: the visitors' motion before the gain, body heights/s, and `visitors`:
    how many are tracked (both None with perception off)."""

    change: float
    speed: float
    energy: float
    energy_raw: float | None
    visitors: float | None

    def rounded(self) -> dict[str, float | None]:
        return {k: None if v is None else round(v, 4) for k, v in asdict(self).items()}


def measure(steps: Iterator[Step]) -> Measure:
    """The means of a run (see `Measure`)."""
    prev: np.ndarray | None = None
    changes, speeds, energies, raws, counts = [], [], [], [], []
    perceived = False
    for step in steps:
        image = step.image.astype(np.int16)
        if prev is not None and step.t >= WARMUP_S:
            changes.append(float(np.abs(image - prev).mean()))
            speeds.append(step.state.speed)
            v = step.visitors
            perceived = v is not None
            energies.append(step.signals.energy if v is None else v.energy)
            raws.append(0.0 if v is None else v.energy_raw)
            counts.append(0 if v is None else v.count)
        prev = image
    if not changes:
        raise UserError(f"the run is too short: give more than {WARMUP_S:g} s")
    return Measure(float(np.mean(changes)), float(np.mean(speeds)), float(np.mean(energies)),
                   float(np.mean(raws)) if perceived else None,
                   float(np.mean(counts)) if perceived else None)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is not above 0."""
    return None if a is None or b is None or not b > 0 else a / b


@dataclass(frozen=True)
class Response:
    """A scene with people against a still frame of the same place."""

    moving: Measure
    still: Measure

    @property
    def ratio(self) -> float | None:
        """How many times faster the GAN picture changes with the people."""
        return ratio(self.moving.change, self.still.change)

    def as_dict(self) -> dict[str, Any]:
        r = self.ratio
        return {"moving": self.moving.rounded(), "still": self.still.rounded(),
                "ratio": None if r is None else round(r, 3)}


def respond(moving: Sequence[np.ndarray], held: Sequence[np.ndarray], fps: float,
            cfg: Config, scene: SceneConfig, generator: Generator,
            networks: Networks | None) -> Response:
    """`moving` and `held` (the same length, noise in) measured, each by a fresh
    perception stage (`networks` None: perception off)."""
    count = len(moving)
    return Response(
        measure(simulate(moving, fps, count, cfg, scene, generator,
                         perceiver_for(cfg, networks))),
        measure(simulate(held, fps, count, cfg, scene, generator,
                         perceiver_for(cfg, networks))))


def clip_response(clip: StudyClip, seconds: float, noise: float, cfg: Config,
                  scene: SceneConfig, generator: Generator,
                  networks: Networks | None) -> Response:
    """`seconds` of `clip` looped (ping-pong) against its first frame held, both with
    sensor noise of `noise` grey levels."""
    count = round(seconds * clip.fps)
    moving = noisy(looped(clip, count), noise, MOVING_SEED)
    return respond(moving, still(clip.frames[0], count, clip.fps, noise, STILL_SEED),
                   clip.fps, cfg, scene, generator, networks)


# -- what the commands share ---------------------------------------------------------------------


def study_scene(cfg: Config, name: str | None) -> SceneConfig:
    """--scene, or the first scene with a generator (whose walk settings are studied)."""
    if name is not None:
        return named_scene(cfg, name)
    return next((s for s in cfg.scenes if s.generator != "none"), cfg.scenes[0])


def study_generator(args: argparse.Namespace, scene: SceneConfig, cfg: Config,
                    device: Device, store: ModelStore) -> Generator:
    name = args.generator or (scene.generator if scene.generator != "none"
                              else cfg.attract.generator)
    if name not in MODELS:
        raise UserError(f"--generator {name!r}: use one of {', '.join(MODELS)}")
    return load_generator(name, device, store)


def study_networks(cfg: Config, store: ModelStore, perception: str | None
                   ) -> Networks | None:
    """The perception stage's networks (`--perception on`, or unset with [perception]
    enabled), None for the whole-picture flow path. Without a network file: background
    subtraction alone, as the show does."""
    if (perception or ("on" if cfg.perception.enabled else "off")) == "off":
        return None
    return load_networks(cfg.perception, store)


def perception_words(networks: Networks | None) -> str:
    if networks is None:
        return "perception off (whole-picture optical flow)"
    if networks.missing:
        return f"perception on, background subtraction alone ({networks.missing})"
    return "perception on (background subtraction + person network" + \
        (" + faces)" if networks.faces is not None else ")")


def check_seconds(seconds: float) -> None:
    if seconds <= WARMUP_S + 1:
        raise UserError(f"--seconds {seconds:g}: give more than {WARMUP_S + 1:g}")


def _x(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:5.1f}x"


def _f(value: float | None, width: int = 6, digits: int = 3) -> str:
    return " " * (width - 3) + "n/a" if value is None else f"{value:{width}.{digits}f}"


# -- commands ------------------------------------------------------------------------------------


def run_response(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace) -> int:
    """`gan-response`: per source, the walk and the GAN picture with the people against a
    still frame of the same place; a table, or one JSON object with `--json`."""
    check_seconds(args.seconds)
    specs = source_list(args.source)
    if args.shots:
        return _print_shots(specs, cfg, store, args)
    scene = study_scene(cfg, args.scene)
    # The clips first: a bad source or range is one line before any network loads.
    clips = [load_clip(spec, cfg, store, args.frames) for spec in specs]
    generator = study_generator(args, scene, cfg, device, store)
    networks = study_networks(cfg, store, args.perception)
    rows = []
    for spec, clip in zip(specs, clips, strict=True):
        response = clip_response(clip, args.seconds, args.noise, cfg, scene, generator,
                                 networks)
        rows.append({"source": spec, "fps": round(clip.fps, 3),
                     "frames": [clip.start, clip.start + len(clip.frames)],
                     **response.as_dict()})
    settings = {"scene": scene.name, "generator": generator.name, "seconds": args.seconds,
                "noise": args.noise, "seed": cfg.walk.seed,
                "perception": "off" if networks is None else "on",
                "segmenter": "" if networks is None else networks.missing}
    if args.json:
        print(json.dumps({**settings, "sources": rows}))
        return 0
    print(f"scene {scene.name}, generator {generator.name}, {args.seconds:g} s simulated per "
          f"run, sensor noise {args.noise:g} grey levels, {perception_words(networks)}")
    print(f"{'':24}  {'walk rad/s':>13}  {'GAN change/frame':>22}  {'energy raw bh/s':>15}  "
          f"{'energy gained':>13}  {'visitors':>11}")
    both = f"{'people':>6} {'still':>6}"
    print(f"{'source':24}  {both}  {both} {'ratio':>8}  {both}  {both}  "
          f"{'people':>5} {'still':>5}")
    for row in rows:
        m, s = row["moving"], row["still"]
        print(f"{row['source']:24}  {m['speed']:6.3f} {s['speed']:6.3f}  {m['change']:6.2f} "
              f"{s['change']:6.2f} {_x(row['ratio']):>8}  {_f(m['energy_raw'])} "
              f"{_f(s['energy_raw'])}  {m['energy']:6.3f} {s['energy']:6.3f}  "
              f"{_f(m['visitors'], 5, 2)} {_f(s['visitors'], 5, 2)}")
    return 0


def _print_shots(specs: list[str], cfg: Config, store: ModelStore,
                 args: argparse.Namespace) -> int:
    """`gan-response --shots`: each source's shots and how much its camera moves."""
    found = {}
    for spec in specs:
        clip = load_clip(spec, cfg, store, args.frames)
        found[spec] = [{"start": clip.start + s.start, "stop": clip.start + s.stop,
                        "seconds": round((s.stop - s.start) / clip.fps, 2),
                        "camera": round(s.camera, 4), "change": round(s.change, 2)}
                       for s in shots(clip.frames, clip.fps)]
    if args.json:
        print(json.dumps({"shots": found}))
        return 0
    for spec, found_shots in found.items():
        print(f"{spec}: {len(found_shots)} shot(s); camera motion in frame widths/s "
              "(0 = fixed camera), change between frames in grey levels")
        for s in sorted(found_shots, key=lambda s: s["camera"]):
            print(f"  frames {s['start']:4d}:{s['stop']:<4d} {s['seconds']:5.2f} s  camera "
                  f"{s['camera']:.4f} widths/s  change {s['change']:5.2f}")
    return 0


def run_contact_sheet(cfg: Config, store: ModelStore, device: Device,
                      args: argparse.Namespace) -> int:
    """`contact-sheet`: `cols` x `rows` pictures taken evenly along a walk, labelled."""
    scene = study_scene(cfg, args.scene)
    clip = load_clip(args.source, cfg, store) if args.source != "none" else None
    generator = study_generator(args, scene, cfg, device, store)
    fps = 30.0
    count = round(args.seconds * fps)
    frames: Sequence[np.ndarray] | None = None
    perceiver = None
    if clip is not None:
        fps, count = clip.fps, round(args.seconds * clip.fps)
        frames = looped(clip, count)
        perceiver = perceiver_for(cfg, study_networks(cfg, store, None))
    tiles = args.cols * args.rows
    if tiles < 1 or count < tiles:
        raise UserError(f"--cols/--rows: {tiles} tiles need at least as many frames "
                        f"({count} in {args.seconds:g} s)")
    picks = {round(i * (count - 1) / max(tiles - 1, 1)) for i in range(tiles)}
    shots_ = [s for i, s in enumerate(simulate(frames, fps, count, cfg, scene, generator,
                                               perceiver)) if i in picks]
    px = args.tile
    sheet = np.zeros((args.rows * px, args.cols * px, 3), np.uint8)
    for k, step in enumerate(shots_):
        tile = cv2.resize(step.image, (px, px), interpolation=cv2.INTER_CUBIC)
        energy = step.signals.energy if step.visitors is None else step.visitors.energy
        caption(tile, f"{step.t:4.1f}s e{energy:.2f}", (4, px - 6), px / 400)
        r, c = divmod(k, args.cols)
        sheet[r * px:(r + 1) * px, c * px:(c + 1) * px] = tile
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_picture(args.out, sheet)
    print(f"wrote {args.out}: {len(shots_)} frames of a {args.seconds:g} s walk "
          f"({generator.name}, seed {cfg.walk.seed}, visitors from {args.source})")
    return 0
