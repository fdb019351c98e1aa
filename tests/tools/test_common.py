"""What the offline commands share: --size parsing, --scene lookup, the measured scene and
the quiet config for a run beside a live show."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.errors import UserError
from installation.show.config import Config
from installation.show.loading import load_config
from installation.tools.common import measured_scene, named_scene, parse_size, quiet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(ROOT / "config.toml")


def test_parse_size_takes_wxh_and_names_the_flag() -> None:
    assert parse_size("320x180") == (320, 180)
    assert parse_size("64X36") == (64, 36)
    with pytest.raises(UserError, match=r"--sizes 'big': give WxH, e\.g\. 320x180"):
        parse_size("big", "--sizes")
    with pytest.raises(UserError, match=r"--size 16x9: sides must be 32\.\.3840"):
        parse_size("16x9")


def test_named_scene_is_one_line_when_missing(cfg: Config) -> None:
    first = cfg.scenes[0]
    assert named_scene(cfg, first.name) is first
    with pytest.raises(UserError, match="--scene 'nowhere': no such scene in the config"):
        named_scene(cfg, "nowhere")


def test_measured_scene_is_one_style_at_the_given_size(cfg: Config) -> None:
    scene = measured_scene(cfg, None, (64, 36), "on")
    assert scene.size == (64, 36) and len(scene.styles) == 1
    assert scene.chain == ("style",) and scene.generator == "none" and scene.temporal.enabled
    named = cfg.scenes[-1]
    as_configured = measured_scene(cfg, named.name)
    assert as_configured.size == named.size and as_configured.chain == named.chain
    assert as_configured.temporal == named.temporal


def test_quiet_switches_off_listeners_playlist_and_recording(cfg: Config) -> None:
    q = quiet(cfg)
    assert not (q.osc.enabled or q.status.enabled or q.playlist.enabled or q.headless.record)
    assert q.scenes == cfg.scenes
