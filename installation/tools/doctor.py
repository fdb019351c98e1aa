"""`python main.py doctor`: what this machine can and cannot do for the piece, and what to fix.

One line per check — config, camera, display, GPU and providers, models, disk, privacy —
marked `ok`, `note` (the piece copes: a fallback is used) or `FIX` (it will not start, or
will lose something, until fixed). Exit code 0 when nothing needs fixing, else 2.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from installation.errors import UserError
from installation.models import ModelStore
from installation.show.config import Config, load_config

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


def check_models(store: ModelStore) -> Check:
    problems = store.verify()
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check("models", "FIX", problems[0].line() + more)
    return Check("models", "ok", f"all {len(store.manifest.models)} verified by sha256")


def check_disk(cfg: Config) -> Check:
    folder = Path(cfg.headless.folder)
    probe = folder if folder.exists() else Path.cwd()
    free_gb = shutil.disk_usage(probe).free / 1e9
    if free_gb < MIN_FREE_GB:
        return Check("disk", "FIX", f"{free_gb:.1f} GB free where recordings go ({probe}): "
                     f"free at least {MIN_FREE_GB:g} GB")
    return Check("disk", "ok", f"{free_gb:.0f} GB free where recordings go ({probe})")


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


def run_doctor(path: Path, store: ModelStore, say: Callable[[str], None] = print) -> int:
    """Every check, one line each; 0 when nothing needs fixing, else 2."""
    config_check, cfg = check_config(path)
    checks = [config_check]
    if cfg is not None:
        checks += [check_camera(cfg), check_display(), check_gpu(cfg)]
    checks.append(check_models(store))
    if cfg is not None:
        checks += [check_disk(cfg), check_privacy(cfg)]
    for check in checks:
        say(check.line())
    fixes = sum(c.verdict == "FIX" for c in checks)
    say(f"{fixes} to fix" if fixes else "nothing to fix: `make run` will start the piece")
    return 2 if fixes else 0
