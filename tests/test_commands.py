"""The one command vocabulary: every surface's raw input becomes the same typed command,
and what is wrong with it is said in words."""

from __future__ import annotations

import pytest

from installation.commands import (
    DREAM_FIELDS,
    NUM_STYLES,
    SPECS,
    TOGGLES,
    TRIGGERS,
    WALK_FIELDS,
    Command,
    Name,
    parse,
)
from installation.dream.config import DreamConfig
from installation.latent.config import WalkConfig
from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("scene", ["paint"], Command(Name.SCENE, "paint")),
    ("scene/step", [-1], Command(Name.SCENE_STEP, -1)),
    ("style", [25], Command(Name.STYLE, 25)),
    ("style", ["prev"], Command(Name.STYLE_STEP, -1)),
    ("style/step", ["next"], Command(Name.STYLE_STEP, 1)),
    ("style/weights", [1, 0.25, 2, 0.75], Command(Name.WEIGHTS, {"1": 0.25, "2": 0.75})),
    ("strength", [0], Command(Name.STRENGTH, 0.0)),
    ("pause", [], Command(Name.PAUSE, None)),
    ("attract", [1], Command(Name.ATTRACT, True)),
    ("fullscreen", [0.0], Command(Name.FULLSCREEN, False)),
    ("snapshot", [], Command(Name.SNAPSHOT, None)),
    ("walk/max_step", [0.5], Command(Name.WALK, ("max_step", 0.5))),
    ("dream/steps", [3], Command(Name.DREAM, ("steps", 3.0))),
])
def test_raw_input_becomes_a_command(name: str, args: list[object],
                                     expected: Command) -> None:
    got = parse(name, args, source="web")
    assert got == expected and got.source == "web"  # the source is said, not compared


@pytest.mark.parametrize(("name", "args", "says"), [
    ("colour", [1], "unknown command; known: scene"),
    ("scene", [True], "scene name or index"),
    ("scene/step", [2], r"\+1 or -1"),
    ("style", [-1], f"0..{NUM_STYLES - 1}"),
    ("strength", [float("nan")], "finite"),
    ("hud", [1, 2], "give 1 argument, not 2"),
    ("quit", [1], "give 0 arguments"),
    ("style/weights", [1.5, 1.0], "not one of 0..25"),
    ("style/weights", [30, 1.0], "not one of 0..25"),
    ("style/weights", [3, -1.0], "0..1000"),
    ("style/weights", [3, 0.0], "not all 0"),
    ("style/weights", [3, 10 ** 400], "weights, or index"),
    ("strength", [10 ** 400], "finite"),
    ("hud", [-7.5], "1 .on. or 0"),
    ("blackout", [2], "1 .on. or 0"),
    ("dream/zoom", [1.0], "known: steps"),
])
def test_bad_input_says_what_is_wrong(name: str, args: list[object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse(name, args)


def test_every_name_is_specified_and_parses() -> None:
    assert set(SPECS) == set(Name)
    for name in TOGGLES:
        assert parse(name.value, []) == Command(name, None)  # no value: toggle
    for name in TRIGGERS:
        assert parse(name.value, []) == Command(name, None)


def test_live_settings_are_settings_of_their_sections() -> None:
    """The vocabulary names the settings that may change live; each is a real one."""
    assert set(WALK_FIELDS) <= set(WalkConfig.model_fields)
    assert set(DREAM_FIELDS) <= set(DreamConfig.model_fields)


def test_the_style_count_is_the_networks(store: ModelStore, cpu: Device) -> None:
    network = OrtNetwork(store.require("multistyle26"), cpu)
    weights = [i.shape for i in network.inputs if i.name == "style_weights"]
    assert weights == [(NUM_STYLES,)]
