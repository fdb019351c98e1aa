"""The console's command bodies: every JSON value a command takes, and every way a body can
be wrong, refused with a reason (nothing reaches the show)."""

from __future__ import annotations

from typing import Any

import pytest

from installation.commands import Command, Name
from installation.controls.web.api import MAX_BODY, command, decode


def body(text: str) -> Command:
    return command(decode(text.encode()))


@pytest.mark.parametrize(("text", "name", "value"), [
    ('{"command": "scene", "value": "eyes"}', Name.SCENE, "eyes"),
    ('{"command": "scene", "value": 2}', Name.SCENE, 2),
    ('{"command": "style/step", "value": -1}', Name.STYLE_STEP, -1),
    ('{"command": "style", "value": "next"}', Name.STYLE_STEP, 1),
    ('{"command": "strength", "value": 0.25}', Name.STRENGTH, 0.25),
    ('{"command": "blackout", "value": true}', Name.BLACKOUT, True),
    ('{"command": "hud", "value": false}', Name.HUD, False),
    ('{"command": "pause"}', Name.PAUSE, None),
    ('{"command": "reseed", "value": null}', Name.RESEED, None),
    ('{"command": "style/weights", "value": {"3": 0.5, "7": 0.5}}', Name.WEIGHTS,
     {"3": 0.5, "7": 0.5}),
    ('{"command": "style/weights", "value": [3, 1.0]}', Name.WEIGHTS, {"3": 1.0}),
    ('{"command": "walk/idle_speed", "value": 0.2}', Name.WALK, ("idle_speed", 0.2)),
    ('{"command": "dream/steps", "value": 3}', Name.DREAM, ("steps", 3.0)),
])
def test_each_command_as_json(text: str, name: Name, value: Any) -> None:
    got = body(text)
    assert (got.name, got.value, got.source) == (name, value, "web")


@pytest.mark.parametrize(("raw", "said"), [
    (b"", "not JSON"),
    (b"{", "not JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "JSON object"),
    (b'"scene"', "JSON object"),
    (b'{"command": "strength", "value": NaN}', "NaN"),
    (b'{"command": "strength", "value": Infinity}', "Infinity"),
    (b'{"command": "strength", "value": -Infinity}', "Infinity"),
    (b'{"command": "strength", "value": 1e999}', "finite"),
    (b'{"command": "strength", "value": 1.5}', "0..1"),
    (b'{"command": "strength", "value": "0.5"}', "number"),
    (b'{"command": "strength", "value": true}', "toggle"),
    (b'{"command": "strength", "value": [0.1, 0.2]}', "argument"),
    (b'{"command": "nope"}', "unknown command"),
    (b'{"command": 7}', "unknown command"),
    (b'{"value": 1}', "unknown command"),
    (b'{"command": "walk/nope", "value": 1}', "unknown walk setting"),
    (b'{"command": "quit"}', "not taken over the network"),
    (b'{"command": "scene", "value": "a", "extra": 1}', "unknown field"),
    (b'{"command": "style", "value": 99}', "0..25"),
    (b'{"command": "style/weights", "value": {"x": 1}}', "whole number"),
    (b'{"command": "reseed", "value": "x"}', "seed"),
    (b'{"command": "reseed", "value": -3}', "seed"),
    (b'{"command": "generator", "value": 3}', "0 arguments"),
    (b'{"command": "preset/save", "value": "../etc"}', "preset's name"),
    (b'{"command": "preset", "value": 0}', "number from 1"),
    (b"{" + b'"a": 1, ' * 1000 + b"}", f"over {MAX_BODY} bytes"),
])
def test_bad_bodies_are_refused_with_a_reason(raw: bytes, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        command(decode(raw))
