"""The show window under SDL's dummy driver: pictures arrive, mirror, full screen, HUD."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import numpy as np
import pygame
import pytest

from installation.display.config import DisplayConfig
from installation.display.hud import Hud
from installation.display.screen import ScreenFitter
from installation.display.window import Window, open_window

CFG = DisplayConfig(width=160, height=90, fit="fit", mirror=False, vsync=True)


def shown() -> np.ndarray:
    """The display's pixels as an HxWx3 RGB array (surfarray is W-major, hence the swap)."""
    return pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)


def picture(w: int = 40, h: int = 30) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def window() -> Iterator[Window]:
    win = Window(CFG)
    yield win
    win.close()


def test_present_shows_the_fitted_picture(window: Window) -> None:
    assert window.size == (160, 90)
    img = picture()
    window.present(img)
    expected = ScreenFitter((160, 90), "fit").apply(img)
    assert np.array_equal(shown(), expected)
    assert not shown()[:, :20].any()  # pillarbox bars are black


def test_mirror_and_fit_change_at_run_time(window: Window) -> None:
    img = picture()
    window.mirror = True
    window.present(img)
    assert np.array_equal(shown(), ScreenFitter((160, 90), "fit", mirror=True).apply(img))
    window.fit = "fill"
    window.present(img)
    assert np.array_equal(shown(), ScreenFitter((160, 90), "fill", mirror=True).apply(img))
    assert shown()[:, :20].any()  # fill leaves no bars


def test_vsync_falls_back_with_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO), Window(CFG) as win:
        if win.vsync:
            pytest.skip("this SDL gives vsync even with the dummy driver")
        assert caplog.text.count("vsync not available") == 1
        win.present(picture())


def test_toggle_fullscreen(window: Window) -> None:
    desktop = pygame.display.get_desktop_sizes()[0]
    assert window.toggle_fullscreen() is True
    assert window.size == desktop
    assert not pygame.mouse.get_visible()
    img = picture()
    window.present(img)
    assert np.array_equal(shown(), ScreenFitter(desktop, "fit").apply(img))
    assert window.toggle_fullscreen() is False
    assert window.size == (160, 90)
    assert pygame.mouse.get_visible()


def test_hud_darkens_its_box(window: Window) -> None:
    white = np.full((90, 160, 3), 255, np.uint8)
    window.present(white)
    assert (shown() == 255).all()
    window.present(white, hud=["12.0 fps", "scene paint"])
    pixels = shown()
    box = pixels[:30, :40]
    assert (box < 255).any()
    assert (pixels[60:, 120:] == 255).all()  # far from the box: untouched


def test_hud_caches_rendered_lines() -> None:
    pygame.font.init()
    surface = pygame.Surface((320, 180))
    hud = Hud()
    rect = hud.draw(surface, ["a line", "another"])
    assert rect.width > 0 and rect.height > 0
    cached = dict(hud._lines)
    hud.draw(surface, ["a line", "another"])
    assert all(hud._lines[k] is v for k, v in cached.items())
    assert hud.draw(surface, []).width == 0


def test_missing_monitor_falls_back_to_the_first(caplog: pytest.LogCaptureFixture) -> None:
    cfg = CFG.model_copy(update={"display": 5})
    with caplog.at_level(logging.WARNING), Window(cfg) as win:
        assert win.size == (160, 90)
    assert "display 5 not found" in caplog.text


def test_events_and_close_twice(window: Window) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_f))
    assert any(e.type == pygame.KEYDOWN for e in window.events())
    window.close()
    window.close()


def test_open_window_with_dummy_driver() -> None:
    win = open_window(CFG)
    assert win is not None
    win.close()


def test_open_window_none_when_driver_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pygame.display.quit()
    monkeypatch.setenv("SDL_VIDEODRIVER", "no-such-driver")
    with caplog.at_level(logging.INFO):
        assert open_window(CFG) is None
    assert "no display available (SDL: " in caplog.text
    assert "running headless" in caplog.text
    assert not pygame.display.get_init()


def test_open_window_none_without_display_env(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(key, raising=False)
    with caplog.at_level(logging.INFO):
        assert open_window(CFG) is None
    assert "DISPLAY" in caplog.text and "running headless" in caplog.text
