"""The show window: a pygame display that presents RGB pictures, fitted, mirrored, with a HUD
and, for setting up a camera, the visitors overlay.

`open_window(cfg)` returns None when no display can be opened, so the caller can run
headless instead. Under `SDL_VIDEODRIVER=dummy` (tests) it opens an off-screen window.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Sequence

import numpy as np
import pygame

from installation.display.config import DisplayConfig
from installation.display.hud import Hud
from installation.display.overlay import Overlay, draw_overlay
from installation.display.screen import FitMode, ScreenFitter
from installation.logs import RateLimitedLog

log = logging.getLogger(__name__)

CAPTION = "installation"
OVERLAY_FAULT_EVERY_S = 60.0  # a visitors overlay that cannot be drawn says so this often, s


class Window:
    """A pygame window (or full screen) that shows pictures.

    `mirror` and `fit` ("fit" | "fill") may be changed at any time; they apply from the
    next `present()`. Raises `pygame.error` when the display cannot be opened.
    """

    def __init__(self, cfg: DisplayConfig) -> None:
        self.cfg = cfg
        self.mirror: bool = cfg.mirror
        self.fit: FitMode = cfg.fit
        self.fullscreen: bool = cfg.fullscreen
        self.vsync: bool = cfg.vsync  # becomes False when the driver cannot give it
        self._fitter = ScreenFitter((cfg.width, cfg.height), cfg.fit, cfg.mirror)
        self._hud = Hud()
        self._faults = RateLimitedLog(log, interval_s=OVERLAY_FAULT_EVERY_S)
        self._blit_src: tuple[np.ndarray, pygame.Surface] | None = None
        self._closed = False
        pygame.display.init()
        self._index = self._display_index()
        self._surface = self._open()

    # -- opening -------------------------------------------------------------------------

    def _display_index(self) -> int:
        count = len(pygame.display.get_desktop_sizes())
        if self.cfg.display < count:
            return self.cfg.display
        log.warning("display %d not found (%d connected): using display 0",
                    self.cfg.display, count)
        return 0

    def _open(self) -> pygame.Surface:
        index = self._index
        if self.fullscreen:
            size = pygame.display.get_desktop_sizes()[index]
            flags = pygame.FULLSCREEN
        else:
            size = (self.cfg.width, self.cfg.height)
            flags = pygame.RESIZABLE
        surface = self._set_mode(size, flags, index)
        if surface.get_size() != size:
            # Some drivers (SDL's dummy among them) keep the full-screen size when a window
            # leaves full screen; a fresh window gets the size asked for.
            pygame.display.quit()
            pygame.display.init()
            surface = self._set_mode(size, flags, index)
        pygame.display.set_caption(CAPTION)
        pygame.mouse.set_visible(not self.fullscreen)  # no cursor over the show
        self._blit_src = None
        return surface

    def _set_mode(self, size: tuple[int, int], flags: int, index: int) -> pygame.Surface:
        if self.vsync:
            # pygame gives vsync only through a renderer (SCALED or OPENGL); we blit, so SCALED.
            # A software renderer only adds a copy and cannot sync: then go without.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    surface = pygame.display.set_mode(size, flags | pygame.SCALED,
                                                      display=index, vsync=1)
                    reason = "; ".join(str(w.message) for w in caught)
                except pygame.error as exc:
                    reason = f"SDL: {exc}"
            if not reason:
                return surface
            log.info("vsync not available (%s): presenting without vsync", reason)
            self.vsync = False
        return pygame.display.set_mode(size, flags, display=index)

    # -- the loop ------------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        """The drawable size (W, H) in pixels; follows window resizes."""
        surface = pygame.display.get_surface()
        return surface.get_size() if surface is not None else self._surface.get_size()

    def events(self) -> list[pygame.event.Event]:
        """Pending events (keys, quit, resize); call once per loop iteration."""
        return pygame.event.get()

    def present(self, rgb: np.ndarray, hud: Sequence[str] | None = None,
                overlay: Overlay | None = None) -> None:
        """Show `rgb` (HxWx3 uint8), fitted to the window, with the visitors overlay and HUD
        lines when given, and flip."""
        screen = pygame.display.get_surface() or self._surface
        self._fitter.size = screen.get_size()
        self._fitter.mode = self.fit
        self._fitter.mirror = self.mirror
        out = self._fitter.apply(rgb)
        placement = self._fitter.placement
        if overlay is not None and placement is not None:
            try:
                draw_overlay(out, overlay, (rgb.shape[1], rgb.shape[0]), placement,
                             self.mirror)
            except Exception as exc:  # a set-up aid never takes the window with it
                self._faults.warning("overlay", "visitors overlay not drawn: "
                                     f"{type(exc).__name__}: {exc}")
        screen.blit(self._wrap(out), (0, 0))
        if hud:
            self._hud.draw(screen, hud)
        pygame.display.flip()

    def _wrap(self, out: np.ndarray) -> pygame.Surface:
        # A Surface over the fitter's buffer, no copy: it sees each new picture, so it is
        # made again only when the fitter re-allocates. Measured fastest: SDL converts the
        # 24-bit rows while blitting (about half the time of surfarray.blit_array).
        cached = self._blit_src
        if cached is None or cached[0] is not out:
            h, w = out.shape[:2]
            cached = self._blit_src = (out, pygame.image.frombuffer(out.data, (w, h), "RGB"))
        return cached[1]

    def toggle_fullscreen(self) -> bool:
        """Switch between window and full screen; returns True when now full screen."""
        self.fullscreen = not self.fullscreen
        self._surface = self._open()
        log.info("display: %s %dx%d", "full screen" if self.fullscreen else "window",
                 *self._surface.get_size())
        return self.fullscreen

    def close(self) -> None:
        """Close the display; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._blit_src = None
        pygame.mouse.set_visible(True)
        pygame.display.quit()

    def __enter__(self) -> Window:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _missing_display() -> str:
    """Why no display can exist, found without touching SDL; "" when one may exist."""
    if not sys.platform.startswith("linux"):
        return ""
    if any(os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")):
        return ""
    return "neither DISPLAY nor WAYLAND_DISPLAY is set; SDL_VIDEODRIVER picks another driver"


def open_window(cfg: DisplayConfig) -> Window | None:
    """Open the show window, or return None (after one info line) when there is no display."""
    reason = _missing_display()
    if not reason:
        try:
            window = Window(cfg)
        except pygame.error as exc:
            pygame.display.quit()
            reason = f"SDL: {exc}"
        else:
            w, h = window.size
            log.info("display: %s %dx%d, vsync %s", "full screen" if window.fullscreen
                     else "window", w, h, "on" if window.vsync else "off")
            return window
    log.info("no display available (%s): running headless", reason)
    return None
