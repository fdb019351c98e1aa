"""A served network's late call: slow there while the server answered others (a heavy live
dream) — it alone runs locally and the link stays up; late with nothing else answered — the
server is in trouble, and every network runs locally. (A real server: tests/serve/.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tritonclient.utils import InferenceServerException

from installation.models import ModelStore, sha256_file
from installation.runtime import Device, OrtNetwork
from installation.runtime.remote import RemoteLink, ServedNetwork
from installation.runtime.remote import link as link_module
from installation.state import FrameState, RemoteState

LATE = "StatusCode.DEADLINE_EXCEEDED"


class Answer:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def as_numpy(self, name: str) -> np.ndarray | None:
        return self.arrays.get(name)


class ServingClient:
    """Stands in for Triton's gRPC client: it runs the same file, answers pings, and each
    call does what `world["call"]` says: "answer", "late" (the deadline passed, nothing
    else came back), "late, others answered" (another network's call came back meanwhile)."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world

    def is_server_ready(self, client_timeout: float | None = None) -> bool:
        return True

    def get_model_config(self, name: str, as_json: bool,
                         client_timeout: float) -> dict[str, Any]:
        if not self.world.get("hosted", True):
            raise InferenceServerException("Request for unknown model",
                                           status="StatusCode.NOT_FOUND")
        return {"config": {"parameters": {"sha256": {"string_value": self.world["sha256"]}}}}

    def infer(self, name: str, inputs: list[Any], **kw: Any) -> Answer:
        self.world["calls"] += 1
        how = self.world["call"]
        if how == "answer":
            return Answer({"out0": self.world["out"][np.newaxis]})
        if how == "late, others answered":
            self.world["link"].answered(3.0)  # a quick network's call, meanwhile
        raise InferenceServerException("Deadline Exceeded", status=LATE)

    def close(self) -> None:
        pass


def remote_reasons(state: RemoteState) -> list[str]:
    """/health's reasons the server gives."""
    return [r for r in FrameState(remote=state).reasons() if r.startswith("remote")]


@pytest.fixture
def served(store: ModelStore, cpu: Device,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ServedNetwork, dict[str, Any]]]:
    path: Path = store.require("gan-faces")
    local = OrtNetwork(path, cpu, "gan-faces")
    world: dict[str, Any] = {"sha256": sha256_file(path), "calls": 0, "call": "answer"}
    monkeypatch.setattr(link_module, "client_for", lambda server: ServingClient(world))
    link = RemoteLink("127.0.0.1:1", 100).start()
    world["link"] = link
    assert link.wait_up(5.0)
    net = ServedNetwork(local, link, path)
    z = np.random.default_rng(1).standard_normal((1, 100)).astype(np.float32)
    world["z"], world["out"] = z, local.run({"z": z})[0]
    try:
        yield net, world
    finally:
        link.close()


def test_late_while_others_were_answered_only_this_network_runs_locally(
        served: tuple[ServedNetwork, dict[str, Any]],
        caplog: pytest.LogCaptureFixture) -> None:
    net, world = served
    caplog.set_level(logging.WARNING, "installation.runtime.remote")
    feeds = {"z": world["z"]}
    net.run(feeds)
    assert net.remote_calls == 1
    world["call"] = "late, others answered"
    out = net.run(feeds)[0]  # painted here at once: the frame is not lost
    np.testing.assert_array_equal(out, world["out"])
    assert net.local_calls == 1 and net.link.usable() and net.link.state().falls == 0
    calls = world["calls"]
    net.run(feeds)  # refused for a while: not sent again at once
    assert world["calls"] == calls and net.local_calls == 2
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "gan-faces runs locally" in said[0]
    assert "late there (over the 100 ms deadline) while the server answered others" in said[0]
    # ... and the HUD and /health say so while it lasts (the show is degraded: the server
    # does not do all it was asked to).
    state = net.link.state()
    assert state.up and len(state.refused) == 1
    assert state.line().endswith("local: gan-faces")
    (reason,) = remote_reasons(state)
    assert reason.startswith("remote 127.0.0.1:1: gan-faces runs locally (it was late there")
    # Asked again (every RETRY_S) and late again: not said again, and never cleared between.
    for _ in range(3):
        net._retry_at = 0.0
        net.run(feeds)
        assert net.link.state().refused == state.refused
    assert world["calls"] == calls + 3 and len(caplog.records) == 1
    # Served again: sent there, and no longer named.
    world["call"], net._retry_at = "answer", 0.0
    net.run(feeds)
    assert net.remote_calls == 2 and net.link.state().refused == ()


def test_a_refusal_is_forgotten_once_that_network_is_not_called(
        served: tuple[ServedNetwork, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    net, world = served
    world["sha256"] = "0" * 64  # the server runs another file
    net.run({"z": world["z"]})
    assert net.local_calls == 1 and "another file" in net.link.state().refused[0]
    monkeypatch.setattr(link_module, "REFUSED_KEPT_S", 0.0)  # (a scene change, long ago)
    assert net.link.state().refused == () and remote_reasons(net.link.state()) == []


def test_a_network_the_server_does_not_host_is_shown_but_no_fault(
        served: tuple[ServedNetwork, dict[str, Any]]) -> None:
    """A server may host only some networks (`serve --networks`): by design, not a fault."""
    net, world = served
    world["hosted"] = False
    net.run({"z": world["z"]})
    state = net.link.state()
    assert net.local_calls == 1 and state.line().endswith("local: gan-faces")
    assert "does not host it" in state.refused[0] and remote_reasons(state) == []


def test_late_with_nothing_else_answered_takes_every_network_local(
        served: tuple[ServedNetwork, dict[str, Any]]) -> None:
    net, world = served
    feeds = {"z": world["z"]}
    net.run(feeds)
    world["call"] = "late"
    np.testing.assert_array_equal(net.run(feeds)[0], world["out"])
    assert not net.link.usable() and net.link.state().falls == 1
    assert LATE in (net.link.state().reason or "")
