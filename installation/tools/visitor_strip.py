"""`python main.py visitor-strip`: the scenes that place things on visitors, as a picture.

One row per (scene, clip), a few frames taken along the clip, each captioned with the
scene, the time and how many visitors are tracked. Each row runs the show's own stages
offline, with a simulated clock (frame i at i / fps) and sensor noise, so the picture is
the same on every machine:

    clip + noise ─┬─► Perceiver (every frame) ─► Visitors ─► walk_input ─► LatentWalk ─► generator
                  ├─► the scene's effect (built as the show builds it) ──┐          (at a pick)
                  └─► raw ──────────────────────────────────────────────┴─► compose(layers,
                                                         visitors, raw, walk's intensity) ─► tile

The effect (the slow part: a style network with temporal stabilisation) runs only on the
`RUN_IN` frames up to each picked frame, its stabiliser started afresh at each, so a row
costs a few seconds; the perception stage and the walk run on every frame, as in the show.
Attract mode is left out: every tile shows the scene's own layers (nobody there: the
layers placed on visitors add nothing).

    python main.py visitor-strip --out docs/visitors-strip.png
    python main.py visitor-strip --rows masks=synthetic:walkers,eyes=demo:bikes@187:242
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from installation.compositor import compose
from installation.effects import Loaded, build_effect, stabiliser_of
from installation.effects.base import Effect
from installation.errors import UserError
from installation.gan.renderer import INTERPOLATIONS, Generator, load_generator
from installation.latent import LatentWalk
from installation.models import ModelStore
from installation.motion import MotionAnalyzer, MotionSignals
from installation.perception import Perceiver
from installation.perception.networks import Networks, load_networks
from installation.pictures import cover, write_picture
from installation.runtime import Device
from installation.show.config import Config, SceneConfig
from installation.show.interaction import walk_input
from installation.tools.common import named_scene
from installation.tools.study_sources import StudyClip, load_clip, looped, noisy

RUN_IN = 6  # frames the effect paints up to each picked frame (its stabiliser settles)
WARM_S = 1.5  # the first pick comes this late: the room is learned, tracks confirmed, s
NOISE = 2.0  # sensor noise, grey levels
SEED = 7  # of the sensor noise
DEFAULT_SOURCE = "synthetic:near"
REAL_ROW = ("masks", "demo:carphone")  # a real clip: a man near the camera, a face over him


@dataclass(frozen=True)
class Tile:
    picture: np.ndarray  # the composed frame at the scene's size, uint8 RGB
    t: float  # simulated time, s
    visitors: int


def parse_rows(text: str | None, cfg: Config) -> list[tuple[SceneConfig, str]]:
    """`--rows` ("SCENE=SOURCE,...") as (scene, source) pairs; by default every scene that
    uses visitors on `DEFAULT_SOURCE`, then `REAL_ROW`. UserError (one line) for a row
    that is not SCENE=SOURCE or names no scene."""
    if text is None:
        rows = [(s, DEFAULT_SOURCE) for s in cfg.scenes if s.uses_visitors]
        if any(s.name == REAL_ROW[0] for s in cfg.scenes):
            rows.append((cfg.scene(REAL_ROW[0]), REAL_ROW[1]))
        if not rows:
            raise UserError("no scene in the config uses visitors: give --rows SCENE=SOURCE")
        return rows
    rows = []
    for item in (part.strip() for part in text.split(",")):
        name, eq, source = item.partition("=")
        if not eq or not name.strip() or not source.strip():
            raise UserError(f"--rows {item!r}: give SCENE=SOURCE, e.g. "
                            f"eyes={DEFAULT_SOURCE}")
        rows.append((named_scene(cfg, name.strip()), source.strip()))
    return rows


def picks(count: int, fps: float, cols: int) -> list[int]:
    """`cols` frame numbers spread evenly from `WARM_S` to the clip's last frame."""
    first = min(round(WARM_S * fps), count - 1)
    chosen = sorted({round(first + k * (count - 1 - first) / max(cols - 1, 1))
                     for k in range(cols)})
    if len(chosen) < cols:
        raise UserError(f"--cols {cols}: the clip has only {count - first} frames after "
                        f"{WARM_S:g} s; give fewer columns or a longer clip")
    return chosen


class Row:
    """One scene's pipeline, offline: the effect, its GAN painter, the generator and walk,
    the perception stage and (for motion-placed layers) the motion analysis."""

    def __init__(self, cfg: Config, scene: SceneConfig, device: Device, store: ModelStore,
                 networks: Networks, loaded: Loaded, generators: dict[str, Generator]) -> None:
        self.cfg, self.scene = cfg, scene
        self.effect: Effect = build_effect(scene, cfg.style, device, store, loaded)
        self.painter: Effect | None = None
        if scene.paint_gan and scene.has_gan and scene.painter:
            self.painter = build_effect(scene, cfg.style, device, store, loaded,
                                        (scene.painter,))
        self.generator: Generator | None = None
        self.walk: LatentWalk | None = None
        if scene.has_gan and scene.generator != "none":
            name = scene.generator
            if name not in generators:
                generators[name] = load_generator(name, device, store)
            self.generator = generators[name]
            self.walk = LatentWalk(cfg.walk_for(scene, self.generator.n_labels))
        self.perceiver = Perceiver(cfg.perception, networks.segmenter, networks.faces,
                                   networks.missing)
        needs_motion = any(layer.placement == "motion" for layer in scene.layers)
        self.analyzer = MotionAnalyzer(cfg.motion) if needs_motion else None

    def run(self, clip: StudyClip, chosen: list[int]) -> list[Tile]:
        """The composed pictures at the frames `chosen` (ascending) of `clip`."""
        scene, fps = self.scene, clip.fps
        frames = noisy(looped(clip, chosen[-1] + 1), NOISE, SEED)
        paint_from = {i for p in chosen for i in range(max(0, p - RUN_IN + 1), p + 1)}
        stabiliser = stabiliser_of(self.effect)
        signals, tiles = MotionSignals(), []
        painted: np.ndarray | None = None
        for i in range(chosen[-1] + 1):
            t, frame = i / fps, frames[i]
            visitors = self.perceiver.update(frame, t)
            if self.analyzer is not None:
                signals = self.analyzer.update(frame, t)
            state = None if self.walk is None else \
                self.walk.step(1.0 / fps if i else 0.0, walk_input(signals, visitors))
            if i not in paint_from:
                continue
            if i - 1 not in paint_from and stabiliser is not None:
                stabiliser.reset()  # a jump in time: steadied afresh, not from a far frame
            painted = self.effect(frame, t)
            if i not in chosen:
                continue
            gan = None
            if self.generator is not None and state is not None:
                gan = cv2.resize(self.generator.render(state.z, state.labels), scene.size,
                                 interpolation=INTERPOLATIONS[
                                     self.cfg.compositor.gan_interpolation])
                if self.painter is not None:
                    gan = self.painter(gan, t)
            mask = signals.mask if signals.mask.size > 1 else None
            picture = compose(scene.layers, painted, gan, mask, t,
                              1.0 if state is None else state.intensity,
                              visitors=visitors, raw=frame)
            tiles.append(Tile(picture, t, visitors.count))
        return tiles


def sheet(rows: list[tuple[str, str, list[Tile]]], tile_w: int) -> np.ndarray:
    """The rows of tiles side by side, each tile `tile_w` px wide (the first scene's
    aspect; others covered to it) and captioned."""
    first = rows[0][2][0].picture
    tile_h = max(1, round(tile_w * first.shape[0] / first.shape[1]))
    out = []
    for scene, source, tiles in rows:
        cells = []
        for k, tile in enumerate(tiles):
            cell = np.ascontiguousarray(cover(tile.picture, (tile_w, tile_h)))
            people = f"{tile.visitors} visitor{'' if tile.visitors == 1 else 's'}"
            label(cell, f"{scene}  {tile.t:.1f} s  {people}", bottom=True)
            if k == 0:
                label(cell, source, bottom=False)
            cells.append(cell)
        out.append(np.hstack(cells))
    return np.vstack(out)


def label(cell: np.ndarray, text: str, bottom: bool) -> None:
    """`text` in white on a darkened band along the bottom (or top) of `cell`, in place;
    sized to the cell (legible from ~120 px wide). A band rather than an outline: at small
    sizes OpenCV's outlined glyphs drift away from the letters they outline."""
    h, w = cell.shape[:2]
    scale = min(w / 560, h / 100)  # OpenCV font scale
    (_, text_h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    band = text_h + base + 6
    rows = slice(h - band, h) if bottom else slice(0, band)
    cell[rows] = cell[rows] // 3
    y = h - base - 3 if bottom else text_h + 3
    cv2.putText(cell, text, (4, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                cv2.LINE_AA)


def write_sheet(path: Path, picture: np.ndarray, colours: int) -> None:
    """`picture` to `path`; with `colours` (PNG only), as a palette of that many colours
    (a fraction of the size; the captions and the paintings survive it)."""
    if not colours:
        write_picture(path, picture)
        return
    if path.suffix.lower() != ".png":
        raise UserError(f"--colours goes with a .png output, not {path.name}")
    try:
        Image.fromarray(picture).quantize(colours, dither=Image.Dither.NONE).save(
            path, optimize=True)
    except OSError as exc:
        raise UserError(f"output file {path} cannot be written: {exc}") from None


def run_strip(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace) -> int:
    """`visitor-strip`: every row run, the picture written; returns the exit status, 0."""
    rows = parse_rows(args.rows, cfg)
    if not args.out.parent.is_dir():
        raise UserError(f"--out {args.out}: folder {args.out.parent} does not exist")
    networks = load_networks(cfg.perception, store)
    loaded: Loaded = {}
    generators: dict[str, Generator] = {}
    clips: dict[str, StudyClip] = {}
    done = []
    for scene, source in rows:
        if source not in clips:
            clips[source] = load_clip(source, cfg, store)
        clip = clips[source]
        chosen = picks(len(clip.frames), clip.fps, args.cols)
        tiles = Row(cfg, scene, device, store, networks, loaded, generators).run(clip, chosen)
        done.append((scene.name, source, tiles))
    picture = sheet(done, args.tile)
    write_sheet(args.out, picture, args.colours)
    h, w = picture.shape[:2]
    print(f"wrote {args.out} ({w}x{h}): {len(done)} rows x {args.cols} frames "
          f"({', '.join(f'{s}={src}' for s, src, _ in done)})")
    return 0
