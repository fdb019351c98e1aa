"""`python main.py flicker`: how much a scene's repainting flickers, plain and stabilised.

Each clip is decoded at the scene's processing size and repainted twice by the same effect
(a fresh instance each time, on a simulated 30 frames/s clock): **plain**, frame by frame,
and **stabilised**, through a `Stabiliser` with the scene's `temporal` settings switched on.
Both are judged against a reference optical flow between consecutive camera frames: DIS at
its most accurate ("reference": every pyramid level to full resolution, ten refinement
iterations), a different and more exact flow than the stabiliser's own, so the stabiliser
is not graded by its own motion estimate.

- **warping error**: mean |O_t − warp(O_{t−1})| over the pixels the reference flows say are
  visible in both frames (round trip, `flow.Grid.round_trip`), grey levels averaged over
  RGB, then over frame pairs. Pairs with fewer than `CUT_VISIBLE` of their pixels visible
  are scene cuts (nothing is seen in both): skipped, and counted.
- **ghosting error**: |O_t − P_t| where things move or appear — pixels whose reference
  flow is at least `MOVING_PX`, and pixels not seen in the last frame (what a visitor
  uncovers) — P_t the plain repainting of the same frame, both blurred by `GHOST_BLUR_PX`
  first so that stroke-level flicker mostly cancels and trails and smears remain; the mean
  over frames and the 95th percentile of the per-frame means. Its **bound**: the same
  measure for the plain repainting shown one frame late (P_{t−1} against P_t): within it
  (mean and p95), the stabilised picture trails a moving visitor less than a frame's delay
  would. Reported beside it, stricter: the plain repainting's own change along the motion
  (warp(P_{t−1}) against P_t), how far fresh paintings stray from one another once the
  motion is taken out; ghosting above that is smear the stabiliser adds to fast motion.
  Frames right after a cut are reported apart (whole frame, no bound: there the plain
  reference is another shot).
- **detail**: the stabilised outputs' mean |Laplacian| over the plain ones' (1 = as sharp;
  blending frames softens strokes that flickered).
- **still**: the first frame of the first clip held for `--still-frames` frames with
  Gaussian sensor noise (σ = `STILL_NOISE` grey levels) added to each: a visitor standing
  still in front of a real camera. Here the true flow is known (zero), and used.
- **added**: the wall time the stabiliser adds to a frame, ms (its flow runs on a helper
  thread while the network paints; `bench --temporal on|off` gives the whole cost).

With `--picture`, a strip of four consecutive frames from the middle of the first clip:
camera, plain, stabilised, and each one's frame-to-frame change |O_t − warp(O_{t−1})|
(×4, brighter is more flicker).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from installation.capture import clip_file, decode_frames
from installation.effects import Effect, Loaded, build_effect
from installation.errors import UserError
from installation.models import ModelStore
from installation.pictures import caption, write_picture
from installation.runtime import Device
from installation.show.config import Config, SceneConfig
from installation.temporal.flow import Flow, Grid, channel_mean, grey, visible
from installation.temporal.stabiliser import Stabiliser
from installation.tools.common import measured_scene, parse_size

FPS = 30.0  # the simulated clock, frames/s
CUT_VISIBLE = 0.5  # a frame pair with fewer of its pixels seen in both is a scene cut
MOVING_PX = 1.0  # reference flow from this on counts as motion, px/frame
GHOST_BLUR_PX = 2.0  # both pictures blurred (Gaussian sigma) before ghosting is measured, px
STILL_NOISE = 2.0  # sensor noise added to the held still frame (Gaussian sigma), grey levels
STRIP = 4  # frames in the picture's strip


@dataclass(frozen=True, eq=False)
class Pair:
    """The reference flow from one frame back to the one before, and what it shows."""

    back: np.ndarray  # HxWx2 float32, px
    seen: np.ndarray  # bool HxW: visible in both frames
    moving: np.ndarray  # bool HxW: reference flow ≥ MOVING_PX


def reference(frames: list[np.ndarray], held: bool = False) -> list[Pair | None]:
    """One `Pair` per consecutive frame pair (None for a scene cut). `held`: the frames are
    one picture held still, so the true flow is known: zero, every pixel seen in both."""
    h, w = frames[0].shape[:2]
    if held:
        still = Pair(np.zeros((h, w, 2), np.float32), np.ones((h, w), bool),
                     np.zeros((h, w), bool))
        return [still] * (len(frames) - 1)
    flow, grid = Flow("reference", max_width=None), Grid((w, h))
    pairs: list[Pair | None] = []
    for last, this in itertools.pairwise(frames):
        a, b = grey(this), grey(last)
        back, forward = flow(a, b), flow(b, a)
        seen = visible(grid, back, forward)
        moving = np.hypot(back[..., 0], back[..., 1]) >= MOVING_PX
        pairs.append(Pair(back, seen, moving) if seen.mean() >= CUT_VISIBLE else None)
    return pairs


def changes(outputs: list[np.ndarray], pairs: list[Pair | None]) -> list[np.ndarray | None]:
    """Per pair, |O_t − warp(O_{t−1})| (float32 HxW, grey levels); None for a cut."""
    grid = Grid((outputs[0].shape[1], outputs[0].shape[0]))
    out: list[np.ndarray | None] = []
    for (last, this), pair in zip(itertools.pairwise(outputs), pairs, strict=True):
        if pair is None:
            out.append(None)
            continue
        carried = grid.warp(last.astype(np.float32), pair.back)
        out.append(channel_mean(np.abs(this.astype(np.float32) - carried)))
    return out


def warping_error(outputs: list[np.ndarray], pairs: list[Pair | None]) -> float:
    """Mean |O_t − warp(O_{t−1})| over pixels visible in both frames, grey levels,
    averaged over the frame pairs (cuts left out)."""
    values = [float(m[pair.seen].mean())
              for m, pair in zip(changes(outputs, pairs), pairs, strict=True)
              if m is not None and pair is not None and pair.seen.any()]
    return float(np.mean(values)) if values else 0.0


def _blurred(picture: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(picture.astype(np.float32), (0, 0), GHOST_BLUR_PX)


def ghosting(outputs: list[np.ndarray], plain: list[np.ndarray], pairs: list[Pair | None]
             ) -> tuple[list[float], list[float]]:
    """Per frame after the first, mean |O_t − P_t| of the blurred pictures (grey levels):
    where things move or appear, for frames within a shot; over the whole frame, for
    frames right after a cut (see the module doc)."""
    within, after_cut = [], []
    for o, p, pair in zip(outputs[1:], plain[1:], pairs, strict=True):
        diff = channel_mean(np.abs(_blurred(o) - _blurred(p)))
        if pair is None:
            after_cut.append(float(diff.mean()))
            continue
        mask = pair.moving | ~pair.seen
        if mask.any():
            within.append(float(diff[mask].mean()))
    return within, after_cut


def ghosting_error(outputs: list[np.ndarray], plain: list[np.ndarray],
                   pairs: list[Pair | None]) -> float:
    """The mean ghosting within shots, grey levels (0 when nothing moves)."""
    within, _ = ghosting(outputs, plain, pairs)
    return float(np.mean(within)) if within else 0.0


def one_frame_late(plain: list[np.ndarray]) -> list[np.ndarray]:
    """The plain repainting shown a frame late (the ghosting bound's reference)."""
    return [plain[0], *plain[:-1]]


def carried(plain: list[np.ndarray], pairs: list[Pair | None]) -> list[np.ndarray]:
    """Each plain repainting's predecessor carried along the reference flow onto it (the
    stricter ghosting reference); after a cut, the predecessor as it is."""
    grid = Grid((plain[0].shape[1], plain[0].shape[0]))
    out = [plain[0]]
    for last, pair in zip(plain[:-1], pairs, strict=True):
        out.append(last if pair is None else grid.warp(last, pair.back))
    return out


def repaint(effect: Effect, frames: list[np.ndarray],
            stabiliser: Stabiliser | None = None) -> tuple[list[np.ndarray], float, float]:
    """Every frame repainted (through `stabiliser` when given): the outputs, the wall time
    the stabiliser adds per frame (ms, the effect's excluded) and the mean share of the
    last output it kept."""
    outputs, total_s, painting_s, kept = [], 0.0, 0.0, 0.0

    def paint(picture: np.ndarray, t: float) -> np.ndarray:
        nonlocal painting_s
        t0 = time.perf_counter()
        out = effect(picture, t)
        painting_s += time.perf_counter() - t0
        return out

    for i, frame in enumerate(frames):
        t = i / FPS
        if stabiliser is None:
            outputs.append(effect(frame, t))
            continue
        t0 = time.perf_counter()
        outputs.append(stabiliser(frame, t, functools.partial(paint, t=t)))
        total_s += time.perf_counter() - t0
        kept += stabiliser.kept
    n = len(frames)
    return outputs, 1000.0 * (total_s - painting_s) / n, kept / max(1, n - 1)


def compare(name: str, frames: list[np.ndarray], make: Callable[[], Effect],
            scene: SceneConfig, held: bool = False
            ) -> tuple[dict[str, Any], list[np.ndarray], list[np.ndarray], list[Pair | None]]:
    """One clip's result, the plain and stabilised outputs, and the reference pairs
    (`held`: see `reference`)."""
    pairs = reference(frames, held)
    plain, _, _ = repaint(make(), frames)
    stabiliser = Stabiliser(scene.temporal.model_copy(update={"enabled": True}), scene.size)
    steady, own_ms, kept = repaint(make(), frames, stabiliser)
    plain_err, steady_err = warping_error(plain, pairs), warping_error(steady, pairs)
    ghost, after_cut = ghosting(steady, plain, pairs)
    bound, _ = ghosting(one_frame_late(plain), plain, pairs)
    strict, _ = ghosting(carried(plain, pairs), plain, pairs)

    def stats(values: list[float]) -> tuple[float, float]:
        return (float(np.mean(values)), float(np.percentile(values, 95))) if values \
            else (0.0, 0.0)

    (g, g95), (b, b95), (c, c95) = stats(ghost), stats(bound), stats(strict)
    result = {
        "clip": name, "frames": len(frames), "cuts": sum(p is None for p in pairs),
        "plain": round(plain_err, 3), "stabilised": round(steady_err, 3),
        "reduction": round(1.0 - steady_err / plain_err, 3) if plain_err > 0 else None,
        "ghosting": round(g, 3), "ghosting_p95": round(g95, 3),
        "ghosting_bound": round(b, 3), "ghosting_bound_p95": round(b95, 3),
        "ghosting_ok": g <= b and g95 <= b95,
        "plain_change": round(c, 3), "plain_change_p95": round(c95, 3),
        "ghosting_after_cuts": round(float(np.mean(after_cut)), 3) if after_cut else None,
        "kept": round(kept, 3),
        "detail": round(detail(steady) / max(detail(plain), 1e-6), 3),
        "added_ms": round(own_ms, 2),
    }
    return result, plain, steady, pairs


def detail(outputs: list[np.ndarray]) -> float:
    """Mean |Laplacian| of the outputs' grey, grey levels/px²: how sharp the strokes are."""
    return float(np.mean([np.abs(cv2.Laplacian(grey(o), cv2.CV_32F)).mean() for o in outputs]))


def still_frames(frame: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """`frame` held for `count` frames, each with fresh Gaussian sensor noise."""
    rng = np.random.default_rng(seed)
    base = frame.astype(np.float32)
    return [np.clip(base + rng.normal(0.0, STILL_NOISE, base.shape) + 0.5, 0, 255
                    ).astype(np.uint8) for _ in range(count)]


def strip(frames: list[np.ndarray], plain: list[np.ndarray], steady: list[np.ndarray],
          pairs: list[Pair | None]) -> np.ndarray:
    """`STRIP` consecutive frames from the middle: camera, plain, stabilised, and the two
    outputs' frame-to-frame change (×4), along the clip's reference `pairs`."""
    start = max(1, len(frames) // 2 - STRIP // 2)
    span = slice(start - 1, start + STRIP)
    within = pairs[start - 1:start - 1 + STRIP]  # between the span's frames
    rows = [frames[span][1:], plain[span][1:], steady[span][1:]]
    for outputs in (plain[span], steady[span]):
        rows.append([_heat(m, frames[0].shape) for m in changes(outputs, within)])
    labels = ("camera", "plain", "stabilised", "plain: change x4", "stabilised: change x4")
    out = []
    for row, label in zip(rows, labels, strict=True):
        line = np.hstack(row)
        caption(line, label, (6, 16), 0.45)
        out.append(line)
    return np.vstack(out)


def _heat(change: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """A frame-to-frame change map in false colour (×4 grey levels)."""
    if change is None:  # a cut inside the strip: shown black
        return np.zeros(shape, np.uint8)
    scaled = np.clip(change * 4.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def run_flicker(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace
                ) -> int:
    """`python main.py flicker`: measure each `--source` clip (and, after the first, that
    clip's first frame held still), then print a table, or one JSON line with `--json`;
    `--picture` gets the strip of the first clip. Returns the exit status, 0."""
    scene = measured_scene(cfg, args.scene, parse_size(args.size) if args.size else None)
    if args.frames < STRIP + 1:
        raise UserError(f"--frames {args.frames}: give at least {STRIP + 1}")
    if args.still_frames < 0:
        raise UserError(f"--still-frames {args.still_frames}: give 0 (skip) or more")
    # Plain repaintings come from the same scene with the stabiliser off; `loaded` shares
    # the networks between the fresh effects that each repainting gets.
    plain_scene = scene.model_copy(update={"temporal": scene.temporal.model_copy(
        update={"enabled": False})})
    loaded: Loaded = {}

    def make() -> Effect:
        return build_effect(plain_scene, cfg.style, device, store, loaded)

    rows, picture = _measure_sources(cfg, store, scene, make, args)
    if args.picture is not None and picture is not None:
        write_picture(args.picture, picture)
    t = scene.temporal
    settings = {
        "scene": scene.name, "effect": list(scene.chain), "style": scene.styles[0],
        "size": f"{scene.size[0]}x{scene.size[1]}", "device": device.kind,
        "temporal": {"strength": t.strength, "change": t.change, "noise": t.noise,
                     "flow": t.flow},
    }
    if args.json:
        print(json.dumps({**settings, "clips": rows}))
        return 0
    _print_table(scene, device, rows)
    if args.picture is not None:
        print(f"wrote {args.picture}")
    return 0


def _measure_sources(cfg: Config, store: ModelStore, scene: SceneConfig,
                     make: Callable[[], Effect], args: argparse.Namespace
                     ) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """`compare`'s result for every `--source` clip, then for the held still (when
    `--still-frames` is above 0), and the strip of the first clip when `--picture` is given.
    """
    sources = [s for s in args.source.split(",") if s]
    clips: list[dict[str, Any]] = []
    clips_still: list[dict[str, Any]] = []
    picture: np.ndarray | None = None
    for source in sources:
        frames = decode_frames(clip_file(source, cfg.source.demo_clip, store), args.frames,
                               scene.size, loop=False)
        if len(frames) < 2:
            raise UserError(f"--source {source}: fewer than 2 pictures")
        result, plain, steady, pairs = compare(source, frames, make, scene)
        clips.append(result)
        if picture is None and args.picture is not None:
            picture = strip(frames, plain, steady, pairs)
        if source == sources[0] and args.still_frames > 0:
            held = still_frames(frames[0], args.still_frames)
            still, *_ = compare(f"still ({source}, noise {STILL_NOISE:g})", held, make,
                                scene, held=True)
            clips_still.append(still)
    return clips + clips_still, picture


def _print_table(scene: SceneConfig, device: Device, rows: list[dict[str, Any]]) -> None:
    """The scene and stabiliser settings on one line, then one line per measured clip
    (`compare`'s result; grey levels, detail in %, added time in ms)."""
    t = scene.temporal
    style = f", style {scene.styles[0]}" if scene.painter == "style" else ""
    print(f"scene {scene.name} ({' > '.join(scene.chain)}{style}) at "
          f"{scene.size[0]}x{scene.size[1]}, {device.kind}; stabiliser: strength "
          f"{t.strength:g}, change {t.change:g}, noise {t.noise:g}, flow {t.flow}")
    print(f"  {'clip':34} {'frames':>6} {'cuts':>4}   warping error plain -> stabilised"
          f"   ghosting mean/p95 (bound: a frame late)  [plain change]  detail  added")
    for r in rows:
        cut = "" if r["reduction"] is None else f"{-100 * r['reduction']:+.0f}%"
        ghost = (f"{r['ghosting']:5.2f}/{r['ghosting_p95']:5.2f} ({r['ghosting_bound']:5.2f}/"
                 f"{r['ghosting_bound_p95']:5.2f}) {'ok' if r['ghosting_ok'] else 'OVER'}  "
                 f"[{r['plain_change']:5.2f}/{r['plain_change_p95']:5.2f}]")
        print(f"  {r['clip']:34} {r['frames']:6} {r['cuts']:4}   {r['plain']:6.2f} -> "
              f"{r['stabilised']:6.2f} {cut:>5}       {ghost:48} {100 * r['detail']:4.0f}%"
              f"  {r['added_ms']:5.1f} ms")
        if r["ghosting_after_cuts"] is not None:
            print(f"  {'':34} frames right after a cut: ghosting {r['ghosting_after_cuts']:.2f} "
                  "(whole frame)")
