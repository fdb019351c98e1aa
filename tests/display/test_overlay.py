"""The visitors overlay: silhouettes tinted and boxes drawn where the visitors are on the
screen, through the window's fit and mirror; the window draws it, a recording never does."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pygame
import pytest

from installation.display.config import DisplayConfig
from installation.display.overlay import PALETTE, Mark, Overlay, draw_overlay
from installation.display.recorder import Recorder
from installation.display.screen import ScreenFitter
from installation.display.sinks import RecorderSink, Shown, ThreadedSink, WindowSink
from installation.display.window import Window
from installation.pictures import FitMode

GREY = 100
PICTURE = (160, 90)  # (W, H) px


def picture() -> np.ndarray:
    return np.full((PICTURE[1], PICTURE[0], 3), GREY, np.uint8)


def blob_mask() -> np.ndarray:
    """A silhouette over x 0.125..0.3125, y 0.22..0.78 of the picture (mask 80x45)."""
    mask = np.zeros((45, 80), np.float32)
    mask[10:35, 10:25] = 1.0
    return mask


# A visitor on the right of the picture, standing still, id 0 (the palette's first colour).
MARK = Mark(0, (0.6, 0.2, 0.8, 0.8), (0.7, 0.25), (0.0, 0.0), 0.5)


def drawn(overlay: Overlay, size: tuple[int, int] = (320, 180), mode: FitMode = "fit",
          mirror: bool = False) -> np.ndarray:
    fitter = ScreenFitter(size, mode, mirror)
    out = fitter.apply(picture())
    assert fitter.placement is not None
    draw_overlay(out, overlay, PICTURE, fitter.placement, mirror)
    return out


def tinted(pixel: np.ndarray) -> bool:
    """Magenta added: red and blue well up, green hardly."""
    r, g, b = (int(c) for c in pixel)
    return r > GREY + 80 and b > GREY + 60 and g < GREY + 40


def test_silhouettes_are_tinted_and_boxes_drawn_where_the_visitors_are() -> None:
    mask = blob_mask()
    before = mask.copy()
    out = drawn(Overlay((MARK,), mask))  # 2x the picture: x 40..100, y 40..140 silhouette
    assert tinted(out[90, 70])
    assert not tinted(out[90, 150]) and (out[170, 150] == GREY).all()  # nobody there
    assert tuple(out[90, 192]) == PALETTE[0]  # the box's left edge: 0.6 x 320
    assert tuple(out[90, 256]) == PALETTE[0]  # ... and its right edge
    assert (out[120, 224] == GREY).all()  # inside the box, away from head and edges
    # The head at (0.7, 0.25) → (224, 45): a ring around it, a disc once a face is found.
    ring = (out[32:59, 211:238] != GREY).any(axis=-1)
    assert ring.sum() > 40 and (out[45, 224] == GREY).all()
    face = drawn(Overlay((Mark(0, MARK.box, MARK.head, (0.0, 0.0), 0.5, face=True),)))
    assert tuple(face[45, 224]) == PALETTE[0]
    assert np.array_equal(mask, before)  # the show's mask is never written to


def test_mirror_moves_everything_to_the_other_side() -> None:
    out = drawn(Overlay((MARK,), blob_mask()), mirror=True)
    assert tinted(out[90, 250]) and not tinted(out[90, 70])  # 320 - 70
    assert tuple(out[90, 128]) == PALETTE[0] and tuple(out[90, 64]) == PALETTE[0]
    assert (out[90, 200] == GREY).all()  # inside the box before the mirror: nothing now


def test_letterbox_bars_stay_black() -> None:
    everywhere = np.ones((45, 80), np.float32)
    out = drawn(Overlay((), everywhere), size=(320, 240))  # 320x180 picture, 30 px bars
    assert not out[:30].any() and not out[210:].any()
    assert tinted(out[120, 160]) and tinted(out[31, 1]) and tinted(out[208, 318])


def test_fill_crops_the_overlay_with_the_picture() -> None:
    """A 160x90 picture filling 180x180 shows its middle 90x90 (x 35..125) at 2x: a box
    from x 0.25 (40 px) lies at (40 - 35) x 2 = 10 px."""
    mark = Mark(1, (0.25, 0.2, 0.5, 0.8), (0.4, 0.25), (0.0, 0.0), 0.1)
    out = drawn(Overlay((mark,)), size=(180, 180), mode="fill")
    assert tuple(out[90, 10]) == PALETTE[1]
    assert tuple(out[90, 90]) == PALETTE[1]  # (80 - 35) x 2
    assert (out[90, 50] == GREY).all()


def test_motion_is_an_arrow_from_the_centre() -> None:
    moving = Mark(2, (0.4, 0.2, 0.5, 0.8), (0.45, 0.25), (0.4, 0.0), 1.2)  # 0.2 in 0.5 s
    still = drawn(Overlay((Mark(2, moving.box, moving.head, (0.0, 0.0), 0.0),)))
    out = drawn(Overlay((moving,)))
    # From the centre (144, 90) rightwards to 0.45 + 0.2 = 0.65 of the width (208 px).
    assert (still[90, 180] == GREY).all()
    assert np.abs(out[90, 180].astype(int) - PALETTE[2]).max() < 16  # anti-aliased
    assert (out[90, 215] == GREY).all()  # ... and no farther


@pytest.fixture
def window() -> Iterator[Window]:
    win = Window(DisplayConfig(width=320, height=180, fit="fit", mirror=False))
    yield win
    win.close()


def test_the_window_draws_it_the_recording_does_not(window: Window, tmp_path: Path) -> None:
    overlay = Overlay((MARK,), np.ones((45, 80), np.float32))
    shown = Shown(picture(), 0.0, mirror=False, fit="fit", overlay=overlay)
    WindowSink(window).send(shown)
    screen = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
    assert tinted(screen[120, 100])
    path = tmp_path / "rec.mp4"
    sink = ThreadedSink(RecorderSink(Recorder(path, (160, 90), fps=10.0)))
    sink.offer(shown)
    sink.close()
    with av.open(str(path)) as container:
        frame = next(iter(container.decode(video=0))).to_ndarray(format="rgb24")
    assert np.abs(frame.astype(int) - GREY).max() < 8  # the picture as composed, plain


def test_an_overlay_that_cannot_be_drawn_costs_a_line_not_the_window(
        window: Window, caplog: pytest.LogCaptureFixture) -> None:
    lost = Mark(5, (float("nan"), 0.2, 0.5, 0.8), (0.4, 0.3), (0.0, 0.0), 0.0)
    far = Mark(6, (-1e12, 0.2, 1e12, 0.8), (0.4, 0.3), (1e15, 0.0), 0.0)  # C ints overflow
    sink = WindowSink(window)
    sink.send(Shown(picture(), 0.0, fit="fit", overlay=Overlay((lost, far))))
    screen = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
    assert tuple(screen[70, 220]) == (GREY,) * 3  # inside the far box, off its arrow
    broken = Overlay((), np.ones((45, 80, 2, 2), np.float32))  # no mask at all
    with caplog.at_level(logging.WARNING, logger="installation"):
        sink.offer(Shown(picture(), 0.1, fit="fit", overlay=broken))
        sink.offer(Shown(picture(), 0.2, fit="fit", overlay=broken))
    assert sink.failed is None and sink.sent == 3
    said = [r.getMessage() for r in caplog.records if "overlay not drawn" in r.getMessage()]
    assert len(said) == 1  # once, not every frame
