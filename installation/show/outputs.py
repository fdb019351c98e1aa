"""The show's outputs besides the window: what is opened at start and accounted at the end.

A recording when `--record PATH` asks for one, or automatically when the show runs with no
display (never of a live camera: privacy). Each runs as a `ThreadedSink`, off the loop.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from installation.display.recorder import Recorder
from installation.display.sinks import RecorderSink, ThreadedSink
from installation.storage import cap_folder

if TYPE_CHECKING:  # the show calls these with itself
    from installation.show.loop import Show

log = logging.getLogger(__name__)


def open_outputs(show: Show) -> list[ThreadedSink]:
    """The sinks to start with; the recording's path goes into the report."""
    path = show.opts.record
    if path is None and show.window is None and show.opts.max_frames is None:
        path = headless_recording(show)
    if path is None:
        return []
    rc = show.cfg.recording
    recorder = Recorder(path, (rc.width, rc.height), rc.fps, rc.crf)
    show.report.recording = path
    return [ThreadedSink(RecorderSink(recorder, show.cfg.display.fit))]


def account(show: Show) -> None:
    """After the sinks are closed: the frames the recording holds, for the report."""
    for sink in show.outputs:
        if isinstance(sink.sink, RecorderSink):
            show.report.recorded_frames = sink.sink.recorder.frames_written


def headless_recording(show: Show) -> Path | None:
    """The automatic recording of a headless run: never of a live camera (privacy)."""
    cfg = show.cfg.headless
    if not cfg.record:
        return None
    if show.source.kind == "camera":
        log.info("headless with a camera: not recording visitors (pass --record to do so)")
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(cfg.folder)
    # Room for this run: 50 MB (6 s of the dream-eyes scene at 1280x720, crf 23: 3.1 MB).
    cap_folder(folder, "installation-*.mp4", cfg.max_mb, room_mb=50.0)
    return folder / f"installation-{stamp}.mp4"
