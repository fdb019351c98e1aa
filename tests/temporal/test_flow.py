"""Optical flow, warping and the round-trip test on motion whose answer is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from installation.temporal.flow import Flow, Grid, Quality, channel_mean, grey, visible

W, H = 160, 96


@pytest.fixture(scope="module")
def texture(photo: np.ndarray) -> np.ndarray:
    """A detailed grey picture larger than the frames, to cut shifted frames from."""
    return cv2.resize(grey(photo), (W + 40, H + 40), interpolation=cv2.INTER_AREA)


def cut(texture: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The frame whose content sits (dx, dy) px further right and down than `cut(0, 0)`."""
    return np.ascontiguousarray(texture[20 - dy:20 - dy + H, 20 - dx:20 - dx + W])


INNER = (slice(12, H - 12), slice(12, W - 12))  # away from the edges, where flow is defined


@pytest.mark.parametrize("quality", ["fast", "medium", "reference"])
def test_flow_finds_a_shift(texture: np.ndarray, quality: Quality) -> None:
    a, b = cut(texture, 0, 0), cut(texture, 3, -2)  # b: a's content 3 px right, 2 px up
    flow = Flow(quality)(a, b)  # a(x) = b(x + f): f = (3, -2)
    assert flow.shape == (H, W, 2) and flow.dtype == np.float32
    assert np.median(flow[INNER][..., 0]) == pytest.approx(3.0, abs=0.15)
    assert np.median(flow[INNER][..., 1]) == pytest.approx(-2.0, abs=0.15)


def test_a_wide_picture_is_flowed_small_and_scaled_back(photo: np.ndarray) -> None:
    big = cv2.resize(grey(photo), (680, 400), interpolation=cv2.INTER_AREA)
    a, b = big[20:380, 20:660], big[20:380, 12:652]  # b: a's content 8 px right
    flow = Flow("medium", max_width=320)(np.ascontiguousarray(a), np.ascontiguousarray(b))
    assert flow.shape == (360, 640, 2)
    assert np.median(flow[40:-40, 40:-40, 0]) == pytest.approx(8.0, abs=0.3)


def test_the_reference_flow_is_the_most_accurate(texture: np.ndarray) -> None:
    """A smooth non-rigid motion (`flicker` trusts the reference flow over the live one)."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    u = 1.5 + 1.2 * np.sin(xs / 25.0)
    v = -0.8 + 1.0 * np.cos(ys / 20.0)
    src = cv2.GaussianBlur(texture, (0, 0), 0.8)
    a = cv2.remap(src, xs + 20, ys + 20, cv2.INTER_LINEAR)
    b = cv2.remap(src, xs + 20 - u, ys + 20 - v, cv2.INTER_LINEAR)  # a(x) = b(x + (u, v))
    def error(quality: Quality) -> float:
        f = Flow(quality)(a, b)
        return float(np.hypot(f[..., 0] - u, f[..., 1] - v)[INNER].mean())
    ref, medium, fast = error("reference"), error("medium"), error("fast")
    assert ref < medium < fast
    assert ref < 0.2  # px


def test_warp_carries_a_picture_along_its_flow(texture: np.ndarray) -> None:
    a, b = cut(texture, 0, 0), cut(texture, 5, 4)
    back = np.zeros((H, W, 2), np.float32)
    back[...] = (5, 4)  # a(x) = b(x + (5, 4)), exactly
    grid = Grid((W, H))
    assert np.array_equal(grid.warp(b, back)[:H - 4, :W - 5], a[:H - 4, :W - 5])
    inside = grid.inside(back)
    assert inside[:H - 4, :W - 5].all() and not inside[:, W - 4:].any()


def test_round_trip_marks_what_a_moving_square_uncovers() -> None:
    """A square 20 px wide moves 5 px right over a still background: the strip it leaves
    behind was hidden in the last frame; the square and the rest of the background were
    seen in both."""
    grid = Grid((W, H))
    back = np.zeros((H, W, 2), np.float32)  # this frame → the last
    forward = np.zeros((H, W, 2), np.float32)  # the last frame → this
    rows = slice(30, 60)
    back[rows, 50:70, 0] = -5.0  # the square is at x 50..69 now, 45..64 before
    forward[rows, 45:65, 0] = 5.0
    seen = visible(grid, back, forward)
    assert seen[rows, 50:70].all()  # the square, followed
    assert not seen[rows, 45:50].any()  # uncovered: the square was there before
    assert seen[:30].all() and seen[rows, :44].all() and seen[rows, 71:].all()


def test_round_trip_refuses_a_flow_off_the_picture() -> None:
    grid = Grid((W, H))
    back = np.zeros((H, W, 2), np.float32)
    back[..., 0] = -3.0  # everything came from 3 px further left
    ratio = grid.round_trip(back, -back)
    assert np.isinf(ratio[:, :3]).all() and (ratio[:, 3:] < 1.0).all()


def test_channel_mean() -> None:
    picture = np.zeros((4, 6, 3), np.uint8)
    picture[..., 0], picture[..., 1], picture[..., 2] = 30, 60, 90
    mean = channel_mean(picture)
    assert mean.shape == (4, 6) and np.allclose(mean, 60.0)
