"""The shared Farneback set-up: the small grey working picture and the flow between two."""

from __future__ import annotations

import cv2
import numpy as np

from installation.farneback import farneback, small_grey
from installation.motion.config import MotionConfig


def test_small_grey_shrinks_then_greys_then_blurs(photo: np.ndarray) -> None:
    size = (96, 54)
    want = cv2.cvtColor(cv2.resize(photo, size, interpolation=cv2.INTER_AREA),
                        cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(small_grey(photo, size), want)
    blurred = cv2.GaussianBlur(want, (0, 0), 1.5)
    np.testing.assert_array_equal(small_grey(photo, size, 1.5), blurred)
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)  # a grey picture is shrunk only
    np.testing.assert_array_equal(small_grey(grey, size),
                                  cv2.resize(grey, size, interpolation=cv2.INTER_AREA))


def test_small_grey_writes_into_the_given_buffers(photo: np.ndarray) -> None:
    out = np.zeros((54, 96), np.uint8)
    scratch = np.zeros((54, 96, 3), np.uint8)
    got = small_grey(photo, (96, 54), 1.0, out=out, scratch=scratch)
    assert got is out and out.any() and scratch.any()
    np.testing.assert_array_equal(out, small_grey(photo, (96, 54), 1.0))


def test_flow_follows_a_shifted_picture(photo: np.ndarray) -> None:
    """The photo moved 3 px right between the two pictures: the flow says +3 px in x."""
    a = small_grey(photo, (160, 160))
    b = np.roll(a, 3, axis=1)
    flow = farneback(a, b, MotionConfig())
    assert flow.shape == (160, 160, 2) and flow.dtype == np.float32
    inner = flow[20:-20, 20:-20]  # away from the wrapped edge
    assert abs(float(np.median(inner[..., 0])) - 3.0) < 0.3
    assert abs(float(np.median(inner[..., 1]))) < 0.3
    out = np.full_like(flow, 99.0)  # a reused buffer: written over, not used as a guess
    np.testing.assert_array_equal(farneback(a, b, MotionConfig(), out=out), flow)
