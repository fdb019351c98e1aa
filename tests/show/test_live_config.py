"""Live config: while the show runs, a valid edit of config.toml applies within a second
or so, an invalid one is reported and the last good config keeps running, and a setting
that needs a restart says so and keeps its running value."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import load_config
from installation.show.live_config import ConfigWatcher, split_changes
from installation.show.loop import RunOptions, Show

BASE = ("[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
        "[headless]\nrecord = false\n[display]\nhud = false\n")
SCENES = ("[[scenes]]\nname = 'one'\nsize = [96, 64]\nstyles = [3]\n"
          "[[scenes]]\nname = 'two'\nsize = [96, 64]\nstyles = [1]\n")


def test_watcher_sees_settled_content_changes_only(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("a = 1\n")
    w = ConfigWatcher(path, interval_s=0.0)
    assert not w.changed()
    path.write_text("a = 1\n")  # saved again, same content
    assert not w.changed()
    path.write_text("a = 2\n")
    assert not w.changed()  # seen once: maybe half written
    assert w.changed() and not w.changed()  # the same at the next look: reported once
    path.write_text("")  # an editor's truncation, then the content again
    assert not w.changed()
    path.write_text("a = 2\n")
    assert not w.changed() and not w.changed()  # never reported: it did not change


def test_split_live_from_restart(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(BASE + SCENES)
    old = load_config(path)
    path.write_text(BASE.replace("hud = false", "hud = true\nwidth = 640") +
                    SCENES.replace("[3]", "[5]") + "[runtime]\nthreads = 1\n")
    new = load_config(path)
    cfg, live, restart = split_changes(old, new)
    assert "scenes" in live and "display" in live
    assert set(restart) == {"display (window)", "runtime"}
    assert cfg.display.hud is True and cfg.display.width == old.display.width  # window kept
    assert cfg.runtime == old.runtime and cfg.scenes == new.scenes


def test_edits_while_running(tmp_path: Path, store: ModelStore, cpu: Device,
                             until: Callable[..., bool],
                             caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BASE + SCENES)
    show = Show(load_config(path), store, cpu,
                RunOptions(headless=True, duration_s=300.0, config_path=path))
    seen: dict[str, bool] = {}

    def edit() -> None:
        try:
            until(lambda: show.report.shown > 0, 60)
            # Valid: a new style, the HUD on, a third scene.
            path.write_text(BASE.replace("hud = false", "hud = true") +
                            SCENES.replace("[3]", "[7]") +
                            "[[scenes]]\nname = 'three'\nsize = [64, 48]\neffect = 'none'\n")
            seen["applied"] = until(lambda: show.effects["one"].describe() == "7"
                                    and show.hud_on and "three" in show.scene_names, 30)
            # Invalid: reported, nothing changes, the show goes on.
            path.write_text(BASE + SCENES.replace("[3]", "[99]"))
            seen["refused"] = until(lambda: show.config_error is not None, 30)
            seen["kept"] = show.effects["one"].describe() == "7" and show.hud_on
            shown = show.report.shown
            seen["goes on"] = until(lambda: show.report.shown > shown + 3, 30)
            # Needs a restart: said, and the running value kept.
            path.write_text(BASE.replace("hud = false", "hud = true\nwidth = 640") +
                            SCENES.replace("[3]", "[7]"))
            seen["restart said"] = until(lambda: show.config_error is None and any(
                "needs a restart" in r.getMessage() for r in caplog.records), 30)
            seen["window kept"] = show.cfg.display.width == 1280
        finally:
            show.stop()

    with caplog.at_level(logging.INFO, logger="installation"):
        threading.Thread(target=edit, daemon=True).start()
        show.run()
    assert seen == {"applied": True, "refused": True, "kept": True, "goes on": True,
                    "restart said": True, "window kept": True}
    refusal = next(r.getMessage() for r in caplog.records if "not applied" in r.getMessage())
    assert "scenes[0].styles" in refusal and ":" in refusal  # key and line named
