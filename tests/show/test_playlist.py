"""The playlist: scenes cycle with their durations, an operator's pick holds the cycle for
a while, attract mode shows the attract scene and comes back; in the running show the
scenes follow the list. Simulated clock except in the show."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from installation.errors import ConfigError
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show
from installation.show.playlist import Playlist, PlaylistConfig, PlaylistEntry

SCENES = ["a", "b", "c"]


def cycle(**kw: object) -> PlaylistConfig:
    return PlaylistConfig.model_validate({"enabled": True, **kw})


def run(p: Playlist, start: str, until_s: float, step_s: float = 0.1) -> list[str]:
    """The scenes shown from t = 0 to `until_s`, following the playlist's changes."""
    current, seen, t = start, [start], 0.0
    while t < until_s:
        t += step_s
        nxt = p.due(t, current)
        if nxt is not None:
            current = nxt
            seen.append(nxt)
    return seen


def test_cycles_through_every_scene_with_its_duration() -> None:
    entries = [PlaylistEntry(scene="a", duration_s=1.0), PlaylistEntry(scene="c", duration_s=3)]
    p = Playlist(cycle(entries=entries), SCENES, "a", 0.0)
    assert run(p, "a", 8.05) == ["a", "c", "a", "c"]  # at 1, 4, 5 s
    p = Playlist(cycle(duration_s=2.0), SCENES, "a", 0.0)
    assert run(p, "a", 6.05) == ["a", "b", "c", "a"]


def test_off_does_nothing() -> None:
    p = Playlist(PlaylistConfig(duration_s=1.0), SCENES, "a", 0.0)
    assert run(p, "a", 10) == ["a"]


def test_a_manual_pick_holds_then_goes_on_from_it() -> None:
    p = Playlist(cycle(duration_s=1.0, manual_hold_s=5.0), SCENES, "a", 0.0)
    p.manual("c", 0.5)
    assert p.due(3.0, "c") is None and p.due(5.4, "c") is None  # held until 5.5 s
    assert p.due(5.6, "c") == "a"  # then on from c


def test_attract_scene_and_back() -> None:
    p = Playlist(cycle(duration_s=1.0, attract_scene="c"), SCENES, "a", 0.0)
    assert p.attract(True, "a") == "c"
    assert p.due(50.0, "c") is None  # no cycling in attract
    assert p.attract(False, "c") == "a"
    assert Playlist(cycle(), SCENES, "a", 0.0).attract(True, "a") is None  # none set


@pytest.mark.parametrize(("text", "key"), [
    ("[playlist]\nentries = [{scene = 'zz', duration_s = 5.0}]\n", "playlist.entries[0].scene"),
    ("[playlist]\nattract_scene = 'zz'\n", "playlist.attract_scene"),
])
def test_unknown_scenes_are_refused(text: str, key: str, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text + "[[scenes]]\nname = 'a'\n")
    with pytest.raises(ConfigError,
                       match=re.escape(f"'{key}' = 'zz' is not accepted: no such scene")):
        load_config(path)


def test_the_show_follows_the_playlist(tmp_path: Path, store: ModelStore, cpu: Device) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
                    "[headless]\nrecord = false\n[compositor]\nscene_fade_s = 0.1\n"
                    "[playlist]\nenabled = true\nentries = [{scene = 'one', duration_s = 0.6},"
                    " {scene = 'two', duration_s = 0.6}]\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\nstyles = [3]\n"
                    "[[scenes]]\nname = 'two'\nsize = [96, 64]\nstyles = [1]\n"
                    "[[scenes]]\nname = 'three'\nsize = [96, 64]\nstyles = [5]\n")
    stats = tmp_path / "stats.jsonl"
    Show(load_config(path), store, cpu, RunOptions(headless=True, duration_s=3.0,
                                                   stats=stats)).run()
    scenes = [json.loads(ln)["scene"] for ln in stats.read_text().splitlines()]
    runs = [s for i, s in enumerate(scenes) if i == 0 or s != scenes[i - 1]]
    assert runs[:3] == ["one", "two", "one"] and "three" not in runs


def test_a_scene_off_the_list_takes_the_current_slot() -> None:
    """Picked by hand (or the attract scene), a scene the list does not name shows for the
    current entry's time, then the list goes on: cycling never stops."""
    entries = [PlaylistEntry(scene="a", duration_s=2.0), PlaylistEntry(scene="b",
                                                                        duration_s=2.0)]
    p = Playlist(cycle(entries=entries, manual_hold_s=1.0), SCENES, "a", 0.0)
    p.manual("c", 0.5)  # off the list
    assert p.due(1.0, "c") is None
    assert p.due(2.6, "c") == "b"  # hold over at 1.5 s, a's 2 s slot over at 2.5 s


def test_a_rebuilt_playlist_keeps_attract_and_hold() -> None:
    p = Playlist(cycle(duration_s=1.0, attract_scene="c"), SCENES, "a", 0.0)
    assert p.attract(True, "a") == "c"
    rebuilt = Playlist(cycle(duration_s=1.0, attract_scene="c"), SCENES, "c", 5.0).carry(p)
    assert rebuilt.due(50.0, "c") is None  # still in attract
    assert rebuilt.attract(False, "c") == "a"
