"""The show's start and end as an operator meets them: started under nohup, a closed ssh
session (SIGHUP) does not stop it; systemd's stop (SIGTERM) still does, cleanly."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import av
from processes import size_of, start_show


def test_under_nohup_sighup_is_ignored(tmp_path: Path, until: Callable[..., bool]) -> None:
    rec = tmp_path / "nohup.mp4"
    show = start_show(tmp_path, "--source", "demo:carphone", "--headless", "--duration", "120",
                      "--record", str(rec),
                      preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    proc = show.proc
    try:
        assert until(lambda: size_of(rec) > 20_000 or proc.poll() is not None, 60)
        assert proc.poll() is None, show.output()[1]
        proc.send_signal(signal.SIGHUP)
        size = size_of(rec)
        # Still running: the recording goes on growing after the hang-up.
        assert until(lambda: size_of(rec) > size + 20_000 or proc.poll() is not None, 60)
        assert proc.poll() is None, show.output()[1]
        proc.send_signal(signal.SIGTERM)
        _, err = show.wait(60)
    finally:
        show.stop()
    assert proc.returncode == 0, err
    with av.open(str(rec)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 0
