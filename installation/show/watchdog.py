"""The show's watchdog, once per loop turn: one policy for every stage thread.

A stage whose one call has run past `[watchdog] stall_s` gets a fresh thread (restart by
generation: the late result of the old one is dropped): `StageThread.watch`, the same for
every stage. The effect, after `restarts_before_bypass` stalls, is bypassed (frames pass
through unpainted until the scene changes); the motion and GAN threads are restarted at
most that many times (then motion rests and the last GAN picture stays). Out of GPU
memory even at the smallest size, every effect moves to the CPU.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the show calls this with itself
    from installation.show.core import ShowCore

log = logging.getLogger(__name__)


def watch(show: ShowCore) -> None:
    """Restart what stalled, bypass what keeps stalling, move out-of-memory effects to the
    CPU; each event counted in `show.stalls` (the frame state reports them)."""
    worker, wd, now = show.worker, show.cfg.watchdog, time.monotonic()
    if worker.out_of_memory:
        worker.out_of_memory = False
        if show.scenes.to_cpu(show.cfg):
            log.error("effect %s is out of GPU memory at its smallest size: moving the "
                      "effects to the CPU", worker.effect.name)
            worker.swap(show.effects[show.scene], show.scenes.controllers.get(show.scene))
    if show.play is not None:
        for stage in show.play.restart_stalled(now, wd.stall_s, wd.restarts_before_bypass):
            log.error("%s stage stalled (one call over %.1f s): thread restarted",
                      stage, wd.stall_s)
            show.stalls[stage] = show.stalls.get(stage, 0) + 1
    line = worker.watch(now, wd.stall_s, wd.restarts_before_bypass)
    if line is not None:
        log.error("%s", line)
        show.stalls["effect"] = show.stalls.get("effect", 0) + 1
