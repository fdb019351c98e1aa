"""The heads-up display: a few lines of status text in a dark box at the top left.

The lines come from the frame state (`FrameState.hud_lines`); `Hud` draws them, rendering
each distinct line once and reusing it while the text stays the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygame

TEXT_COLOUR = (235, 235, 235)
BOX_RGBA = (0, 0, 0, 160)  # dark, ~63 % opaque: readable over any picture
MAX_CACHED_LINES = 64  # rendered lines kept; numbers change often, so bound the cache


class Hud:
    """Draws text lines on a pygame Surface; `size_px` None scales the text with the surface."""

    def __init__(self, size_px: int | None = None) -> None:
        self.size_px = size_px
        self._font: pygame.font.Font | None = None
        self._font_px = 0
        self._lines: dict[str, pygame.Surface] = {}
        self._box: pygame.Surface | None = None

    def _font_for(self, surface_height: int) -> pygame.font.Font:
        # ~1/45 of the height: 16 px at 720p, 48 px at 2160p; never below 12 px.
        px = self.size_px or max(12, surface_height // 45)
        if self._font is None or px != self._font_px:
            if not pygame.font.get_init():
                pygame.font.init()
            self._font = pygame.font.Font(None, px)
            self._font_px = px
            self._lines.clear()
        return self._font

    def _render(self, font: pygame.font.Font, text: str) -> pygame.Surface:
        surf = self._lines.get(text)
        if surf is None:
            if len(self._lines) >= MAX_CACHED_LINES:
                self._lines.clear()
            surf = self._lines[text] = font.render(text, True, TEXT_COLOUR)
        return surf

    def draw(self, surface: pygame.Surface, lines: Sequence[str]) -> pygame.Rect:
        """Draw `lines` at the top left of `surface`; returns the box drawn (empty if none)."""
        if not lines:
            return pygame.Rect(0, 0, 0, 0)
        font = self._font_for(surface.get_height())
        rendered = [self._render(font, ln) for ln in lines]
        pad = max(4, self._font_px // 3)  # px around and between lines
        step = font.get_linesize()
        # Width rounded up to 32 px so the box is not re-made each time a number changes.
        width = -(-(max(r.get_width() for r in rendered) + 2 * pad) // 32) * 32
        height = step * len(rendered) + 2 * pad
        box = self._box
        if box is None or box.get_size() != (width, height):
            box = self._box = pygame.Surface((width, height), pygame.SRCALPHA)
            box.fill(BOX_RGBA)
        rect = surface.blit(box, (pad, pad))
        for i, r in enumerate(rendered):
            surface.blit(r, (2 * pad, 2 * pad + i * step))
        return rect
