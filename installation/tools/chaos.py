"""`python main.py soak --chaos`: the show for N minutes under faults on a seeded schedule.

    show (headless, recording, OSC + status on loopback)  ◄── faults, one at a time:
      bad live edits · OSC garbage · HTTP abuse · the camera dies and comes back ·
      the effect hangs · the recording's disk fills (a small tmpfs, where one can be mounted)

Each fault lasts a few seconds; meanwhile /health is read to see that it is reported (or,
for network abuse, that the show went on answering and showing). At the end: the show is
still showing, the recording decodes, every fault was reported while it lasted, and the
memory is within 10 % of its level after the warm-up. Exit code 1 when any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from installation.capture import CameraSource
from installation.display.recorder import recorded
from installation.effects.base import Effect
from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show
from installation.tools.soak import rss_mb

RECORDING_FPS = 30.0  # the chaos run's [recording] fps (the default), frames/s
KINDS = ("bad-edit", "osc-garbage", "http-abuse", "source-dies", "stage-hangs")
FAULT_S = 8.0  # how long each fault lasts, s
WARMUP_S = 60.0  # memory is compared with its level after this, s
MEMORY_SLACK = 0.10  # the end's memory may exceed the level after warm-up by this much
DISK_MB = 48  # the tmpfs the recording goes to, MB (filled on purpose once)
BAD_EDITS = (  # what an operator's editor, a full disk or a cat on the keyboard saves
    b"",
    b"\xff\xfe[\x00s\x00",
    b"[[scenes]]\nname = 'x'\nsize = [0, 2]\n",
    b"[style]\ncrossfade_s = nan\n",
    b"[" * 5000,
    b"start_scene = 'nowhere'\n",
)


class ClipCamera:
    """A camera (`capture.camera.VideoDevice`) that plays a clip's frames at ~30 frames/s
    and can be unplugged: while `alive` is False every read fails, as a pulled USB cable."""

    def __init__(self, frames: list[np.ndarray], alive: Callable[[], bool]) -> None:
        self.frames, self.alive, self.i = frames, alive, 0
        self.opened = alive()

    def isOpened(self) -> bool:
        return self.opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(1 / 30)  # a real read blocks until the sensor delivers
        if not (self.opened and self.alive()):
            return False, None
        self.i = (self.i + 1) % len(self.frames)
        return True, self.frames[self.i]

    def set(self, prop: int, value: float) -> bool:
        return True

    def release(self) -> None:
        self.opened = False


class Hanging:
    """The scene's effect, except that after `hang()` its next call blocks until
    `release()`: a network that stops answering."""

    def __init__(self, inner: Effect) -> None:
        self.inner = inner
        self._hang = threading.Event()
        self._released = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def hang(self) -> None:
        self._released.clear()
        self._hang.set()

    def release(self) -> None:
        self._released.set()

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        if self._hang.is_set():
            self._hang.clear()
            self._released.wait(120.0)
        return self.inner(image, t)


@dataclass
class Fault:
    kind: str
    t_s: float  # when it began, s since the show started
    reported: bool = False  # /health said so while it lasted (or, for abuse: went on)
    detail: str = ""


def clip_frames(path: Path, n: int = 150) -> list[np.ndarray]:
    """The first `n` frames of a clip, BGR (what a camera gives)."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            out.append(cv2.cvtColor(frame.to_ndarray(format="rgb24"), cv2.COLOR_RGB2BGR))
            if len(out) == n:
                break
    return out


def health(port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return dict(json.loads(r.read()))
    except urllib.error.HTTPError as exc:  # 503: degraded, the body says why
        return dict(json.loads(exc.read()))


def tmpfs(folder: Path) -> bool:
    """Mount a small tmpfs on `folder` (root only); False where that is not possible."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs",
                           str(folder)], capture_output=True, check=False)
    return done.returncode == 0


class Chaos:
    """Drives the faults against a running show and checks what /health says."""

    def __init__(self, show: Show, path: Path, good: bytes, port: int, osc_port: int,
                 rng: random.Random, camera_alive: threading.Event, disk: Path | None) -> None:
        self.show, self.path, self.good, self.port, self.osc_port = (
            show, path, good, port, osc_port)
        self.rng, self.camera_alive, self.disk = rng, camera_alive, disk
        self.t0 = time.monotonic()
        self.faults: list[Fault] = []

    def watch(self, fault: Fault, sign: Callable[[dict[str, Any]], bool],
              during: Callable[[], None] | None = None) -> None:
        """Keep the fault up for FAULT_S s (calling `during` meanwhile); reported when
        /health shows `sign` at least once."""
        end = time.monotonic() + FAULT_S
        while time.monotonic() < end:
            if during is not None:
                during()
            if not fault.reported and sign(health(self.port)):
                fault.reported = True
            time.sleep(0.25)

    def run(self, kind: str) -> Fault:
        fault = Fault(kind, round(time.monotonic() - self.t0, 1))
        self.faults.append(fault)
        getattr(self, "_" + kind.replace("-", "_"))(fault)
        return fault

    def _bad_edit(self, fault: Fault) -> None:
        bad = self.rng.choice(BAD_EDITS)
        fault.detail = repr(bad[:24])
        self.path.write_bytes(bad)
        self.watch(fault, lambda h: any("config edit not applied" in r for r in h["reasons"]))
        self.path.write_bytes(self.good)

    def rate(self, seconds: float, during: Callable[[], None] | None = None) -> float:
        """Frames shown per second over the next `seconds` s (calling `during` meanwhile)."""
        n0, t0 = self.show.report.shown, time.monotonic()
        while time.monotonic() - t0 < seconds:
            if during is not None:
                during()
            time.sleep(0.05)
        return (self.show.report.shown - n0) / (time.monotonic() - t0)

    def survived(self, fault: Fault, during: Callable[[], None]) -> None:
        """Network abuse is not the show's to report but to survive: it counts as handled
        when the show kept at least half its frame rate of just before, and /health answered
        throughout."""
        before = self.rate(FAULT_S / 2)
        answered = True

        def abuse_and_ask() -> None:
            nonlocal answered
            during()
            try:
                health(self.port)
            except OSError:
                answered = False

        under = self.rate(FAULT_S, abuse_and_ask)
        fault.reported = answered and under >= 0.5 * before
        fault.detail = f"{before:.1f} fps before, {under:.1f} fps under it" + (
            "" if answered else ", /health did not answer")

    def _osc_garbage(self, fault: Fault) -> None:
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rng = self.rng

        def send() -> None:
            for _ in range(200):
                junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
                raw.sendto(rng.choice([junk, b"#bundle\x00" * 40, b"/installation/\xff\xfe"]),
                           ("127.0.0.1", self.osc_port))

        self.survived(fault, send)
        raw.close()

    def _http_abuse(self, fault: Fault) -> None:
        idle = [socket.create_connection(("127.0.0.1", self.port)) for _ in range(4)]

        def abuse() -> None:
            for line in (b"GARBAGE\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                         b"\xff\xfe\x00" * 50 + b"\r\n\r\n"):
                with contextlib.suppress(OSError), socket.create_connection(
                        ("127.0.0.1", self.port), timeout=2) as s:
                    s.sendall(line)
                    s.recv(64)

        self.survived(fault, abuse)
        for s in idle:  # slow clients that never sent a byte
            s.close()

    def _source_dies(self, fault: Fault) -> None:
        self.camera_alive.clear()
        self.watch(fault, lambda h: any("is reconnecting" in r for r in h["reasons"]))
        self.camera_alive.set()

    def _stage_hangs(self, fault: Fault) -> None:
        effect = self.show.worker.effect
        before = health(self.port).get("stalls", {}).get("effect", 0)
        if not isinstance(effect, Hanging):
            fault.detail = "the scene's effect is not wrapped (rebuilt by an edit)"
            return
        effect.hang()
        self.watch(fault, lambda h: h.get("stalls", {}).get("effect", 0) > before)
        effect.release()

    def _disk_full(self, fault: Fault) -> None:
        assert self.disk is not None
        filler = self.disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as f:
            while True:
                f.write(bytes(1 << 20))
        self.watch(fault, lambda h: not h["writing"]["recording"]
                   and any(s["name"] == "recording" and s["failed"] for s in h["sinks"]))


def overrides(port: int) -> dict[str, Any]:
    """The chaos run's settings over the operator's config (kept across live edits)."""
    return {
        "osc.enabled": True, "osc.port": port, "osc.host": "127.0.0.1",
        "status.enabled": True, "status.port": 0, "status.host": "127.0.0.1",
        "playlist.enabled": False, "headless.record": False,
        "recording.width": 320, "recording.height": 180, "recording.fps": RECORDING_FPS,
        # Every hang is restarted, never bypassed: the run goes on measuring restarts.
        "watchdog.stall_s": 2.0, "watchdog.restarts_before_bypass": 100,
        "source.stall_timeout_s": 2.0, "source.reconnect_max_s": 2.0,
    }


def wait_for(condition: Callable[[], bool], limit_s: float) -> bool:
    """Whether `condition` became true within `limit_s` s (looked at 10 times a second)."""
    end = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.1)
    return True


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def schedule(seconds: float, every_s: float, rng: random.Random,
             disk: bool) -> list[tuple[float, str]]:
    """(s after the start, kind): from two warm-up lengths on (the memory baseline is the
    minute before), every kind once per round, in a seeded order; the disk fills once, two
    thirds of the way through."""
    out: list[tuple[float, str]] = []
    t = 2 * WARMUP_S  # after the warm-up and the minute of memory baseline that follows it
    while t < seconds - 2 * FAULT_S:
        for kind in rng.sample(KINDS, len(KINDS)):
            if t >= seconds - 2 * FAULT_S:
                break
            out.append((t, kind))
            t += every_s
    if disk:
        out.append((seconds * 2 / 3, "disk-full"))
    return sorted(out)


def run_chaos(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace,
              config_path: Path) -> int:
    seconds, rng = args.minutes * 60.0, random.Random(args.seed)
    if seconds < 4 * WARMUP_S:
        raise UserError(f"--minutes {args.minutes:g}: a chaos soak needs at least "
                        f"{4 * WARMUP_S / 60:g} (a warm-up, a baseline, rounds of faults)")
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    disk = work / "disk"
    mounted = tmpfs(disk)
    try:
        return _run(cfg, store, device, args, config_path, seconds, rng, work,
                    disk if mounted else None)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def _run(cfg: Config, store: ModelStore, device: Device, args: argparse.Namespace,
         config_path: Path, seconds: float, rng: random.Random, work: Path,
         disk: Path | None) -> int:
    good = config_path.read_bytes()
    path = work / "config.toml"
    path.write_bytes(good)
    osc_port = free_udp_port()
    extra = overrides(osc_port)
    cfg = load_config(path, extra)
    rec = (disk or work) / "chaos.mp4"
    alive = threading.Event()
    alive.set()
    frames = clip_frames(store.require(f"demo-{args.clip}"))
    camera = CameraSource("chaos-camera", lambda: ClipCamera(frames, alive.is_set),
                          stall_timeout_s=2.0, reconnect_min_s=0.5, reconnect_max_s=2.0)
    # The driver stops the show; the duration is only a cap should the driver die.
    show = Show(cfg, store, device, RunOptions(headless=True, duration_s=seconds + 120.0,
                                               record=rec, config_path=path,
                                               config_overrides=extra), source=camera)
    for name, effect in list(show.scenes.effects.items()):
        show.scenes.effects[name] = Hanging(effect)
    assert show.status is not None
    port = show.status.address[1]
    chaos = Chaos(show, path, good, port, osc_port, rng, alive, disk)
    samples: list[tuple[float, float]] = []  # (s, RSS MiB)
    result: dict[str, Any] = {}

    def drive() -> None:
        try:
            assert wait_for(lambda: show.report.shown > 0, 120.0), "no frame shown"
            result["t_first_frame"] = time.monotonic() - chaos.t0
            plan = schedule(seconds, args.fault_every, rng, disk is not None)
            for t, kind in plan:
                while time.monotonic() - chaos.t0 < t:
                    samples.append((time.monotonic() - chaos.t0, rss_mb()))
                    time.sleep(min(5.0, max(0.0, t - (time.monotonic() - chaos.t0))))
                chaos.run(kind)
            while time.monotonic() - chaos.t0 < seconds:
                samples.append((time.monotonic() - chaos.t0, rss_mb()))
                time.sleep(5.0)
            shown = show.report.shown
            time.sleep(5.0)
            result["showing_at_end"] = show.report.shown > shown
            result["t_end"] = time.monotonic() - chaos.t0
            result["health_at_end"] = health(port)
        finally:
            show.stop()

    threading.Thread(target=drive, name="chaos", daemon=True).start()
    report = show.run()
    return _verdict(args, result, chaos.faults, samples, report.shown, rec, disk)


def _verdict(args: argparse.Namespace, result: dict[str, Any], faults: list[Fault],
             samples: list[tuple[float, float]], shown: int, rec: Path,
             disk: Path | None) -> int:
    kept = recorded(rec, RECORDING_FPS)
    decoded = kept.slots
    if kept.error is not None:
        result["recording_error"] = kept.error
    # What the file should hold: one frame per 1/fps s from the first shown frame to the
    # disk filling up (or to the end).
    full = next((f.t_s for f in faults if f.kind == "disk-full"), None)
    span = (full if full is not None else result.get("t_end", 0.0)) \
        - result.get("t_first_frame", 0.0)
    expected = max(1, int(span * RECORDING_FPS))
    after = [m for t, m in samples if WARMUP_S <= t <= 2 * WARMUP_S] or [samples[0][1]]
    level, end = float(np.median(after)), float(np.median([m for _, m in samples[-6:]]))
    result.update({
        "minutes": args.minutes, "seed": args.seed, "frames_shown": shown,
        "recording_frames": decoded, "recording_frames_expected": expected,
        "disk_full_tested": disk is not None,
        "rss_mb_after_warmup": round(level, 1), "rss_mb_end": round(end, 1),
        "rss_mb_peak": round(max(m for _, m in samples), 1),
        "faults": [asdict(f) for f in faults],
    })
    checks = {
        "still showing at the end": bool(result.get("showing_at_end")),
        "recording decodes to 90 % of its time": decoded >= 0.9 * expected,
        "every fault reported": all(f.reported for f in faults),
        "memory within 10 % of its level after warm-up": end <= level * (1 + MEMORY_SLACK),
    }
    result["checks"] = checks
    if args.json:
        print(json.dumps(result))
    else:
        print(f"chaos soak: {args.minutes:g} min, seed {args.seed}, {shown} frames shown, "
              f"{len(faults)} faults")
        for kind in sorted({f.kind for f in faults}):
            mine = [f for f in faults if f.kind == kind]
            print(f"  {kind:12} {sum(f.reported for f in mine)}/{len(mine)} reported")
        if disk is None:
            print("  disk-full    not tried: no tmpfs could be mounted (needs root)")
        print(f"  memory: {level:.0f} MiB after warm-up, {end:.0f} MiB at the end, peak "
              f"{result['rss_mb_peak']:.0f} MiB; recording: {decoded} of {expected} frames "
              "decode")
        for what, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    return 0 if all(checks.values()) else 1
