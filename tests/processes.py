"""The show as its own process, started as an operator starts it (`python main.py ...`).

Its output goes to files, not pipes: a pipe nobody reads fills at 64 KiB and then blocks the
show on its next log line, which a test waiting on the show would take for a hang. And a
file the show writes is looked at with `size_of`, which reads a missing file as empty: the
command line checks `--record PATH` is writable by making and removing it once at start-up,
so "exists, then stat" can see it vanish between the two calls.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def size_of(path: Path) -> int:
    """The file's size in bytes; 0 while it does not exist."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@dataclass
class ShowProcess:
    proc: subprocess.Popen[bytes]
    out: Path  # its standard output
    err: Path  # its standard error (the log)

    def wait(self, timeout: float) -> tuple[str, str]:
        """Wait for the end (TimeoutExpired after `timeout` s); its output and log."""
        self.proc.wait(timeout=timeout)
        return self.output()

    def output(self) -> tuple[str, str]:
        return (self.out.read_text(errors="replace"), self.err.read_text(errors="replace"))

    def stop(self) -> None:
        """Kill it if it still runs (a test's `finally`)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def start_show(folder: Path, *args: str, **popen: Any) -> ShowProcess:
    """`python main.py --config config.toml ARGS` in `folder`, with the dummy video driver;
    its output in `folder`/show.out and show.err."""
    out, err = folder / "show.out", folder / "show.err"
    cmd = [sys.executable, str(ROOT / "main.py"), "--config", str(ROOT / "config.toml"), *args]
    with out.open("wb") as out_file, err.open("wb") as err_file:
        proc = subprocess.Popen(cmd, cwd=folder, stdout=out_file, stderr=err_file,
                                env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, **popen)
    return ShowProcess(proc, out, err)
