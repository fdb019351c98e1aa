"""What the show's parts see of the show: its state, the few acts they ask of it, the run's
options and its report.

The dispatcher, start and end (lifecycle), live config, reporting and the watchdog each
take the show as an argument; typed as `ShowCore` here, they need not import the loop
that owns them (`loop.Show` is the one show, and it is a `ShowCore`).
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from installation.capture import Source
    from installation.commands import Surface
    from installation.controls.osc_out import OscSender
    from installation.controls.status import StatusServer
    from installation.display.sinks import Shown, ThreadedSink, WindowSink
    from installation.display.window import Window
    from installation.effects.base import Effect
    from installation.effects.worker import EffectWorker
    from installation.models import ModelStore
    from installation.show.composition import Composition
    from installation.show.config import Config, SceneConfig
    from installation.show.faults import LoopFaults
    from installation.show.interaction import Interaction, Moment
    from installation.show.playlist import Playlist
    from installation.show.presets import Presets
    from installation.show.scenes import SceneSet
    from installation.state import SinkState

SAMPLES = 20_000  # per-frame figures kept for the report: ~10 min at 30 fps


@dataclass
class RunOptions:
    headless: bool = False
    duration_s: float | None = None  # None: run until quit (headless: headless.duration_s)
    record: Path | None = None
    stats: Path | None = None
    max_frames: int | None = None  # stop after this many shown frames (benchmarks)
    config_path: Path | None = None  # watched while running: valid edits apply live
    config_overrides: dict[str, Any] = field(default_factory=dict)  # flags, kept on reload


@dataclass
class ShowReport:
    """What a run did: for the closing message, tests and the benchmark."""

    shown: int = 0
    elapsed_s: float = 0.0
    # The newest SAMPLES shown frames: a show runs for weeks, memory must not grow with it.
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    present_times: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    stage_ms: dict[str, deque[float]] = field(default_factory=dict)
    recording: Path | None = None
    recorded_frames: int = 0
    effect_errors: int = 0

    @property
    def fps(self) -> float:
        return self.shown / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def median_latency_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0


class Reporting(Protocol):
    """What start and end ask of the reporter (report.Reporter)."""

    report: ShowReport

    def open_stats(self, path: Path | None) -> None: ...

    def close(self) -> None: ...


class Reloading(Protocol):
    """What the end asks of the config watcher (live_config.Reloader)."""

    def close(self) -> None: ...


class ShowCore:
    """The show's state as its parts read and change it; `loop.Show` fills it in."""

    cfg: Config
    opts: RunOptions
    store: ModelStore
    scene_names: list[str]
    scene_index: int
    scenes: SceneSet
    source: Source
    worker: EffectWorker
    play: Interaction | None
    moment: Moment | None
    picture: np.ndarray | None  # the last composed picture
    on_screen: Shown | None  # what the sinks were last handed (blackout: black)
    composition: Composition
    window: Window | None
    hud_on: bool
    mirror: bool
    overlay_on: bool  # the visitors overlay in the window (V key, OSC `overlay`)
    paused: bool
    blackout: bool
    config_error: str | None  # the last edit refused, until a good one
    stalls: dict[str, int]  # stage → watchdog restarts
    faults: LoopFaults  # turns of the loop that failed (a bug), for the report
    playlist: Playlist
    presets: Presets
    surfaces: list[Surface]  # the operator's surfaces (OSC, the web console, MIDI)
    reloader: Reloading | None  # watches config.toml while the show runs
    status: StatusServer | None
    sender: OscSender | None  # OSC out
    reporter: Reporting
    outputs: list[ThreadedSink]
    screen: WindowSink | None  # the window as a sink, once open

    @property
    def scene(self) -> str:
        return self.scene_names[self.scene_index]

    @property
    def scene_cfg(self) -> SceneConfig:
        return self.cfg.scenes[self.scene_index]

    @property
    def effects(self) -> dict[str, Effect]:
        return self.scenes.effects

    @property
    def report(self) -> ShowReport:
        return self.reporter.report

    @property
    def processing(self) -> tuple[int, int]:
        """The effect's processing size now (W, H), px: the scene's, or the adaptive one."""
        ctl = self.worker.controller
        return ctl.size if ctl is not None else self.scene_cfg.size

    # The acts the loop carries out.

    def stop(self) -> None:
        raise NotImplementedError

    def change_scene(self, step: int) -> None:
        raise NotImplementedError

    def snapshot(self, image: np.ndarray) -> Path | None:
        raise NotImplementedError

    def sink_states(self) -> tuple[SinkState, ...]:
        raise NotImplementedError
