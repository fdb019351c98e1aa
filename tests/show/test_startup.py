"""Start-up failures an operator can fix: one line (a UserError), and everything the show
had already started is stopped again — no thread left behind, no port kept."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from installation.controls.osc import OscControl
from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show


@pytest.mark.parametrize("where", ["record", "stats", "headless"])
def test_an_unwritable_output_stops_start_up_cleanly(
        tmp_path: Path, store: ModelStore, cpu: Device, where: str) -> None:
    blocker = tmp_path / "a-file"  # a file where a folder is wanted: no one can write there
    blocker.write_text("not a folder")
    path = tmp_path / "config.toml"
    path.write_text("[source]\nuri = 'demo:carphone'\n[osc]\nenabled = true\nport = 0\n"
                    "[status]\nenabled = true\nport = 0\n"
                    f"[headless]\nfolder = '{blocker / 'recordings'}'\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\n")
    bad = blocker / "out"
    opts = RunOptions(headless=True, duration_s=5.0,
                      record=bad.with_suffix(".mp4") if where == "record" else None,
                      stats=bad.with_suffix(".jsonl") if where == "stats" else None)
    before = set(threading.enumerate())
    show = Show(load_config(path), store, cpu, opts)
    (osc,) = [s for s in show.surfaces if isinstance(s, OscControl)]
    assert show.status is not None
    ports = [("udp", osc.address[1]), ("tcp", show.status.address[1])]
    with pytest.raises(UserError) as caught:
        show.run()
    assert str(blocker) in str(caught.value) and "\n" not in str(caught.value)
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == []
    for kind, port in ports:  # the listeners' ports are free again
        with socket.socket(socket.AF_INET,
                           socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))
