"""`python main.py gan-distance`: the same people seen from farther away.

Each source is measured as `gan-response` measures it (the people against a still frame of
the same place), then shrunk by `--scale` per side (area-averaged: what a camera sees of
the scene from farther away) and placed in a corner of a picture of the original size —
black, the clip's first frame blurred (a still place), or the synthetic room — and
measured again, against the same inset of its first frame held still:

    clip, looped ──► inset(scale, background, corner) + sensor noise ─┐
    first frame held ─► inset(scale, background, corner) + noise ─────┴─► Perceiver ─► walk ─► GAN

It passes when the energy, both the visitors' motion before the automatic gain (body
heights/s) and after it, is within `ENERGY_TOLERANCE` of the original's and the inset
answers its people at least `MIN_RATIO` times faster than its still (the issue's "distance
test"). With `--perception off` the whole-picture flow path is measured the same way (its
energy has no raw figure).

    python main.py gan-distance                                 # every demo clip + walkers
    python main.py gan-distance --source demo:bikes@187:242 --scale 0.25 --json
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import cv2
import numpy as np

from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import Config, SceneConfig
from installation.tools.gan_study import (
    MOVING_SEED,
    STILL_SEED,
    Response,
    check_seconds,
    clip_response,
    perception_words,
    ratio,
    respond,
    study_generator,
    study_networks,
    study_scene,
)
from installation.tools.people_scenes import Clip, inset, room
from installation.tools.study_sources import StudyClip, load_clip, looped, source_list, still

ENERGY_TOLERANCE = 0.3  # the inset's energy within this share of the original's
MIN_RATIO = 3.0  # the inset's GAN change with people / with its still, at least
STILL_BLUR = 0.01  # the `still` background: the first frame blurred by this σ, widths
BACKGROUNDS = ("black", "still", "room")


def background(kind: str, first: np.ndarray) -> np.ndarray:
    """The picture the shrunk clip is placed on, the size of `first` (H x W x 3 uint8):
    black; `first` blurred (the same place, still); or the synthetic empty room."""
    h, w = first.shape[:2]
    if kind == "black":
        return np.zeros_like(first)
    if kind == "still":
        return cv2.GaussianBlur(first, (0, 0), STILL_BLUR * w)
    if kind == "room":
        return room((w, h))
    raise ValueError(f"background {kind!r}: use one of {', '.join(BACKGROUNDS)}")


def distance_scenes(clip: StudyClip, count: int, scale: float, kind: str, corner: str,
                    noise: float) -> tuple[Clip, Clip]:
    """`count` frames of `clip` (looped) and of its first frame held, each shrunk by
    `scale` per side into `corner` of the background `kind`, with fresh sensor noise of
    `noise` grey levels over the whole picture."""
    place = background(kind, clip.frames[0])
    moving = inset(looped(clip, count), scale, place, corner, MOVING_SEED, noise)
    held = still(clip.frames[0], count, clip.fps, 0.0, 0)
    return moving, inset(held, scale, place, corner, STILL_SEED, noise)


def _change(inset_value: float | None, original: float | None) -> float | None:
    """How far the inset's figure is from the original's, as a share of it."""
    r = ratio(inset_value, original)
    return None if r is None else r - 1.0


def judge(original: Response, far: Response) -> dict[str, Any]:
    """The distance test of one inset against its original (see the module docstring)."""
    raw = _change(far.moving.energy_raw, original.moving.energy_raw)
    gained = _change(far.moving.energy, original.moving.energy)
    raw_ok = original.moving.energy_raw is None or (raw is not None
                                                    and abs(raw) <= ENERGY_TOLERANCE)
    energy_ok = raw_ok and gained is not None and abs(gained) <= ENERGY_TOLERANCE
    ratio_ok = far.ratio is not None and far.ratio >= MIN_RATIO
    return {"energy_raw_change": None if raw is None else round(raw, 4),
            "energy_change": None if gained is None else round(gained, 4),
            "energy_ok": energy_ok, "ratio_ok": ratio_ok, "pass": energy_ok and ratio_ok}


def run_distance(cfg: Config, store: ModelStore, device: Device,
                 args: argparse.Namespace) -> int:
    """`gan-distance`: a table (or one JSON object with `--json`); exit 1 with `--check`
    when an inset fails."""
    check_seconds(args.seconds)
    specs = source_list(args.source)
    scene = study_scene(cfg, args.scene)
    # The clips first: a bad source or range is one line before any network loads.
    clips = [load_clip(spec, cfg, store, args.frames) for spec in specs]
    generator = study_generator(args, scene, cfg, device, store)
    networks = study_networks(cfg, store, args.perception)
    rows: list[dict[str, Any]] = []
    failed = 0
    for spec, clip in zip(specs, clips, strict=True):
        count = round(args.seconds * clip.fps)
        original = clip_response(clip, args.seconds, args.noise, cfg, scene, generator,
                                 networks)
        insets = []
        for scale in args.scale:
            moving, held = distance_scenes(clip, count, scale, args.background, args.corner,
                                           args.noise)
            far = respond(moving, held, clip.fps, cfg, scene, generator, networks)
            verdict = judge(original, far)
            failed += not verdict["pass"]
            insets.append({"scale": scale, **far.as_dict(), **verdict})
        rows.append({"source": spec, "fps": round(clip.fps, 3),
                     "frames": [clip.start, clip.start + len(clip.frames)],
                     "original": original.as_dict(), "insets": insets})
    settings = {"scene": scene.name, "generator": generator.name, "seconds": args.seconds,
                "noise": args.noise, "seed": cfg.walk.seed, "background": args.background,
                "corner": args.corner, "perception": "off" if networks is None else "on",
                "segmenter": "" if networks is None else networks.missing,
                "energy_tolerance": ENERGY_TOLERANCE, "min_ratio": MIN_RATIO,
                "failed": failed}
    if args.json:
        print(json.dumps({**settings, "sources": rows}))
    else:
        _print_table(scene, generator.name, args, perception_words(networks), rows)
    return 1 if args.check and failed else 0


def _pct(change: float | None) -> str:
    return "   n/a" if change is None else f"{100 * change:+5.0f}%"


def _e(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def _r(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:5.1f}x"


def _print_table(scene: SceneConfig, generator: str, args: argparse.Namespace,
                 perception: str, rows: list[dict[str, Any]]) -> None:
    print(f"scene {scene.name}, generator {generator}, {args.seconds:g} s simulated per run, "
          f"sensor noise {args.noise:g} grey levels, {perception}; the clip shrunk into the "
          f"{args.corner} corner of a {args.background} background")
    print(f"pass: energy raw and gained within {100 * ENERGY_TOLERANCE:.0f}% of the "
          f"original, and GAN ratio (people / still) at least {MIN_RATIO:g}x")
    print(f"{'':24} {'':5}  {'energy raw, bh/s':>19}  {'energy gained':>19}  "
          f"{'GAN ratio':>13}  {'visitors':>11}")
    print(f"{'source':24} {'scale':>5}  {'orig':>5} {'inset':>5} {'diff':>6}  {'orig':>5} "
          f"{'inset':>5} {'diff':>6}  {'orig':>6} {'inset':>6}  {'orig':>5} {'inset':>5}  pass")
    for row in rows:
        o = row["original"]
        om = o["moving"]
        for i in row["insets"]:
            im = i["moving"]
            visitors = "  n/a   n/a" if om["visitors"] is None else \
                f"{om['visitors']:5.2f} {im['visitors']:5.2f}"
            print(f"{row['source']:24} {i['scale']:5.3g}  {_e(om['energy_raw'])} "
                  f"{_e(im['energy_raw'])} {_pct(i['energy_raw_change'])}  "
                  f"{_e(om['energy'])} {_e(im['energy'])} {_pct(i['energy_change'])}  "
                  f"{_r(o['ratio'])} {_r(i['ratio'])}  {visitors}  "
                  f"{'yes' if i['pass'] else 'NO'}")
