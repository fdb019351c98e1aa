"""The console's API on loopback against a running show: the state, commands that change
the show, every kind of bad request refused with nothing changed, a flood cut to 429s,
the live event stream, and the token when the server is not on loopback."""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from installation.controls.status import StatusConfig, StatusServer
from installation.controls.web.guard import COMMAND_BURST, COMMANDS_PER_S
from installation.show.loop import Show
from installation.state import FrameState
from tests.controls.web.conftest import call, post


def looks(show: Show) -> tuple[Any, ...]:
    """What a command could change."""
    return (show.scene, show.blackout, show.paused, show.hud_on, show.mirror,
            show.worker.effect.describe(), json.dumps(show.status.console_state()["strength"])
            if show.status else None)


def test_the_page_and_the_state(base: str) -> None:
    code, page = call(base + "/")
    assert code == 200 and b"console.js" in page
    for asset in ("/console.js", "/console.css"):
        assert call(base + asset)[0] == 200
    code, state = call(base + "/api/state")
    assert code == 200 and state["scenes"] == ["one", "two"]
    assert state["status"] in ("ok", "degraded") and state["fps"] > 0
    assert 0 <= state["strength"] <= 1
    assert state["switches"]["blackout"] is False and state["switches"]["temporal"] in (
        True, False)
    assert state["switches"]["attract"] is None  # no walk in these scenes
    code, listed = call(base + "/api/addresses")
    names = {a["command"] for a in listed}
    assert {"scene", "strength", "blackout", "walk/idle_speed"} <= names
    assert "quit" not in names


def test_commands_change_the_show(base: str, show: Show, until: Callable[..., bool]) -> None:
    assert post(base, {"command": "scene", "value": "one"})[0] == 202
    assert until(lambda: show.scene == "one", 10)
    code, answer = post(base, {"command": "strength", "value": 0.4})
    assert code == 202 and answer == {"ok": True, "command": "strength", "value": 0.4}
    assert until(lambda: call(base + "/api/state")[1]["strength"] == 0.4, 10)
    assert post(base, {"command": "blackout", "value": True})[0] == 202
    assert until(lambda: show.blackout, 10)
    assert post(base, {"command": "blackout"})[0] == 202  # no value: flip
    assert until(lambda: not show.blackout, 10)
    assert post(base, {"command": "scene", "value": "two"})[0] == 202
    assert until(lambda: show.scene == "two", 10)
    assert until(lambda: call(base + "/api/state")[1]["scene"] == "two", 10)


def raw(base: str, method: str, path: str, body: bytes | None,
        headers: dict[str, str]) -> int:
    """A request as a client may really send it (no length, a lying length)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest(method, path)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    if body:
        conn.send(body)
    code = conn.getresponse().status
    conn.close()
    return code


JSON = {"Content-Type": "application/json"}


def test_bad_requests_are_refused_and_change_nothing(
        base: str, show: Show, caplog: pytest.LogCaptureFixture,
        until: Callable[..., bool]) -> None:
    assert until(lambda: show.report.shown > 3, 30)
    before = looks(show)
    bad: list[tuple[int, int]] = [
        (post(base, {"command": "nope"})[0], 400),
        (post(base, {"command": "strength", "value": 2})[0], 400),
        (call(base + "/api/command", b'{"command": "strength", "value": NaN}', JSON)[0], 400),
        (call(base + "/api/command", b'{"command": "blackout", "value": tru', JSON)[0], 400),
        (post(base, {"command": "quit"})[0], 400),
        (post(base, ["blackout"])[0], 400),
        (call(base + "/api/command", b"command=blackout",
              {"Content-Type": "application/x-www-form-urlencoded"})[0], 415),
        (call(base + "/api/command", b'{"command": "blackout"}', {})[0], 415),
        (raw(base, "POST", "/api/command", None, JSON), 411),
        (raw(base, "POST", "/api/command", b"{}", {**JSON, "Content-Length": "99999"}), 413),
        (call(base + "/api/state", b"{}", JSON)[0], 405),
        (call(base + "/", b"{}", JSON)[0], 405),
        (call(base + "/api/nope")[0], 404),
        (call(base + "/health", b"{}", JSON)[0], 405),
        (call(base + "/api/command", b"[" * 3000, JSON)[0], 400),  # nested past recursion
        (post(base, {"command": "strength", "value": 10 ** 400})[0], 400),
        (post(base, {"command": "hud", "value": -7.5})[0], 400),
        (post(base, {"command": "style/weights", "value": {"99": 1}})[0], 400),
        (raw(base, "POST", "/api/command", b"{}", {**JSON, "Content-Length": "\u00b2"}), 411),
        (raw(base, "HEAD", "/api/nope", None, {}), 404),
        (post(base, {"command": "blackout"}, {"Host": "evil.example:8321"})[0], 403),
        (call(base + "/api/state", headers={"Host": "evil.example"})[0], 403),
    ]
    assert [got for got, _ in bad] == [want for _, want in bad]
    shown = show.report.shown  # the loop drains the console between frames: a few later,
    assert until(lambda: show.report.shown > shown + 3, 30)  # anything queued was applied
    assert looks(show) == before
    assert call(base + "/api/state")[0] == 200  # and the console still answers


def test_a_flood_is_cut_to_429s_and_the_show_goes_on(
        base: str, show: Show, caplog: pytest.LogCaptureFixture,
        until: Callable[..., bool]) -> None:
    caplog.set_level(logging.WARNING, "installation.controls.web")
    shown = show.report.shown
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:  # as fast as the machine lets a client send
        codes = list(pool.map(lambda _: post(base, {"command": "style/step", "value": 1})[0],
                              range(150)))
    elapsed = time.monotonic() - t0
    assert set(codes) == {202, 429}
    # The bucket: a burst (partly spent by the tests before), then COMMANDS_PER_S.
    assert codes.count(202) <= COMMAND_BURST + COMMANDS_PER_S * elapsed + 1
    lines = [r for r in caplog.records if "429" in r.getMessage()]
    assert 1 <= len(lines) <= 1 + elapsed  # one line a second at most, however many
    assert until(lambda: show.report.shown > shown + 5, 30)  # the show went on


def test_the_event_stream_is_the_live_state(base: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/api/events")
    r = conn.getresponse()
    assert r.status == 200 and r.headers["Content-Type"] == "text/event-stream"
    line = r.fp.readline()
    assert line.startswith(b"data: ")
    assert json.loads(line[len(b"data: "):])["scenes"] == ["one", "two"]
    conn.close()


def test_off_loopback_every_api_call_needs_the_token(caplog: pytest.LogCaptureFixture
                                                     ) -> None:
    caplog.set_level(logging.INFO, "installation.controls.status")
    server = StatusServer(StatusConfig(enabled=True, host="0.0.0.0", port=0)).start()
    try:
        assert server.console is not None
        token = server.console.guard.token
        assert token is not None
        said = [r.getMessage() for r in caplog.records if token in r.getMessage()]
        assert len(said) == 1 and "console:" in said[0]  # printed once, with the address
        server.publish(FrameState(scene="x", scenes=("x",)))
        base = f"http://127.0.0.1:{server.address[1]}"
        assert call(base + "/")[0] == 200  # the page holds nothing: no token needed
        assert call(base + "/health")[0] in (200, 503)
        wrong = {"Authorization": "Bearer wrong-token-wrong-token"}
        for headers in ({}, wrong, {"Authorization": token}):  # (the last: no "Bearer")
            assert call(base + "/api/state", headers=headers)[0] == 401
        assert post(base, {"command": "blackout"})[0] == 401
        assert post(base, {"command": "blackout"}, wrong)[0] == 401
        assert call(base + "/api/preview.jpg", headers=wrong)[0] == 401
        assert call(base + "/api/state?token=nope")[0] == 401
        assert server.console.drain() == []  # nothing got through
        good = {"Authorization": f"Bearer {token}"}
        assert call(base + "/api/state", headers=good)[1]["scenes"] == ["x"]
        assert call(base + f"/api/state?token={token}")[0] == 200
        assert post(base, {"command": "blackout"}, good)[0] == 202
        assert [c.name.value for c in server.console.drain()] == ["blackout"]
    finally:
        server.stop()


def test_a_configured_token_is_used_and_a_weak_one_refused() -> None:
    token = "a-gallery-token-0123456789"
    server = StatusServer(StatusConfig(enabled=True, host="0.0.0.0", port=0, token=token))
    assert server.console is not None and server.console.guard.token == token
    server.stop()
    for weak in ("short", "has spaces in it, sixteen+", "ü" * 20):
        with pytest.raises(ValueError, match="16 characters"):
            StatusConfig(enabled=True, token=weak)
