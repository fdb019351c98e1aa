"""OSC out over real UDP on loopback: the frame state's signals arrive at every receiver,
`send_hz` times a second, as the table says; an unreachable or unresolvable receiver costs
a rate-limited line and never the others; `/installation/addresses` answers with every
address the piece accepts and sends, at most once a second."""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import ThreadingOSCUDPServer

from installation.commands import addresses
from installation.controls.osc import OscConfig, OscControl
from installation.controls.osc_out import OUT, OscSender, messages
from installation.state import FrameState, GanState, MotionState, PerceptionState, VisitorState

README = Path(__file__).parents[2] / "README.md"


def state(scene: str = "eyes", visitors: int = 2) -> FrameState:
    people = tuple(VisitorState(i, 0.2 + 0.3 * i, 0.5, 0.1, 0.4, 0.05 * i, 1.0)
                   for i in range(visitors))
    return FrameState(
        scene=scene, style="7", strength=0.8, fps=29.5, latency_ms=41.0, blackout=False,
        motion=MotionState(0.3, 0.9, (0.4, 0.6), (1.0, 0.0), 2.0),
        perception=PerceptionState(people, energy_raw=0.2, energy=0.35, presence=0.9,
                                   crowd=0.4),
        walk=GanState("eyes", attract=False))


class Receiver:
    """A python-osc server on loopback that keeps every message it gets."""

    def __init__(self) -> None:
        self.got: list[tuple[str, tuple[Any, ...]]] = []
        self.lock = threading.Lock()
        d = Dispatcher()
        d.set_default_handler(self._keep)
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _keep(self, address: str, *args: Any) -> None:
        with self.lock:
            self.got.append((address, args))

    def last(self, address: str) -> tuple[Any, ...] | None:
        with self.lock:
            found = [a for addr, a in self.got if addr == address]
        return found[-1] if found else None

    def count(self, address: str) -> int:
        with self.lock:
            return sum(addr == address for addr, _ in self.got)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_one_tick_holds_every_signal_as_the_table_types_it() -> None:
    sent = [OscMessage(d) for d in messages(state())]
    tags = {address: t for address, t, _ in OUT}
    seen = {m.address for m in sent}
    assert seen == set(tags)  # with a style network and visitors: every address
    for m in sent:
        types = "".join("i" if isinstance(a, int) else "f" if isinstance(a, float) else "s"
                        for a in m.params)
        assert types == tags[m.address], m.address
    by = {m.address: m.params for m in sent if m.address != "/installation/out/visitor"}
    assert by["/installation/out/presence"] == [pytest.approx(0.9)]
    assert by["/installation/out/energy"] == [pytest.approx(0.35)]
    assert by["/installation/out/visitors"] == [2]
    assert by["/installation/out/centroid"] == [pytest.approx(0.4), pytest.approx(0.6)]
    assert by["/installation/out/scene"] == ["eyes"]
    visitors = [m.params for m in sent if m.address == "/installation/out/visitor"]
    assert [v[0] for v in visitors] == [0, 1] and visitors[1][1] == pytest.approx(0.5)
    # Nothing there, no style network: zeros, and no strength or visitor messages.
    bare = {OscMessage(d).address for d in messages(FrameState(scene="x"))}
    assert "/installation/out/strength" not in bare
    assert "/installation/out/visitor" not in bare


def test_the_signals_arrive_at_every_receiver_and_follow_the_show(
        receiver: Receiver, until: Callable[..., bool]) -> None:
    other = Receiver()
    sender = OscSender([f"127.0.0.1:{receiver.port}", f"localhost:{other.port}"], 50.0)
    try:
        sender.publish(state())
        sender.start()
        assert until(lambda: receiver.count("/installation/out/presence") >= 3, 10)
        assert until(lambda: other.count("/installation/out/presence") >= 3, 10)
        assert receiver.last("/installation/out/visitors") == (2,)
        sender.publish(state(scene="dream", visitors=0))
        assert until(lambda: receiver.last("/installation/out/scene") == ("dream",), 10)
        assert until(lambda: receiver.last("/installation/out/visitors") == (0,), 10)
    finally:
        sender.stop()
        other.close()
    assert not sender._thread.is_alive()


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_bad_receiver_costs_a_line_never_the_others(
        receiver: Receiver, until: Callable[..., bool],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "installation.controls.osc_out")
    sender = OscSender(["no-such-host.invalid:9001", f"127.0.0.1:{closed_port()}",
                        f"127.0.0.1:{receiver.port}"], 100.0)
    sender.publish(state())
    sender.start()
    try:
        assert until(lambda: receiver.count("/installation/out/presence") >= 20, 10)
    finally:
        sender.stop()
    lines = [r.getMessage() for r in caplog.records
             if r.levelno >= logging.WARNING]
    assert any("no-such-host.invalid" in line for line in lines)
    assert len(lines) <= 4  # rate-limited: one per bad receiver per 10 s (and the refusal)


def test_a_name_server_that_does_not_answer_holds_up_no_receiver(
        receiver: Receiver, until: Callable[..., bool], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """An installation's own network often has no name server: a lookup then waits its
    whole timeout. It waits on its own thread, the others are sent to meanwhile, and its
    failure is one line."""
    caplog.set_level(logging.WARNING, "installation.controls.osc_out")
    real, answer = socket.getaddrinfo, threading.Event()
    asked: list[str] = []

    def name_server(host: object, *args: Any, **kw: Any) -> Any:
        if host == "lights.local" and not kw.get("flags", 0) & socket.AI_NUMERICHOST:
            asked.append(str(host))  # (a numeric-only check asks no name server)
            answer.wait(30)  # no answer until the test lets it fail
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", name_server)
    sender = OscSender(["lights.local:7000", f"127.0.0.1:{receiver.port}"], 100.0)
    sender.publish(state())
    sender.start()
    try:
        assert until(lambda: len(asked) == 1, 10)
        assert until(lambda: receiver.count("/installation/out/presence") >= 20, 10)
        assert len(asked) == 1  # one lookup at a time, still waiting
        answer.set()
        assert until(lambda: any("lights.local" in r.getMessage() for r in caplog.records), 10)
    finally:
        answer.set()
        sender.stop()
    lines = [r.getMessage() for r in caplog.records if "lights.local" in r.getMessage()]
    assert len(lines) == 1 and "Temporary failure in name resolution" in lines[0]


@pytest.mark.parametrize("bad", ["nohost", "host:", ":9000", "h:0", "h:70000", "h:x"])
def test_a_bad_address_is_refused_in_the_config(bad: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        OscConfig(send_to=[bad])


@pytest.mark.parametrize("bad", ["lights..local:7000", "x" * 64 + ".local:7000", ".:7000"])
def test_a_name_no_lookup_would_take_is_refused_in_the_config(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a host name"):
        OscConfig(send_to=[bad])


@pytest.mark.parametrize("good", ["lights.local:7000", "[::1]:7000", "10.0.0.5:7000",
                                  "localhost:7000", "bühne.local:7000"])
def test_names_and_addresses_are_taken(good: str) -> None:
    assert OscConfig(send_to=[good]).send_to == [good]


def test_the_address_list_answers_the_asking_port(until: Callable[..., bool]) -> None:
    # Time stands still: the second query falls in the same 1 s window however slowly a
    # loaded machine reads the first answer.
    control = OscControl(OscConfig(enabled=True, host="127.0.0.1", port=0),
                         clock=lambda: 100.0).start()
    asker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    asker.bind(("127.0.0.1", 0))
    asker.settimeout(5)
    try:
        query = OscMessageBuilder("/installation/addresses").build().dgram
        asker.sendto(query, control.address)
        listed = []
        expected = len(addresses()) + 1 + len(OUT)
        while len(listed) < expected:
            listed.append(OscMessage(asker.recv(65536)).params)
        assert {(a, d) for a, d, *_ in listed} >= {
            ("/installation/scene", "in"), ("/installation/walk/idle_speed", "in"),
            ("/installation/out/presence", "out"), ("/installation/out/visitor", "out")}
        assert ["/installation/out/visitor", "out", "ifffff"] in [m[:3] for m in listed]
        asker.sendto(query, control.address)  # again at once: not answered (no amplifier)
        asker.settimeout(0.5)
        with pytest.raises(TimeoutError):
            asker.recv(65536)
        assert control.drain() == []  # the query is not a command
    finally:
        asker.close()
        control.stop()


def test_the_readme_lists_every_address() -> None:
    text = README.read_text()
    for address, tags, _ in OUT:
        assert re.search(rf"`{re.escape(address)}` \| `{tags}`", text), address
    for name, _ in addresses():
        head = name.split("/")[0]
        assert f"/installation/{name}" in text or f"/installation/{head}/FIELD" in text \
            or f"`{name}`" in text, name
