"""Live config: while the show runs, a valid edit of config.toml applies within a second
or so, an invalid one is reported and the last good config keeps running, and a setting
that needs a restart says so and keeps its running value."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import Config, SceneConfig
from installation.show.live_config import ConfigWatcher, prepare, split_changes
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show
from installation.show.scenes import Built, first_frame

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


class _Breaks:
    """A scene set whose building fails with `exc` (a bug, or a runtime's refusal)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def prepare(self, cfg: Config, scenes: list[SceneConfig]) -> Built:
        raise self.exc


@pytest.mark.parametrize("exc", [RuntimeError("boom"), MemoryError(), RecursionError("deep"),
                                 UserError("scene 'one': its first frame failed: x")])
def test_prepare_never_raises(tmp_path: Path, exc: BaseException) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BASE + SCENES)
    running = load_config(path)
    path.write_text(BASE + SCENES.replace("[3]", "[7]"))
    edit = prepare(path, {}, running, _Breaks(exc))  # type: ignore[arg-type]
    assert edit.cfg is None and edit.error is not None and "\n" not in edit.error
    assert type(exc).__name__ in edit.error or str(exc) in edit.error


@pytest.mark.parametrize("data", [b"", b"\n  \n"])
def test_an_emptied_file_is_not_applied_and_says_so(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BASE + SCENES)
    running = load_config(path)
    path.write_bytes(data)
    edit = prepare(path, {}, running, _Breaks(AssertionError("not built")))  # type: ignore[arg-type]
    assert edit.error == "config.toml is empty: not applied; the last good config keeps running"


class _Effect:
    name, scalable = "fake", False

    def __init__(self, out: Callable[[np.ndarray], object]) -> None:
        self.out, self.resets = out, 0

    def __call__(self, image: np.ndarray, t: float) -> object:
        return self.out(image)

    def step_style(self, delta: int, t: float) -> None: ...

    def describe(self) -> str:
        return "fake"

    def resize(self, size: tuple[int, int]) -> None: ...

    def reset(self) -> None:
        self.resets += 1


def _raises(image: np.ndarray) -> object:
    raise RuntimeError("ONNX Runtime: out of memory\nallocating 9 GB")


@pytest.mark.parametrize(("out", "says"), [
    (_raises, "its first frame failed: RuntimeError: ONNX Runtime: out of memory allocating"),
    (lambda im: im[:10], "not uint8 64x96x3"),
    (lambda im: im.astype(np.float32) * np.nan, "float32 64x96x3, not uint8"),
    (lambda im: im[..., 0], "uint8 64x96, not uint8 64x96x3"),
    (lambda im: None, "a NoneType, not a picture"),
])
def test_a_first_frame_that_fails_refuses_the_scene(out: Callable[[np.ndarray], object],
                                                    says: str) -> None:
    effect = _Effect(out)
    with pytest.raises(UserError) as exc:
        first_frame("one", effect, (96, 64))  # type: ignore[arg-type]
    assert str(exc.value).startswith("scene 'one': ") and says in str(exc.value)
    assert "\n" not in str(exc.value)
    assert effect.resets == 1  # the test picture is forgotten


def test_a_good_first_frame_passes_and_is_forgotten() -> None:
    effect = _Effect(lambda im: im.copy())
    first_frame("one", effect, (96, 64))  # type: ignore[arg-type]
    assert effect.resets == 1
