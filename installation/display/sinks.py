"""Outputs as sinks: the loop hands each shown picture to every sink and goes on.

    loop ──offer(Shown)──► WindowSink (inline: SDL wants the main thread; it sets the pace)
                      └──► ThreadedSink(RecorderSink, later NDI, a web preview): own thread,
                           newest wins, drops counted; a failure stops that sink, not the show

A sink is anything with `name`, `send(shown)` and `close()` (`Sink`). The loop never calls
`send` itself for a sink that can be slow: `ThreadedSink` runs it in its own stage thread
(`installation.stage`) with a one-picture hand-off, so a slow encoder costs dropped
pictures (counted, in the frame state), never the loop's frame rate; an exception there
is logged once, the sink is closed and reported as stopped (`SinkState.failed`), and the
show goes on.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from installation.display.overlay import Overlay
from installation.display.recorder import Recorder
from installation.display.screen import ScreenFitter
from installation.display.window import Window
from installation.pictures import FitMode
from installation.slots import LatestSlot
from installation.stage import StageThread
from installation.state import SinkState

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 10.0  # longest wait for a sink to write its last picture at the end, s
DROPS_SAID_EVERY_S = 60.0  # a sink that drops pictures says so at most this often, s


@dataclass(frozen=True)
class Shown:
    """One shown picture: HxWx3 uint8 RGB as composed (not mirrored), when it was shown
    (monotonic s), how the operator sees it (mirrored, fitted or filling the screen), the
    HUD lines (None: no HUD), whether it is new (False: the same picture presented again,
    e.g. to redraw the HUD), and the visitors overlay (None: off). The HUD and the overlay
    are the operator's: only the window draws them, never a recording or a stream."""

    picture: np.ndarray
    t: float
    mirror: bool = False
    fit: FitMode = "fill"
    hud: list[str] | None = None
    new: bool = True
    overlay: Overlay | None = None


class Sink(Protocol):
    """An output. `writes`: it keeps or sends visitors' pictures somewhere (a file, a
    stream) — the HUD and /health say so while it runs (privacy)."""

    name: str
    writes: bool

    def send(self, shown: Shown) -> None: ...

    def close(self) -> None: ...


class WindowSink:
    """The show window. Runs inline on the loop (SDL's display belongs to the main thread),
    every loop turn, so the HUD stays live while the picture waits. A window that fails
    (the display went away) is reported and left; the show goes on headless."""

    name = "window"
    writes = False

    def __init__(self, window: Window) -> None:
        self.window = window
        self.sent = 0
        self.failed: str | None = None

    def offer(self, shown: Shown) -> None:
        if self.failed is not None:
            return
        try:
            self.send(shown)
        except Exception as exc:  # pygame.error and the like: the window, not the show
            self.failed = f"{type(exc).__name__}: {exc}"
            log.error("window stopped: %s (the show goes on)", self.failed)

    def send(self, shown: Shown) -> None:
        self.window.mirror, self.window.fit = shown.mirror, shown.fit
        self.window.present(shown.picture, shown.hud, shown.overlay)
        self.sent += 1

    def state(self) -> SinkState:
        return SinkState(self.name, self.sent, failed=self.failed, writes=self.writes)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # at the end, a broken display changes nothing
            self.window.close()


class RecorderSink:
    """What would be shown, at the recording's size (the display's fit and mirror), to an
    H.264 file. A picture lasts in the file until the next one's time, so dropped pictures
    only cost smoothness, never the file's timing."""

    name = "recording"
    writes = True

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._fitter = ScreenFitter(recorder.size)

    @property
    def frames_written(self) -> int:
        return self.recorder.frames_written

    def send(self, shown: Shown) -> None:
        self._fitter.mirror, self._fitter.mode = shown.mirror, shown.fit
        self.recorder.write(self._fitter.apply(shown.picture), shown.t)

    def close(self) -> None:
        self.recorder.close()


class ThreadedSink(StageThread[Shown, Shown]):
    """Runs `sink` in its own stage thread; `offer` never blocks. New pictures only: a sink
    of moving pictures (file, stream) has nothing to do with a repeat. The first exception
    stops the sink for good (it is closed; `failed` says why)."""

    on_error = "it stops; the show goes on"
    failure_limit = 1 << 30  # never reached: the first failure already stops the sink

    def __init__(self, sink: Sink) -> None:
        super().__init__(LatestSlot(), log)
        self.sink = sink
        self.name = self.stage = sink.name
        self.sent = 0
        self.failed: str | None = None
        self._drops_said = 0  # `dropped` when it was last said
        self._drops_said_at: float | None = None  # show time it was last said, s
        self.start()

    @property
    def thread_name(self) -> str:
        return f"sink-{self.name}"

    @property
    def dropped(self) -> int:
        """Pictures replaced by a newer one before the sink took them."""
        return self.inbox.dropped

    @property
    def inbox(self) -> LatestSlot[Shown]:
        assert self._inbox is not None
        return self._inbox

    def offer(self, shown: Shown) -> None:
        if shown.new and self.failed is None:
            self.inbox.put(shown)
            self._say_drops(shown.t)

    def _say_drops(self, now: float) -> None:
        """While the sink drops pictures, one line at most every `DROPS_SAID_EVERY_S` of
        show time `now` (s) with how many (the first drop is said at once)."""
        dropped = self.dropped
        if dropped <= self._drops_said:
            return
        since = self._drops_said_at
        if since is not None and now - since < DROPS_SAID_EVERY_S:
            return
        window = "so far" if since is None else f"in the last {now - since:.0f} s"
        log.warning("%s: %d pictures dropped %s (%d in all): it cannot keep up with the show",
                    self.name, dropped - self._drops_said, window, dropped)
        self._drops_said, self._drops_said_at = dropped, now

    def state(self) -> SinkState:
        return SinkState(self.name, self.sent, self.dropped, self.failed, self.sink.writes)

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Write what was offered last (waiting at most `wait_s`), stop the thread, close
        the sink."""
        _, last = self.inbox.peek()
        deadline = time.monotonic() + wait_s
        seen, done = 0, last is None
        while not done and self.failed is None and time.monotonic() < deadline:
            seen, written = self.slot.get(after=seen, timeout=deadline - time.monotonic())
            done = written is last
        if not done and self.failed is None:
            log.error("%s: the last picture was not written within %.0f s at the end",
                      self.name, wait_s)
        self.stop()
        if self._thread is not None and self._thread.is_alive():
            # Still inside `send` (a very slow disk): closing under it could break the
            # file for good; left as it is, with what it has.
            log.error("%s: still writing at the end; left open (it may lack its end)",
                      self.name)
        elif self.failed is None:
            self._close_sink()

    def _work(self, shown: Shown) -> Shown | None:
        if self.failed is not None:
            return None
        self.sink.send(shown)
        self.sent += 1
        return shown  # published: written

    def _failed(self, shown: Shown, exc: Exception) -> None:
        """A full disk, a broken encoder: this sink stops, not the show."""
        self.failed = f"{type(exc).__name__}: {exc}"
        self._close_sink()

    def _close_sink(self) -> None:
        with contextlib.suppress(Exception):  # failing already, or at the end: say, go on
            self.sink.close()
