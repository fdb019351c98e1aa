"""OSC control over real UDP on loopback: messages become commands, garbage and unknown
messages cost one rate-limited log line each and never the server, and the running show
obeys scene, style, strength, HUD and blackout."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.commands import Command, Name
from installation.controls.osc import OscConfig, OscControl, parse
from installation.effects import Chain, MultiStyleEffect
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show
from tests.controls.test_osc_out import Receiver

LOOPBACK_ANY_PORT = OscConfig(enabled=True, host="127.0.0.1", port=0)


@pytest.mark.parametrize(("address", "args", "expected"), [
    ("/installation/scene", ("paint",), Command(Name.SCENE, "paint")),
    ("/installation/scene", (2,), Command(Name.SCENE, 2)),
    ("/installation/style", (7,), Command(Name.STYLE, 7)),
    ("/installation/style", ("next",), Command(Name.STYLE_STEP, 1)),
    ("/installation/style/weights", (3, 0.5, 12, 0.5),
     Command(Name.WEIGHTS, {"3": 0.5, "12": 0.5})),
    ("/installation/style/weights", tuple([0.0] * 25 + [1.0]), Command(Name.WEIGHTS, {"25": 1.0})),
    ("/installation/strength", (0.25,), Command(Name.STRENGTH, 0.25)),
    ("/installation/hud", (), Command(Name.HUD, None)),
    ("/installation/blackout", (1,), Command(Name.BLACKOUT, True)),
    ("/installation/temporal", (0,), Command(Name.TEMPORAL, False)),
    ("/installation/walk/idle_speed", (0.1,), Command(Name.WALK, ("idle_speed", 0.1))),
    ("/installation/dream/feedback", (0.5,), Command(Name.DREAM, ("feedback", 0.5))),
    ("/installation/scene/step", ("prev",), Command(Name.SCENE_STEP, -1)),
    ("/installation/mirror", (), Command(Name.MIRROR, None)),
    ("/installation/reseed", (), Command(Name.RESEED, None)),
    ("/installation/overlay", (1,), Command(Name.OVERLAY, True)),
    ("/installation/overlay", (), Command(Name.OVERLAY, None)),
])
def test_messages_become_commands(address: str, args: tuple[object, ...],
                                  expected: Command) -> None:
    assert parse(address, args) == expected


@pytest.mark.parametrize(("address", "args", "says"), [
    ("/other/scene", ("a",), "unknown address"),
    ("/installation/colour", (1,), "unknown address"),
    ("/installation/style", (30,), "0..25"),
    ("/installation/style", (), "give 1 argument"),
    ("/installation/strength", (1.5,), "0..1"),
    ("/installation/strength", ("high",), "give a .finite. number"),
    ("/installation/style/weights", (3, 0.5, 12), "pairs"),
    ("/installation/walk/dim", (3,), "known: idle_speed"),
    ("/installation/quit", (), "not taken over the network"),
    ("/installation/reseed", ("x",), "seed"),
    ("/installation/generator", (1,), "give 0 arguments"),
])
def test_bad_messages_say_what_is_wrong(address: str, args: tuple[object, ...],
                                        says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse(address, args)


def test_server_survives_garbage_and_rate_limits_its_complaints(
        caplog: pytest.LogCaptureFixture, until: Callable[..., bool]) -> None:
    osc = OscControl(LOOPBACK_ANY_PORT, clock=lambda: 100.0).start()  # time stands still
    try:
        host, port = osc.address
        client = SimpleUDPClient(host, port)
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with caplog.at_level(logging.WARNING, logger="installation.controls.osc"):
            for _ in range(20):
                raw.sendto(b"\x00\xffnot osc at all", (host, port))
                client.send_message("/installation/nonsense", 1)
            client.send_message("/installation/scene", "two")  # still listening
            got: list[Command] = []
            assert until(lambda: bool(got.extend(osc.drain()) or got), 10)
        raw.close()
        assert got == [Command(Name.SCENE, "two")]
        lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any("is not OSC" in ln for ln in lines)
        assert any("/installation/nonsense" in ln for ln in lines)
        assert len(lines) == 2  # 40 faults within one window: one line per kind
    finally:
        osc.stop()


def test_a_port_in_use_is_one_line() -> None:
    first = OscControl(LOOPBACK_ANY_PORT)
    try:
        with pytest.raises(Exception, match=r"osc: cannot listen on 127\.0\.0\.1:\d+"):
            OscControl(OscConfig(enabled=True, port=first.address[1]))
    finally:
        first.stop()


def test_the_running_show_obeys(tmp_path: Path, store: ModelStore, cpu: Device,
                                until: Callable[..., bool]) -> None:
    """... and says so over OSC out (a receiver on loopback)."""
    receiver = Receiver()
    path = tmp_path / "config.toml"
    path.write_text("[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
                    "[headless]\nrecord = false\n"
                    f"[osc]\nenabled = true\nport = 0\nsend_to = ['127.0.0.1:{receiver.port}']\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\nstyles = [3, 9]\n"
                    "temporal = {enabled = true}\n"
                    "[[scenes]]\nname = 'two'\nsize = [96, 64]\nstyles = [1]\n")
    show = Show(load_config(path), store, cpu, RunOptions(headless=True, duration_s=120.0))
    (osc,) = [s for s in show.surfaces if isinstance(s, OscControl)]
    client = SimpleUDPClient(*osc.address)
    one, two = show.effects["one"], show.effects["two"]
    assert isinstance(two, MultiStyleEffect)
    assert isinstance(one, Chain) and one.temporal is not None and one.temporal.on
    done: dict[str, bool] = {}

    def drive() -> None:
        try:
            until(lambda: show.report.shown > 0, 60)
            client.send_message("/installation/temporal", 0)  # scene one's stabiliser off
            done["steady off"] = until(lambda: not one.temporal.on, 30)  # type: ignore[union-attr]
            client.send_message("/installation/scene", "two")
            client.send_message("/installation/style", 12)
            client.send_message("/installation/strength", 0.5)
            client.send_message("/installation/hud", 1)
            client.send_message("/installation/blackout", 1)
            client.send_message("/installation/scene", "nowhere")  # logged, ignored
            done["applied"] = until(lambda: show.blackout and show.scene == "two", 30)
            done["said"] = until(lambda: receiver.last("/installation/out/scene") == ("two",)
                                 and receiver.last("/installation/out/blackout") == (1,), 30)
            shown = show.report.shown
            done["goes on"] = until(lambda: show.report.shown > shown + 3, 30)
        finally:
            show.stop()

    threading.Thread(target=drive, daemon=True).start()
    try:
        show.run()
    finally:
        receiver.close()
    assert done == {"steady off": True, "applied": True, "said": True, "goes on": True}
    assert receiver.last("/installation/out/strength") == (0.5,)
    assert show.hud_on and two.strength == 0.5
    assert two.describe().endswith("12")  # crossfading 1→12
    assert show.picture is not None
    assert show.on_screen is not None and show.on_screen.picture.max() == 0  # shown black
    assert show.picture.max() > 0  # composed as ever
    assert osc.received >= 6  # and the server closed with the show:
    with pytest.raises(OSError):
        osc._server.socket.getsockname()


def test_not_a_number_is_refused() -> None:
    for args in ((float("nan"),), (float("inf"),)):
        with pytest.raises(ValueError, match="finite"):
            parse("/installation/strength", args)
    with pytest.raises(ValueError, match="weights"):
        parse("/installation/style/weights", (3, float("nan")))


def test_a_bundle_for_later_does_not_hold_the_server(until: Callable[..., bool]) -> None:
    from pythonosc.osc_bundle_builder import OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    osc = OscControl(LOOPBACK_ANY_PORT).start()
    try:
        client = SimpleUDPClient(*osc.address)
        later = OscBundleBuilder(time.time() + 3600)  # an hour ahead
        msg = OscMessageBuilder("/installation/hud")
        msg.add_arg(1)
        later.add_content(msg.build())
        client.send(later.build())
        client.send_message("/installation/blackout", 1)
        got: list[Command] = []
        assert until(lambda: bool(got.extend(osc.drain())) or len(got) == 2, 10)
        assert {c.name for c in got} == {Name.HUD, Name.BLACKOUT}
    finally:
        osc.stop()
