"""`bench --surfaces`: the show with every operator surface on, against the same show with
them off, in one run (rounds taken in turns: the machine is shared and noisy).

On: the web console open (a client polling the preview 4 times a second and reading the
event stream), OSC out at `[osc] send_hz` to a receiver on loopback, a MIDI controller
sending a knob sweep through the real mapping (a scripted port: the machine has no MIDI
hardware), and NDI out at `[ndi]`'s size when the NDI library is installed. Off: none of
them. The figure is the ratio of the shows' frame rates (target: 0.85 or more).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from installation.capture import ReplaySource, clip_file
from installation.capture.video import decode_frames
from installation.controls.midi import MidiControl
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loop import RunOptions, Show
from installation.tools.common import bench_config, measured_scene, parse_size

WARMUP = 10  # frames shown before the rate is measured
ROUNDS = 2  # off, on, off, on
PREVIEW_EVERY_S = 0.25  # the console's preview poll (as the page does)
MIDI_PER_S = 100.0  # knob messages a second (a fader pushed steadily)


class ScriptedController:
    """A MIDI input port sweeping control 16 up and down, `MIDI_PER_S` messages a second;
    mido's port interface (`name`, `iter_pending`, `close`)."""

    name = "bench controller"

    def __init__(self) -> None:
        import mido

        self._message = mido.Message
        self._t = time.monotonic()
        self.sent = 0

    def iter_pending(self) -> Iterator[Any]:
        due = int((time.monotonic() - self._t) * MIDI_PER_S)
        for i in range(self.sent, due):
            yield self._message("control_change", control=16, value=abs(i % 254 - 127))
        self.sent = max(self.sent, due)

    def close(self) -> None:
        """Nothing to close."""


class ScriptedBackend:
    def inputs(self) -> list[str]:
        return [ScriptedController.name]

    def open(self, name: str) -> ScriptedController:
        return ScriptedController()


class Console:
    """A page's traffic: the preview polled, the event stream read, until `stop`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.previews = self.events = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._poll, daemon=True),
                         threading.Thread(target=self._listen, daemon=True)]
        for t in self._threads:
            t.start()

    def _poll(self) -> None:
        while not self._stop.wait(PREVIEW_EVERY_S):
            try:
                with urllib.request.urlopen(self.base + "/api/preview.jpg", timeout=5) as r:
                    if r.status == 200 and r.read():
                        self.previews += 1
            except OSError:
                pass

    def _listen(self) -> None:
        try:
            with urllib.request.urlopen(self.base + "/api/events", timeout=10) as r:
                for line in r:
                    if self._stop.is_set():
                        return
                    if line.startswith(b"data: "):
                        self.events += 1
        except OSError:
            pass

    def stop(self) -> None:
        self._stop.set()


class Receiver:
    """OSC out's receiver on loopback: datagrams counted."""

    def __init__(self) -> None:
        self.count = 0
        d = Dispatcher()
        d.set_default_handler(self._count)
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _count(self, *_: Any) -> None:
        self.count += 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def with_surfaces(cfg: Config, osc_port: int) -> Config:
    """`cfg` with every surface on: console (status on loopback, any port), OSC out to
    the receiver, MIDI, and NDI (at `[ndi]`'s size) where the library is installed."""
    return cfg.model_copy(update={
        "status": cfg.status.model_copy(update={"enabled": True, "port": 0, "console": True,
                                                "host": "127.0.0.1"}),
        "osc": cfg.osc.model_copy(update={"send_to": [f"127.0.0.1:{osc_port}"]}),
        "midi": cfg.midi.model_copy(update={"enabled": True, "port": "", "cc": [
            {"control": 16, "command": "strength"}]}),
        "ndi": cfg.ndi.model_copy(update={"enabled": ndi_installed(),
                                          "name": f"bench-{os.getpid()}"}),
    })


def ndi_installed() -> bool:
    return importlib.util.find_spec("NDIlib") is not None


def run_show(cfg: Config, frames: list[np.ndarray], device: Device, store: ModelStore,
             source_fps: float, on: Callable[[Show], Callable[[], dict[str, int]]] | None
             ) -> dict[str, Any]:
    """One show over `frames`; its frame rate after the warm-up, and what `on` counted."""
    show = Show(cfg, store, device, RunOptions(max_frames=len(frames) + WARMUP),
                source=ReplaySource(frames, source_fps, name="bench"))
    finish = None if on is None else on(show)
    rep = show.run()
    counted = {} if finish is None else finish()
    presents = list(rep.present_times)[WARMUP:]
    span = presents[-1] - presents[0] if len(presents) > 1 else 0.0
    return {"fps": (len(presents) - 1) / span if span > 0 else 0.0, **counted}


def run_surfaces(cfg: Config, store: ModelStore, device: Device,
                 args: argparse.Namespace) -> int:
    size = parse_size(args.size)
    scene = measured_scene(cfg, args.scene, size, args.temporal)
    base = bench_config(cfg, scene)
    frames = decode_frames(clip_file(args.source, cfg.source.demo_clip, store), args.frames,
                           size)
    receiver = Receiver()
    on_cfg = with_surfaces(base, receiver.port)

    def attach(show: Show) -> Callable[[], dict[str, int]]:
        midi = next(s for s in show.surfaces if isinstance(s, MidiControl))
        midi.backend = ScriptedBackend()
        assert show.status is not None
        host, port = show.status.address
        console = Console(f"http://{host}:{port}")
        osc0 = receiver.count

        def finish() -> dict[str, int]:
            console.stop()
            ndi = next((s for s in show.sink_states() if s.name == "ndi"), None)
            return {"previews": console.previews, "events": console.events,
                    "osc_datagrams": receiver.count - osc0, "midi_messages": midi.received,
                    "ndi_frames": 0 if ndi is None else ndi.sent}
        return finish

    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    try:
        for _ in range(ROUNDS):
            runs["off"].append(run_show(base, frames, device, store, args.source_fps, None))
            runs["on"].append(run_show(on_cfg, frames, device, store, args.source_fps,
                                       attach))
    finally:
        receiver.close()
    off = statistics.median(r["fps"] for r in runs["off"])
    on = statistics.median(r["fps"] for r in runs["on"])
    result = {"device": device.describe(), "size": f"{size[0]}x{size[1]}",
              "scene": scene.name, "frames": args.frames, "source_fps": args.source_fps,
              "off": runs["off"], "on": runs["on"], "fps_off": off, "fps_on": on,
              "on_vs_off": on / off if off > 0 else 0.0}
    if args.json:
        print(json.dumps(result))
        return 0
    print(result["device"])
    print(f"{result['size']}, scene {scene.name}, {args.frames} frames a run, source at "
          f"{args.source_fps:g} fps, {ROUNDS} rounds in turns")
    for i, (a, b) in enumerate(zip(runs["off"], runs["on"], strict=True)):
        print(f"  round {i + 1}: off {a['fps']:6.1f} fps   on {b['fps']:6.1f} fps   "
              f"(previews {b['previews']}, events {b['events']}, OSC datagrams "
              f"{b['osc_datagrams']}, MIDI messages {b['midi_messages']}, NDI frames "
              f"{b['ndi_frames']})")
    print(f"  surfaces on / off: {result['on_vs_off']:.2f} (median fps {on:.1f} / {off:.1f})")
    return 0
