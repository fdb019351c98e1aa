"""The show's start and end as an operator meets them: started under nohup, a closed ssh
session (SIGHUP) does not stop it; systemd's stop (SIGTERM) still does, cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[2]


def test_under_nohup_sighup_is_ignored(tmp_path: Path, until: Callable[..., bool]) -> None:
    rec = tmp_path / "nohup.mp4"
    cmd = [sys.executable, str(ROOT / "main.py"), "--config", str(ROOT / "config.toml"),
           "--source", "demo:carphone", "--headless", "--duration", "120", "--record", str(rec)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        assert until(lambda: rec.exists() and rec.stat().st_size > 20_000, 60)
        proc.send_signal(signal.SIGHUP)
        size = rec.stat().st_size
        # Still running: the recording goes on growing after the hang-up.
        assert until(lambda: rec.stat().st_size > size + 20_000 or proc.poll() is not None, 60)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    with av.open(str(rec)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 0
