"""The command line's declarations: subcommands, flags, defaults, checked argument types.

Examples:
    python main.py                              # run as config.toml says
    python main.py --source demo --headless --duration 10 --record out.mp4
    python main.py --source webcam:1 --scene colour-kept --stats stats.jsonl
    python main.py models pull                  # fetch, verify, convert every model
    python main.py stylize photo.jpg out.png --style 7 --size 640
    python main.py bench --source demo --size 320x180 --frames 300
    python main.py gan-response --source demo:bikes@187:242,synthetic:walkers
    python main.py gan-distance --scale 0.25,0.5   # the same people, seen from farther away
    python main.py visitor-strip --out docs/visitors-strip.png
    python main.py contact-sheet --out docs/walk-eyes.png
    python main.py train-dream --layers 6 --out models/dream-mine.onnx
    python main.py dream-compare --picture docs/dream-compare.jpg
    python main.py doctor                       # what this machine lacks, what to fix
    python main.py --help-keys
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from installation.tools.ranges import FrameRange, frame_range


class Refused(Exception):
    """The command line itself is wrong (an unknown flag, a bad number): one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one `error:` line (exit 2) instead of usage and an exit
    from deep inside the parser; `main` prints it."""

    def error(self, message: str) -> NoReturn:
        raise Refused(f"{message.removeprefix('argument ')} (see `{self.prog} --help`)")


def _number(kind: type[int] | type[float], low: float, high: float,
            low_open: bool = False) -> Callable[[str], Any]:
    """An argparse `type`: a finite `kind` within low..high (above `low` when `low_open`);
    anything else is refused in one line that argparse prefixes with the flag."""
    def g(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"

    wanted = (f"above {g(low)} and at most {g(high)}" if low_open
              else f"from {g(low)} to {g(high)}")
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}: give one {wanted}"
                                             ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number: give one {wanted}")
        if value < low or value > high or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"{text} is out of range: give {noun} {wanted}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _positive(high: float) -> Callable[[str], Any]:
    """A finite float above 0 and at most `high` (seconds, rates)."""
    return _number(float, 0.0, high, low_open=True)


def _count(low: int, high: int) -> Callable[[str], Any]:
    return _number(int, low, high)


def _frame_range(text: str) -> FrameRange:
    """An argparse `type`: "START:STOP" frame numbers (either may be left out), STOP not
    included, 0 <= START < STOP."""
    found = frame_range(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is no frame range: give START:STOP, "
                                         "0 <= START < STOP, e.g. 187:242 (STOP not included)")
    return found


def _scales(text: str) -> list[float]:
    """An argparse `type`: comma-separated sizes per side, each above 0 and below 1."""
    one = _number(float, 0.0, 1.0, low_open=True)
    try:
        values = [one(v) for v in text.split(",")]
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    if any(v >= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: each scale must be below 1 (1 is the "
                                         "original), e.g. 0.25,0.5")
    return values


def _config_flags(*extra: str) -> _Parser:
    """The global flags a subcommand also takes after its name (`doctor --config X` as well
    as `--config X doctor`); not given there, the value before the name stands."""
    flags = _Parser(add_help=False)
    flags.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                       help="config file (default: ./config.toml, else the one beside "
                       "main.py)")
    if "record" in extra:
        flags.add_argument("--record", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                           help="the recording a run would write: its disk is checked too")
    return flags


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python main.py",
        description="A real-time interactive AI art installation. With no command it runs "
        "the show as config.toml says.",
        epilog=__doc__.split("\n", 2)[2] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, default=None,
                   help="config file (default: ./config.toml, else the one beside main.py)")
    p.add_argument("--source", help="override source.uri: webcam:N, /dev/videoN, a video, "
                   "an image, demo or demo:CLIP")
    p.add_argument("--scene", help="start with this scene (overrides start_scene)")
    p.add_argument("--headless", action="store_true",
                   help="show nothing (still runs the whole pipeline)")
    p.add_argument("--duration", type=_positive(1e8), metavar="SECONDS",
                   help="stop after this many seconds (default: run until quit; "
                   "headless: headless.duration_s)")
    p.add_argument("--record", type=Path, metavar="PATH",
                   help="write what is shown to an H.264 MP4")
    p.add_argument("--stats", type=Path, metavar="PATH",
                   help="write one JSON line of telemetry per shown frame")
    p.add_argument("--help-keys", action="store_true", help="print the keyboard map and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    common = [_config_flags()]

    sub.add_parser("doctor", parents=[_config_flags("record")],
                   help="check config, scenes, camera, display, GPU, models, disk and ports; "
                   "say what to fix")

    m = sub.add_parser("models", help="pull, list or verify the pretrained models")
    m.add_argument("action", choices=["pull", "list", "verify"])

    s = sub.add_parser("stylize", parents=common,
                       help="preview a style on a still picture")
    s.add_argument("input", type=Path)
    s.add_argument("output", type=Path, help="output picture (.png lossless, or .jpg)")
    s.add_argument("--style", type=_count(0, 1 << 30), default=0,
                   help="style index 0..25 (default: 0)")
    s.add_argument("--size", type=_count(16, 4096), metavar="PX",
                   help="longer side of the output, 16..4096 px (default: the input's size)")
    s.add_argument("--strength", type=_number(float, 0.0, 1.0), default=1.0,
                   help="0 = the photo, 1 = fully painted (default: 1.0)")
    s.add_argument("--preserve-color", action="store_true",
                   help="keep the photo's colours, take the style's strokes")
    s.add_argument("--style-image", type=Path, metavar="PAINTING",
                   help="use any painting as the style (arbitrary-style network)")
    s.add_argument("--effect", default="style", metavar="EFFECT",
                   help="style (default), dream (the iterative dream) or fast-dream:NAME "
                   "(a trained dream network, models/dream-NAME.onnx)")
    s.add_argument("--layers", help="with --effect dream: blocks and weights, e.g. 6:1,9:0.5")

    b = sub.add_parser("bench", parents=common,
                       help="measure the pipeline against the bare network call")
    b.add_argument("--source", default="demo", help="a video file or demo[:CLIP] "
                   "(default: demo)")
    b.add_argument("--size", default="320x180", help="processing size WxH (default: 320x180)")
    b.add_argument("--frames", type=_count(1, 100_000), default=300,
                   help="frames per run (default: 300)")
    b.add_argument("--sizes", metavar="WxH,WxH,...",
                   help="sweep these sizes (bare and pipeline at each), e.g. "
                   "320x180,640x360,1280x720")
    b.add_argument("--scene", help="scene to measure (default: the first style scene)")
    b.add_argument("--temporal", choices=["on", "off"], help="temporal stabilisation on or "
                   "off (default: as the scene is configured)")
    b.add_argument("--record", choices=["on", "off"], default="off",
                   help="record the pipeline run to a temporary file at the [recording] "
                   "size (default: off)")
    b.add_argument("--source-fps", type=_positive(10_000.0), default=240.0,
                   help="rate the replayed frames arrive at, frames/s (default: 240)")
    b.add_argument("--engine", metavar="ENGINE[:PRECISION],...",
                   help="engines measured side by side, each exactly as named: auto, "
                   "onnxruntime, openvino, torch, e.g. onnxruntime,openvino:fp32,openvino:bf16 "
                   "(default: [runtime] engine)")
    b.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"],
                   help="precision for engines named without one (default: auto)")
    b.add_argument("--surfaces", action="store_true",
                   help="instead: the show with every operator surface on (web console "
                   "with preview, OSC out, MIDI, NDI where installed) against it with them "
                   "off, in turns")
    b.add_argument("--remote", action="store_true",
                   help="instead: each network on a serving engine ([runtime] remote, or "
                   "one started on loopback) against locally: added latency per call, and "
                   "throughput with 1, 2 and 4 display clients at once")
    b.add_argument("--served", metavar="NAME,NAME,...",
                   help="with --remote: the networks measured (default: multistyle26, "
                   "fast-dream:ripples, gan-eyes; any that serve hosts, e.g. live-dream)")
    b.add_argument("--networks", action="store_true",
                   help="instead: every network alone on each --engine at --size, with "
                   "its parity against fp32 onnxruntime")

    sv = sub.add_parser("serve", parents=common,
                        help="serve the networks to display machines from this one (NVIDIA "
                        "Triton; display machines set [runtime] remote)")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default: 127.0.0.1; Triton has no "
                    "authentication: only a network of the installation's own machines)")
    sv.add_argument("--port", type=_count(1, 65533), default=8000,
                    help="HTTP port (health); gRPC is the next, metrics the one after "
                    "(default: 8000, 8001, 8002)")
    sv.add_argument("--networks", metavar="NAME,NAME,...",
                    help="the networks to host (default: all): multistyle26, "
                    "arbitrary-predict, arbitrary-transform, fast-dream:NAME, gan-eyes, "
                    "gan-faces, live-dream")
    sv.add_argument("--batch-delay-ms", type=_positive(1000.0), default=2.0,
                    help="how long a request may wait for others to batch with, ms "
                    "(default: 2)")

    g = sub.add_parser("gan-response", parents=common,
                       help="how much faster the walk and the GAN layer go with people "
                       "than on a still frame of the same place")
    g.add_argument("--source", default="demo:carphone",
                   help="comma-separated: demo:CLIP, a video file or synthetic:NAME "
                   "(walkers, near, crossing), each optionally @START:STOP for a frame "
                   "range, e.g. demo:bikes@187:242 (default: demo:carphone)")
    g.add_argument("--shots", action="store_true",
                   help="list each source's shots (cuts) and its camera's motion, and exit")
    gd = sub.add_parser("gan-distance", parents=common,
                        help="the distance test: each clip shrunk into a corner of a larger "
                        "picture must give the same energy and a GAN response of 3x or more")
    gd.add_argument("--source", default="demo:bikes,demo:carphone,demo:bigbuckbunny,"
                    "synthetic:walkers", help="as gan-response's (default: every demo clip "
                    "and synthetic:walkers)")
    gd.add_argument("--scale", type=_scales, default=[0.25, 0.5], metavar="S,S,...",
                    help="size per side of the shrunk clip, each above 0 and below 1 "
                    "(default: 0.25,0.5)")
    gd.add_argument("--background", choices=["black", "still", "room"], default="still",
                    help="what fills the rest of the picture: black, the clip's first frame "
                    "blurred, or the synthetic empty room (default: still)")
    gd.add_argument("--corner", choices=["top-left", "top-right", "bottom-left",
                                         "bottom-right"], default="bottom-right",
                    help="where the shrunk clip goes (default: bottom-right)")
    gd.add_argument("--check", action="store_true",
                    help="exit 1 when an inset fails the test")
    for sp in (g, gd):
        sp.add_argument("--frames", type=_frame_range, metavar="START:STOP",
                        help="frame range of every source without its own @START:STOP "
                        "(STOP not included; default: the whole clip)")
        sp.add_argument("--seconds", type=_positive(3600.0), default=20.0,
                        help="simulated time per run (the clip loops forwards and "
                        "backwards), s (default: 20)")
        sp.add_argument("--noise", type=_number(float, 0.0, 255.0), default=2.0,
                        help="sensor noise added to every picture, grey levels (default: 2)")
        sp.add_argument("--perception", choices=["on", "off"],
                        help="on: the walk follows the visitors (perception stage); off: "
                        "whole-picture optical flow, as before (default: [perception] "
                        "enabled)")

    t = sub.add_parser("train-dream", parents=common,
                       help="train a fast dream network and export it to ONNX")
    t.add_argument("--layers", required=True,
                   help="backbone blocks (0..15) and weights, e.g. 6 or 6:1,9:0.5")
    t.add_argument("--out", type=Path, required=True, help="the network, e.g. "
                   "models/dream-mine.onnx (then: effect = 'fast-dream:mine')")
    t.add_argument("--steps", type=_count(1, 10_000_000), default=3000,
                   help="training steps (default: 3000)")
    t.add_argument("--batch", type=_count(1, 256), default=4, help="crops per step (default: 4)")
    t.add_argument("--crop", type=_count(16, 4096), default=128,
                   help="crop side, px (default: 128)")
    t.add_argument("--lr", type=_positive(1.0), default=1e-3,
                   help="Adam learning rate (default: 1e-3)")
    t.add_argument("--content", type=_number(float, 0.0, 1e9), default=5000.0,
                   help="weight of staying close to the picture (default: 5000)")
    t.add_argument("--tv", type=_number(float, 0.0, 1e9), default=0.5,
                   help="weight of total variation, against speckle (default: 0.5)")
    t.add_argument("--seed", type=_count(0, (1 << 32) - 1), default=0,
                   help="random seed (default: 0)")
    t.add_argument("--frames-per-clip", type=_count(1, 100_000), default=40,
                   help="training frames from each demo clip (default: 40)")
    t.add_argument("--checkpoint", type=Path, metavar="PATH",
                   help="checkpoint file (default: the --out path with .ckpt)")
    t.add_argument("--checkpoint-every", type=_count(1, 10_000_000), default=250, metavar="STEPS",
                   help="save a checkpoint this often (default: 250)")
    t.add_argument("--resume", action="store_true", help="go on from the checkpoint")

    d = sub.add_parser("dream-compare", parents=common,
                       help="fast dream networks against the live dream: speed and how "
                       "much dream each delivers")
    d.add_argument("--size", default="320x180", help="processing size WxH (default: 320x180)")
    d.add_argument("--frames", type=_count(1, 100_000), default=30,
                   help="frames compared (default: 30)")
    d.add_argument("--networks", help="comma-separated names (default: every "
                   "models/dream-*.onnx)")
    d.add_argument("--picture", type=Path, help="write the last frame side by side here")
    d.add_argument("--source", default="demo:carphone",
                   help="a video file or demo[:CLIP] (default: demo:carphone)")
    for sp in (b, g, gd, d):
        sp.add_argument("--json", action="store_true", help="print one JSON object")

    f = sub.add_parser("flicker", parents=common,
                       help="temporal warping and ghosting errors of a scene's repainting, "
                       "plain and stabilised, on clips")
    f.add_argument("--source", default="demo:carphone,demo:bikes,demo:bigbuckbunny",
                   help="comma-separated video files or demo:CLIP (default: the demo pack)")
    f.add_argument("--scene", help="scene to measure, its temporal settings (default: the "
                   "first style scene's first style)")
    f.add_argument("--size", help="processing size WxH (default: the scene's)")
    f.add_argument("--frames", type=_count(1, 100_000), default=300,
                   help="at most this many frames per clip (default: 300)")
    f.add_argument("--still-frames", type=_count(0, 100_000), default=60,
                   help="frames of the held still picture with sensor noise "
                   "(default: 60; 0 = skip)")
    f.add_argument("--picture", type=Path, help="write a strip of frames side by side here")
    f.add_argument("--json", action="store_true", help="print one JSON object")
    k = sub.add_parser("soak", parents=common,
                       help="run headless for a long time; report memory growth and "
                       "frame-rate drift")
    k.add_argument("--minutes", type=_positive(1e6), default=30.0, help="how long (default: 30)")
    k.add_argument("--source", default="demo:bikes", help="the clip (default: demo:bikes)")
    k.add_argument("--scene", help="scene to run (default: the first)")
    k.add_argument("--every", type=_positive(86_400.0), default=10.0,
                   help="sample memory and frames this often, s (default: 10)")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.add_argument("--chaos", action="store_true",
                   help="inject faults on a seeded schedule (bad live edits, OSC garbage, "
                   "HTTP abuse, a camera that dies, a hanging effect, a full disk) and check "
                   "the show survives and reports each; exit 1 when a check fails")
    k.add_argument("--seed", type=_count(0, 2**31 - 1), default=0,
                   help="with --chaos: the schedule's seed (default: 0)")
    k.add_argument("--fault-every", type=_positive(3600.0), default=30.0, metavar="S",
                   help="with --chaos: a fault this often, s (default: 30)")
    k.add_argument("--clip", choices=["carphone", "bikes", "bigbuckbunny"],
                   default="carphone", help="with --chaos: what the failing camera sees "
                   "(default: carphone)")

    c = sub.add_parser("contact-sheet", parents=common,
                       help="a grid of GAN frames taken along a walk")
    c.add_argument("--out", type=Path, default=Path("walk.png"),
                   help="output picture (.png or .jpg)")
    c.add_argument("--source", default="demo:carphone",
                   help="visitors from a video file, demo[:CLIP], synthetic:NAME, or none "
                   "(idle drift)")
    c.add_argument("--seconds", type=_positive(3600.0), default=24.0,
                   help="walk length, s (default: 24)")
    c.add_argument("--cols", type=_count(1, 16), default=8, help="1..16 (default: 8)")
    c.add_argument("--rows", type=_count(1, 16), default=3, help="1..16 (default: 3)")
    c.add_argument("--tile", type=_count(16, 1024), default=160,
                   help="tile side, 16..1024 px (default: 160)")
    for sp in (g, gd, c):
        sp.add_argument("--scene", help="whose walk settings (default: the first scene "
                        "with a generator)")
        sp.add_argument("--generator", choices=["eyes", "faces"],
                        help="default: the scene's")

    v = sub.add_parser("visitor-strip", parents=common,
                       help="a picture of the scenes that place things on visitors: a row "
                       "per scene, frames along a clip, run offline through the real pipeline")
    v.add_argument("--out", type=Path, default=Path("visitors-strip.png"),
                   help="output picture (.png or .jpg) (default: visitors-strip.png)")
    v.add_argument("--rows", metavar="SCENE=SOURCE,...",
                   help="the rows: a scene and the clip it runs on (demo:CLIP, a video "
                   "file, synthetic:NAME; @START:STOP for a range) (default: every scene "
                   "that uses visitors on synthetic:near, and masks on demo:carphone)")
    v.add_argument("--cols", type=_count(1, 16), default=5,
                   help="frames per row, 1..16 (default: 5)")
    v.add_argument("--tile", type=_count(32, 1920), default=224, metavar="PX",
                   help="tile width, 32..1920 px (default: 224)")
    v.add_argument("--colours", type=_count(0, 256), default=0, metavar="N",
                   help="a PNG with a palette of N colours (much smaller; 0 = full colour) "
                   "(default: 0)")
    return p
