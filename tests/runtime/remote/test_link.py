"""The remote engine without a server: nothing answers, so every call runs locally at
once and the show says why. (With a real server: tests/serve/.)"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from serving import free_base

from installation.models import ModelStore
from installation.runtime import Device, open_network
from installation.runtime.device import RuntimeConfig
from installation.runtime.remote import RemoteLink, ServedNetwork, attach_remote
from installation.show.config import Config


def test_a_server_that_is_not_there(store: ModelStore, cpu: Device,
                                    until: Callable[..., bool],
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    nobody = f"127.0.0.1:{free_base()}"
    device = attach_remote(cpu, RuntimeConfig(remote=nobody, remote_deadline_ms=200))
    link = device.remote
    assert link is not None
    try:
        assert [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()]
        net = open_network("gan-faces", store.require("gan-faces"), device)
        assert isinstance(net, ServedNetwork)
        z = np.random.default_rng(3).standard_normal((1, 100)).astype(np.float32)
        out = net.run({"z": z})[0]
        np.testing.assert_array_equal(out, net.local.run({"z": z})[0])
        state = link.state()
        assert not state.up and state.calls == 0 and state.local_calls >= 1
        assert state.reason and "remote" in state.line() and "locally" in state.line()
        assert "sent to the serving engine" in net.describe()
    finally:
        link.close()


def test_the_frame_state_says_it(cpu: Device) -> None:
    link = RemoteLink("127.0.0.1:9", 100)  # never started: not reached yet
    state = link.state()
    from installation.state import FrameState

    frame = FrameState(remote=state)
    assert any("remote 127.0.0.1:9 not used" in r for r in frame.reasons())
    assert any("networks run locally" in line for line in frame.hud_lines())


def test_the_config_checks_the_address(tmp_path: Path) -> None:
    from installation.errors import UserError
    from installation.show.loading import load_config

    path = tmp_path / "config.toml"
    path.write_text("[runtime]\nremote = 'gpu-box'\n")
    with pytest.raises(UserError, match=r"runtime\.remote") as err:
        load_config(path)
    assert "HOST:PORT" in str(err.value)
    path.write_text("[runtime]\nremote = 'grpc://gpu-box:8001'\n")
    cfg: Config = load_config(path)
    assert cfg.runtime.remote == "gpu-box:8001"


def test_the_deadline_stays_within_the_watchdogs_patience(tmp_path: Path) -> None:
    from installation.errors import UserError
    from installation.show.loading import load_config

    path = tmp_path / "config.toml"
    path.write_text("[runtime]\nremote = 'gpu-box:8001'\nremote_deadline_ms = 3000\n"
                    "[watchdog]\nstall_s = 5\n")
    with pytest.raises(UserError, match="remote_deadline_ms") as err:
        load_config(path)
    assert "watchdog.stall_s" in str(err.value) and "\n" not in str(err.value)
    path.write_text("[runtime]\nremote = 'gpu-box:8001'\nremote_deadline_ms = 2000\n")
    assert load_config(path).runtime.remote_deadline_ms == 2000


class FakeClient:
    """Stands in for Triton's gRPC client where no server is needed: answers pings as
    `world` says (a network's calls are tested against the real server, tests/serve/)."""

    def __init__(self, world: dict[str, bool]) -> None:
        self.world = world
        self.closed = False

    def is_server_ready(self, client_timeout: float | None = None) -> bool:
        if not self.world["up"]:
            raise ConnectionRefusedError("StatusCode.UNAVAILABLE] failed to connect")
        return True

    def close(self) -> None:
        self.closed = True


def test_falls_and_returns_with_hysteresis(monkeypatch: pytest.MonkeyPatch,
                                           until: Callable[..., bool]) -> None:
    from installation.runtime.remote import link as link_module

    world = {"up": True}
    made: list[FakeClient] = []

    def client_for(server: str) -> FakeClient:
        made.append(FakeClient(world))
        return made[-1]

    monkeypatch.setattr(link_module, "client_for", client_for)
    monkeypatch.setattr(link_module, "PING_DOWN_S", 0.01)
    monkeypatch.setattr(link_module, "PING_UP_S", 0.01)
    monkeypatch.setattr(link_module, "HOLD_S", 0.2)
    link = RemoteLink("127.0.0.1:1", 100).start()
    try:
        assert until(link.usable, 5.0) and link.current() == 1  # one answer at start
        caller = link.client()
        world["up"] = False  # (its pings may find that first: one fall either way)
        link.failed("a call: StatusCode.DEADLINE_EXCEEDED", epoch=1)
        assert not link.usable() and link.state().falls == 1
        world["up"] = True
        # Back after NEED answers in a row, in a new epoch; a late failure from the old
        # epoch is ignored.
        assert until(link.usable, 5.0) and link.current() == 2
        link.failed("late, from before", epoch=1)
        assert link.usable()
        # A second fall soon after: twice the hold.
        world["up"] = False
        assert until(lambda: not link.usable(), 5.0)
        assert link.state().falls == 2 and "UNAVAILABLE" in (link.state().reason or "")
        assert link._hold_s == 2 * link_module.HOLD_S
        world["up"] = True
        assert until(link.usable, 5.0) and link.current() == 3
        link.retire(caller)
    finally:
        link.close()
    assert all(c.closed for c in made)  # the watcher's, and the one handed out


@pytest.mark.parametrize(("said", "falls"), [
    ("StatusCode.UNAVAILABLE] failed to connect", True),
    ("StatusCode.DEADLINE_EXCEEDED] Deadline Exceeded", True),
    ("StatusCode.NOT_FOUND] Request for unknown model", False),
    ("StatusCode.INTERNAL] Failed to process the request(s)", False),
])
def test_which_failures_take_the_link_down(said: str, falls: bool) -> None:
    from tritonclient.utils import InferenceServerException

    from installation.runtime.remote.link import link_error

    status, _, msg = said.partition("] ")
    assert link_error(InferenceServerException(msg, status=status)) is falls
    assert link_error(ValueError("a tensor of shape (2, 3)")) is False
