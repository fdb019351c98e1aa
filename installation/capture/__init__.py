"""Where pictures come from: a camera, a video file, a still image, or a demo clip.

`open_source(cfg, store)` reads `source.uri` and returns a `Source` (not yet started):

    webcam:N        camera number N            /dev/videoN      a camera by device path
    demo            the clip `source.demo_clip` demo:CLIP       one of the demo clips
    clip.mp4        a video file, looped       photo.jpg        a still image

A camera that does not open at start falls back to the demo clip or stops the program,
as `source.on_missing` says.
"""

from __future__ import annotations

import logging
from pathlib import Path

from installation.capture.base import Source
from installation.capture.camera import CameraSource, Opener, VideoDevice, cv2_opener
from installation.capture.config import DEMO_CLIPS, SourceConfig
from installation.capture.still import StillSource, load_image
from installation.capture.video import ReplaySource, VideoFileSource, decode_frames
from installation.errors import SourceError
from installation.models import ModelStore

__all__ = [
    "CameraSource",
    "Opener",
    "ReplaySource",
    "Source",
    "StillSource",
    "VideoDevice",
    "VideoFileSource",
    "check_uri",
    "clip_file",
    "cv2_opener",
    "decode_frames",
    "demo_source",
    "load_image",
    "open_source",
]

log = logging.getLogger(__name__)

VIDEO_EXTS = frozenset({".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v"})
IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
FORMS = (
    "webcam:N, /dev/videoN, demo, demo:CLIP ("
    + "|".join(DEMO_CLIPS)
    + "), a video file ("
    + " ".join(sorted(e[1:] for e in VIDEO_EXTS))
    + ") or an image file ("
    + " ".join(sorted(e[1:] for e in IMAGE_EXTS))
    + ")"
)


def open_source(cfg: SourceConfig, store: ModelStore, opener: Opener | None = None) -> Source:
    """The source `cfg.uri` names, checked and ready to `start()`; SourceError when not.

    `opener` replaces the real camera (tests pass a fake one). A camera is opened here, so
    a missing one is known at start-up: see `source.on_missing`.
    """
    uri = check_uri(cfg)
    if uri == "demo" or uri.startswith("demo:"):
        return demo_source(uri.partition(":")[2] or cfg.demo_clip, store, cfg)
    if uri.startswith("webcam:") or uri.startswith("/dev/"):
        return _camera(cfg, store, opener)
    path = Path(uri).expanduser()
    if path.suffix.lower() in VIDEO_EXTS:
        return VideoFileSource(path, reconnect_min_s=cfg.reconnect_min_s,
                               reconnect_max_s=cfg.reconnect_max_s)
    return StillSource(path, fps=cfg.fps, max_size=(cfg.width, cfg.height))


def check_uri(cfg: SourceConfig) -> str:
    """`cfg.uri` (stripped) when it names a source this program knows and, for a file, one
    that exists; SourceError when not. Opens nothing: cheap enough to run before anything
    heavy starts."""
    uri = cfg.uri.strip()
    if uri == "demo" or uri.startswith("demo:"):
        clip = uri.partition(":")[2] or cfg.demo_clip
        if clip not in DEMO_CLIPS:
            raise SourceError(
                f"source.uri = {uri!r}: no demo clip {clip!r}; clips: {', '.join(DEMO_CLIPS)}"
            )
        return uri
    if uri.startswith("webcam:") or uri.startswith("/dev/"):
        if uri.startswith("webcam:") and not uri.removeprefix("webcam:").isdigit():
            raise SourceError(f"source.uri = {uri!r} is not a camera; use {FORMS}")
        return uri
    path = Path(uri).expanduser()
    if path.suffix.lower() not in VIDEO_EXTS | IMAGE_EXTS:
        raise SourceError(f"source.uri = {uri!r} is not a source this program knows; use {FORMS}")
    if not path.is_file():
        raise SourceError(f"source.uri = {uri!r}: file {path} not found; use {FORMS}")
    return uri


def clip_file(uri: str, demo_clip: str, store: ModelStore) -> Path:
    """The video file a command's `--source` names: a path, or `demo[:CLIP]` from the
    verified store (`demo_clip` when no clip is named). SourceError when there is none."""
    if uri == "demo" or uri.startswith("demo:"):
        return store.require(f"demo-{uri.partition(':')[2] or demo_clip}")
    path = Path(uri)
    if not path.is_file():
        raise SourceError(f"--source {uri}: no such video file (or use demo, demo:CLIP)")
    return path


def demo_source(clip: str, store: ModelStore,
                cfg: SourceConfig | None = None) -> VideoFileSource:
    """A demo clip (`carphone`, `bikes`, `bigbuckbunny`) from the verified model store,
    retried with `cfg`'s backoff (defaults: [source]'s) should it fail."""
    cfg = cfg or SourceConfig()
    return VideoFileSource(store.require(f"demo-{clip}"), name=f"demo:{clip}",
                           reconnect_min_s=cfg.reconnect_min_s,
                           reconnect_max_s=cfg.reconnect_max_s)


def _camera(cfg: SourceConfig, store: ModelStore, opener: Opener | None) -> Source:
    camera = CameraSource.from_config(cfg, opener)
    if camera.try_open():
        return camera
    if cfg.on_missing == "demo":
        log.warning(
            "no camera at %s; playing the demo clip '%s' instead (source.on_missing = 'demo')",
            cfg.uri, cfg.demo_clip,
        )
        return demo_source(cfg.demo_clip, store, cfg)
    raise SourceError(
        f"no camera at {cfg.uri}: connect one, pick another with --source, "
        "or set source.on_missing = 'demo' to play a demo clip instead"
    )
