"""The show's start and end: sinks opened, signals taken, threads started; then stopped,
closed and accounted, whatever happened in between.

Besides the window, a recording when `--record PATH` asks for one, or automatically when
the show runs with no display (never of a live camera: privacy). Each runs as a
`ThreadedSink`, off the loop.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from installation.controls.keys import KeyControl
from installation.controls.web.preview import PreviewSink
from installation.display.ndi import NdiSink
from installation.display.recorder import Recorder
from installation.display.sinks import RecorderSink, ThreadedSink, WindowSink
from installation.display.window import open_window
from installation.errors import UserError
from installation.storage import cap_folder

if TYPE_CHECKING:  # the show calls these with itself
    from installation.show.core import ShowCore

log = logging.getLogger(__name__)


def open_show(show: ShowCore) -> float | None:
    """Open the sinks and surfaces, take the stop signals, start the threads; the
    run's duration (None: until quit)."""
    show.reporter.open_stats(show.opts.stats)
    if not show.opts.headless:
        show.window = open_window(show.cfg.display)
    duration = show.opts.duration_s
    if show.window is None and show.opts.max_frames is None and duration is None:
        duration = show.cfg.headless.duration_s
    if show.window is not None:
        show.screen = WindowSink(show.window)
        show.surfaces.append(KeyControl(show.window.events))
    show.outputs = open_outputs(show)
    if threading.current_thread() is threading.main_thread():
        # systemd's stop, a closed terminal or ssh: end cleanly, closing any recording.
        # (Started under nohup, SIGHUP stays ignored: the operator asked for that.)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, lambda *_: show.stop())
    log.info("%s", show.scenes.device.describe())
    log.info("source: %s; scene: %s; %s", show.source.name, show.scene,
             "headless" if show.window is None else "window open")
    # The scene's effect as the scene set holds it now (it may have been replaced, e.g.
    # wrapped by a benchmark or a test, since the worker was made).
    show.worker.swap(show.effects[show.scene], show.scenes.controllers.get(show.scene))
    for part in (show.source, show.worker, show.status, show.sender, show.play,
                 *show.surfaces):
        if part is not None:
            part.start()
    return duration


def close_show(show: ShowCore) -> None:
    """Stop the threads (the source first: it wakes the effect thread at once), close
    the sinks (a recording is finished and playable), account them in the report."""
    for surface in show.surfaces:
        surface.stop()
    if show.status is not None:
        show.status.stop()
    if show.sender is not None:
        show.sender.stop()
    if show.reloader is not None:
        show.reloader.close()
    show.source.stop()  # first: wakes the effect thread at once
    show.worker.stop()
    if show.play is not None:
        show.play.stop()
    show.report.effect_errors = show.worker.errors
    for sink in show.outputs:
        sink.close()
    account(show)
    show.reporter.close()
    if show.screen is not None:
        show.screen.close()


def open_outputs(show: ShowCore) -> list[ThreadedSink]:
    """The sinks to start with: NDI out, the recording (its path goes into the report) and
    the web console's preview. Those that may refuse (a UserError) open first, with
    nothing to undo."""
    outputs = []
    if show.cfg.ndi.enabled:
        outputs.append(ThreadedSink(NdiSink(show.cfg.ndi)))
    path = show.opts.record
    if path is None and show.window is None and show.opts.max_frames is None:
        path = headless_recording(show)
    if path is not None:
        rc = show.cfg.recording
        try:
            recorder = Recorder(path, (rc.width, rc.height), rc.fps, rc.crf)
        except BaseException:
            for sink in outputs:
                sink.close()
            raise
        show.report.recording = path
        outputs.append(ThreadedSink(RecorderSink(recorder)))
    console = None if show.status is None else show.status.console
    if console is not None:
        outputs.append(ThreadedSink(PreviewSink(console.preview)))
    return outputs


def account(show: ShowCore) -> None:
    """After the sinks are closed: the frames the recording holds, for the report."""
    for sink in show.outputs:
        if isinstance(sink.sink, RecorderSink):
            show.report.recorded_frames = sink.sink.frames_written


def headless_recording(show: ShowCore) -> Path | None:
    """The automatic recording of a headless run: never of a live camera (privacy)."""
    cfg = show.cfg.headless
    if not cfg.record:
        return None
    if show.source.kind == "camera":
        log.info("headless with a camera: not recording visitors (pass --record to do so)")
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(cfg.folder)
    try:
        # Room for this run: 50 MB (6 s of the dream-eyes scene at 1280x720, crf 23: 3.1 MB).
        cap_folder(folder, "installation-*.mp4", cfg.max_mb, room_mb=50.0)
    except OSError as exc:
        raise UserError(f"headless.folder {folder}: cannot be used ({exc.strerror or exc}); "
                        "set [headless] folder to a writable folder, or record = false") from None
    return folder / f"installation-{stamp}.mp4"
