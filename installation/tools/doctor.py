"""`python main.py doctor`: what this machine can and cannot do for the piece, and what to fix.

One line per check — config, every scene built and run for one frame, camera, display, GPU
and providers, models, the disks pictures are written to, the listeners' ports, privacy —
marked `ok`, `note` (the piece copes: a fallback is used) or `FIX` (it will not start, or
will lose something, until fixed). Exit code 0 when nothing needs fixing, else 2. It
creates nothing: no folder, no file, no listener left open.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from installation.errors import UserError
from installation.models import ModelStore
from installation.show.config import Config, SceneConfig
from installation.show.loading import load_config

if TYPE_CHECKING:
    from installation.show.scenes import SceneSet

MIN_FREE_GB = 2.0  # below this on the recordings' disk: a long recording may fail


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Literal["ok", "note", "FIX"]
    detail: str

    def line(self) -> str:
        return f"{self.verdict:4} {self.name:9} {self.detail}"


def check_config(path: Path) -> tuple[Check, Config | None]:
    try:
        cfg = load_config(path)
    except UserError as exc:
        return Check("config", "FIX", str(exc)), None
    return Check("config", "ok", f"{path} is valid ({len(cfg.scenes)} scenes, first: "
                                 f"{cfg.first_scene})"), cfg


def check_camera(cfg: Config) -> Check:
    from installation.capture.camera import camera_target, cv2_opener

    uri = cfg.source.uri
    if not (uri.startswith("webcam:") or uri.startswith("/dev/")):
        return Check("camera", "ok", f"source.uri = {uri!r} is not a camera: none needed")
    try:
        device = cv2_opener(camera_target(uri), cfg.source)()
    except ValueError:
        return Check("camera", "FIX", f"source.uri = {uri!r} is not a camera name")
    try:
        ok = device.isOpened() and device.read()[0]
    finally:
        device.release()
    if ok:
        return Check("camera", "ok", f"{uri} opens and gives pictures")
    if cfg.source.on_missing == "demo":
        return Check("camera", "note", f"no camera at {uri}: the show plays the demo clip "
                     f"'{cfg.source.demo_clip}' instead (connect one, or set source.uri)")
    return Check("camera", "FIX", f"no camera at {uri} and source.on_missing = 'exit': "
                 "connect one, set source.uri, or on_missing = 'demo'")


def check_display() -> Check:
    import pygame

    from installation.runtime import muted_stderr

    driver = os.environ.get("SDL_VIDEODRIVER", "")
    if driver in ("dummy", "offscreen"):
        return Check("display", "note", f"SDL_VIDEODRIVER={driver}: no screen; the show runs "
                     "headless and records (unset it on the gallery machine)")
    try:
        with muted_stderr():  # SDL complains on stderr while it looks for a screen
            pygame.display.init()
        name = pygame.display.get_driver()
        sizes = pygame.display.get_desktop_sizes()
    except pygame.error as exc:
        return Check("display", "note", f"no display ({exc}): the show runs headless and "
                     "records; for a screen, log in to a desktop session")
    finally:
        pygame.display.quit()
    if name in ("dummy", "offscreen"):  # SDL's fallbacks when it finds no screen
        return Check("display", "note", f"no display (SDL fell back to '{name}'): the show "
                     "runs headless and records; for a screen, log in to a desktop session")
    shown = ", ".join(f"{w}x{h}" for w, h in sizes)
    return Check("display", "ok", f"{name} display: {shown}")


def check_gpu(cfg: Config) -> Check:
    import onnxruntime as ort

    from installation.runtime import choose_device

    device = choose_device("auto", cfg.runtime.tensorrt, cfg.runtime.threads)
    providers = ", ".join(p.removesuffix("ExecutionProvider")
                          for p in ort.get_available_providers())
    detail = f"{device.describe()}; onnxruntime providers built in: {providers}"
    if device.kind == "cpu":
        if cfg.runtime.device == "cuda":
            return Check("gpu", "FIX", detail + "; runtime.device = 'cuda' will not start: "
                         "set 'auto' or 'cpu'")
        return Check("gpu", "note", detail + "; the CPU runs everything (keep scenes small)")
    return Check("gpu", "ok", detail)


def check_remote(cfg: Config) -> Check:
    """The serving engine `[runtime] remote` names: does it answer, how far, what it
    hosts. Not there is a note: the show runs locally until it answers."""
    from installation.runtime.remote.link import client_for, short_error

    server = cfg.runtime.remote
    client = None
    try:
        client = client_for(server)
        t0 = time.perf_counter()
        ready = client.is_server_ready(client_timeout=3.0)
        rtt_ms = (time.perf_counter() - t0) * 1000.0
        index = client.get_model_repository_index(as_json=True, client_timeout=3.0)
    except Exception as exc:
        return Check("remote", "note", f"{server} does not answer ({short_error(exc)}): the "
                     "networks run locally until it does (`python main.py serve` there)")
    finally:
        if client is not None:
            client.close()
    names = sorted(m.get("name", "?") for m in index.get("models", [])
                   if m.get("state") == "READY")
    if not ready:
        return Check("remote", "note", f"{server} answers but is not ready (loading?): the "
                     "networks run locally until it is")
    return Check("remote", "ok", f"{server} answers in {rtt_ms:.1f} ms and serves "
                 f"{', '.join(names) or 'nothing'}")


def check_models(store: ModelStore) -> Check:
    try:
        problems = store.verify()
    except UserError as exc:  # the lock file itself is unreadable
        return Check("models", "FIX", str(exc))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check("models", "FIX", problems[0].line() + more)
    return Check("models", "ok", f"all {len(store.manifest.models)} verified by sha256")


def check_disk(cfg: Config, record: Path | None = None) -> list[Check]:
    """Free space and write access where pictures would be written: the headless
    recordings, a --record file, the snapshots. Folders not there yet are judged by the
    nearest one that is (where they would be made); nothing is created."""
    places: dict[Path, str] = {}
    if record is not None:
        places.setdefault(record.parent, f"--record {record}")
    if cfg.headless.record:
        places.setdefault(Path(cfg.headless.folder), "recordings ([headless] folder)")
    if cfg.snapshots.enabled:
        places.setdefault(Path(cfg.snapshots.folder), "snapshots ([snapshots] folder)")
    if not places:
        return [Check("disk", "ok", "nothing is recorded and snapshots are off: no picture is "
                      "written to disk")]
    return [_check_place(what, folder) for folder, what in places.items()]


def _check_place(what: str, folder: Path) -> Check:
    where = f"{folder}/" if folder.is_dir() else f"{folder}/ (to be made)"
    base = folder.absolute()
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        return Check("disk", "FIX", f"{what}: {where} cannot be made: {base} is a file; "
                     "choose another folder")
    if not os.access(base, os.W_OK | os.X_OK):
        return Check("disk", "FIX", f"{what}: {where} cannot be written ({base} is not "
                     "writable for this user); choose another folder or fix its permissions")
    usage = shutil.disk_usage(base)
    if usage.total == 0:
        return Check("disk", "FIX", f"{what}: {where} is on no disk ({base} is a virtual file "
                     "system); choose a folder on a disk")
    free_gb = usage.free / 1e9
    if free_gb < MIN_FREE_GB:
        return Check("disk", "FIX", f"{what}: {free_gb:.1f} GB free at {where}: free at least "
                     f"{MIN_FREE_GB:g} GB there, or choose another disk")
    return Check("disk", "ok", f"{what}: {free_gb:.0f} GB free at {where}")


def check_ports(cfg: Config) -> list[Check]:
    """Each enabled listener's address can be taken now (bound, then let go at once)."""
    out = []
    for name, section, kind in (("osc", cfg.osc, socket.SOCK_DGRAM),
                                ("status", cfg.status, socket.SOCK_STREAM)):
        if section.enabled:
            out.append(_check_bind(name, section.host, section.port, kind))
    return out


def _check_bind(name: str, host: str, port: int, kind: socket.SocketKind) -> Check:
    proto = "UDP" if kind == socket.SOCK_DGRAM else "TCP"
    where = f"{host}:{port} ({proto})"
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=kind,
                                                      flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError) as exc:
        return Check(name, "FIX", f"[{name}] host = {host!r} is not an address "
                     f"({getattr(exc, 'strerror', None) or exc}): set it to 127.0.0.1, "
                     "0.0.0.0 or an address of this machine")
    try:
        with socket.socket(family, kind) as sock:
            if kind == socket.SOCK_STREAM:  # as the HTTP server binds: a closed one's
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is ok
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return Check(name, "FIX", f"{where} is in use by another program (the piece "
                         f"already running? `ss -lpn 'sport = :{port}'` names it): stop it, "
                         f"or set [{name}] port")
        if exc.errno == errno.EADDRNOTAVAIL:
            return Check(name, "FIX", f"{where}: {host} is not an address of this machine: "
                         f"set [{name}] host to 127.0.0.1, 0.0.0.0 or one of its addresses")
        if exc.errno == errno.EACCES:
            return Check(name, "FIX", f"{where}: ports below 1024 need privileges: set "
                         f"[{name}] port to 1024 or above")
        return Check(name, "FIX", f"{where} cannot be listened on ({exc.strerror or exc}): "
                     f"set [{name}] host and port")
    any_port = " (port 0: any free one)" if port == 0 else ""
    return Check(name, "ok", f"{where} is free to listen on{any_port}")


def sample_picture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A synthetic camera picture, HxWx3 uint8 RGB: gradients, edges and sensor noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 255.0 * x / max(width - 1, 1)
    g = 255.0 * y / max(height - 1, 1)
    b = 128.0 + 100.0 * np.sin(x / 7.0) * np.cos(y / 5.0)
    picture = np.stack([r, g, b], axis=-1)
    picture[height // 4: height // 2, width // 3: width // 2] = (250.0, 240.0, 30.0)
    picture += np.random.default_rng(seed).normal(0.0, 3.0, picture.shape)
    return np.clip(picture, 0, 255).astype(np.uint8)


def check_scenes(cfg: Config, store: ModelStore) -> list[Check]:
    """Every scene built and warmed up as the show builds them (the scene set), then one
    frame of a test picture through its effect (and through the painter of its generated
    picture): one FIX line per scene that fails, naming the scene and the error."""
    from installation.runtime import choose_device
    from installation.show.scenes import SceneSet

    try:
        device = choose_device(cfg.runtime.device, cfg.runtime.tensorrt, cfg.runtime.threads,
                           engine=cfg.runtime.engine, precision=cfg.runtime.precision)
    except UserError:  # the gpu line says what to fix; the scenes are tried on the CPU
        device = choose_device("cpu", threads=cfg.runtime.threads)
    try:
        scene_set = SceneSet(cfg.model_copy(update={"scenes": []}), device, store)
    except Exception as exc:
        return [Check("scenes", "FIX", f"cannot build the scenes: {_one_line(exc)}")]
    fails, slowest = [], ("", 0.0)
    for scene in cfg.scenes:
        try:
            took = _one_frame(scene_set, cfg, scene)
        except Exception as exc:  # whatever it is, the show would stop on it
            line = _one_line(exc)
            if not line.startswith(f"scene '{scene.name}'"):  # the scene set names it
                line = f"scene '{scene.name}' fails: {line}"
            fails.append(Check("scene", "FIX", line))
            continue
        if took > slowest[1]:
            slowest = (scene.name, took)
    if fails:
        return fails
    every = f"all {len(cfg.scenes)} build" if len(cfg.scenes) > 1 else "the one builds"
    return [Check("scenes", "ok", f"{every}, warm up and paint a frame on {device.kind} "
                  f"(slowest: '{slowest[0]}', {slowest[1] * 1000:.0f} ms a frame)")]


def _one_frame(scene_set: SceneSet, cfg: Config, scene: SceneConfig) -> float:
    """Build `scene`'s effects and run one frame through each; the effect's time, s."""
    built = scene_set.prepare(cfg, [scene])
    width, height = scene.size
    picture = sample_picture(width, height)
    start = time.perf_counter()
    out = built.effects[scene.name](picture, time.monotonic())
    took = time.perf_counter() - start
    _check_output("effect", out, (height, width, 3))
    painter = built.painters.get(scene.name)
    if painter is not None:
        painted = painter(picture, time.monotonic())
        _check_output("painter of the generated picture", painted, None)
    return took


def _check_output(what: str, out: object, shape: tuple[int, int, int] | None) -> None:
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.ndim != 3 \
            or out.shape[2] != 3 or (shape is not None and out.shape != shape):
        got = (f"{out.dtype} {'x'.join(map(str, out.shape))}" if isinstance(out, np.ndarray)
               else f"a {type(out).__name__}")
        want = f"{shape[0]}x{shape[1]}x3" if shape else "HxWx3"
        raise ValueError(f"its {what} returned {got}, not a uint8 {want} picture")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    if len(text) > 240:
        text = text[:237] + "..."
    return text if isinstance(exc, UserError) else f"{type(exc).__name__}: {text}"


def check_privacy(cfg: Config) -> Check:
    writes = []
    if cfg.snapshots.enabled:
        writes.append(f"snapshots to {cfg.snapshots.folder}/ (S key)")
    if cfg.headless.record:
        writes.append(f"headless runs of clips record to {cfg.headless.folder}/ "
                      "(never a live camera)")
    if not writes:
        return Check("privacy", "ok", "no visitor picture is written anywhere")
    return Check("privacy", "note", "pictures are written: " + "; ".join(writes))


def run_doctor(path: Path, store: ModelStore, say: Callable[[str], None] = print,
               record: Path | None = None) -> int:
    """Every check, one line each; 0 when nothing needs fixing, else 2. `record`: the
    --record path a run would be given (its disk is checked too)."""
    config_check, cfg = check_config(path)
    checks = [config_check]
    if cfg is not None:
        checks += [check_camera(cfg), check_display(), check_gpu(cfg)]
        if cfg.runtime.remote:
            checks.append(check_remote(cfg))
    models = check_models(store)
    checks.append(models)
    if cfg is not None:
        if models.verdict == "ok":
            checks += check_scenes(cfg, store)
        else:
            checks.append(Check("scenes", "note", "not built: fix the models first"))
        checks += [*check_disk(cfg, record), *check_ports(cfg), check_privacy(cfg)]
    for check in checks:
        say(check.line())
    fixes = sum(c.verdict == "FIX" for c in checks)
    say(f"{fixes} to fix" if fixes else "nothing to fix: `make run` will start the piece")
    return 2 if fixes else 0
