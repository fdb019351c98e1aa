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
