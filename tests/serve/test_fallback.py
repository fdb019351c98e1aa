"""The server dies mid-show: the show goes on with the local engine (said in /health's
reasons and the HUD), and returns to the server once it answers again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from serving import DEADLINE_MS, STALL_S, needs_triton, start

from installation.models import ModelStore
from installation.runtime import Device
from installation.runtime.remote import attach_remote
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

pytestmark = needs_triton
HOSTED = ["multistyle26", "gan-eyes", "gan-faces"]


def test_kill_the_server_mid_show_and_bring_it_back(
        tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool]) -> None:
    server = start(tmp_path, HOSTED)
    path = tmp_path / "config.toml"
    path.write_text(f"[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
                    f"[runtime]\nremote = '{server.grpc}'\nremote_deadline_ms = {DEADLINE_MS}\n"
                    f"[watchdog]\nstall_s = {STALL_S}\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\ngenerator = 'eyes'\n"
                    "layers = [{source = 'camera'}, {source = 'gan', opacity = 0.5}]\n")
    cfg = load_config(path)
    device = attach_remote(cpu, cfg.runtime)
    link = device.remote
    assert link is not None and link.wait_up(10.0)
    show = Show(cfg, store, device, RunOptions(headless=True, duration_s=600.0))
    runner = threading.Thread(target=show.run, daemon=True)
    runner.start()
    try:
        assert until(lambda: link.state().calls > 20, 60.0)
        assert link.state().local_calls == 0
        server.kill()

        # Down: every call local, the show still showing frames, the reason said.
        assert until(lambda: not link.usable(), 10.0)
        shown, local = show.report.shown, link.state().local_calls
        assert until(lambda: show.report.shown > shown + 10
                     and link.state().local_calls > local + 10, 60.0)
        state = show.reporter.refresh(0.0)
        assert state.remote is not None and not state.remote.up and state.remote.falls == 1
        assert any(r.startswith(f"remote {server.grpc} not used") for r in state.reasons())
        assert any("networks run locally" in line for line in state.hud_lines())

        # Back on the same port: after its pings in a row the calls go there again.
        again = start(tmp_path, HOSTED, base=server.base)
        try:
            calls = link.state().calls
            assert until(link.usable, 60.0)
            assert until(lambda: link.state().calls > calls + 10, 60.0)
            state = show.reporter.refresh(0.0)
            assert state.remote is not None and state.remote.up
            assert not [r for r in state.reasons() if "remote" in r]
        finally:
            again.stop()
    finally:
        show.stop()
        runner.join(30)
        link.close()
        server.kill()
    assert not runner.is_alive()
