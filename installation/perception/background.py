"""Background subtraction for a fixed camera: what in the picture is not the empty room.

OpenCV's MOG2 models each pixel as a mixture of Gaussians and marks shadows (darker, same
colour) apart, which count as room here. MOG2 learns everything that stays still, a
visitor standing still included (with a learning rate a, in ln(1/0.9) / a frames: its
default background ratio 0.9 lets a new colour in once the old one's weight falls below
it), so
learning is selective: the model is told to learn a picture in which the visitors still
tracked are painted over with the background itself. Someone who stops walking stays
foreground for as long as they are tracked; a thing left in the room is forgotten when the
tracker lets it go (`still_forget_s`).

A change over most of the picture at once (a cut in a clip, the lights) is no visitor:
the model starts again from that frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from installation.perception.config import PerceptionConfig

ABSORB = math.log(1 / 0.9)  # learning rate x frames for a still change to become room
FOREGROUND = 255  # MOG2's label for foreground (127 is shadow, 0 background)
WARM_FRAMES = 2  # frames after a start before anything counts as foreground
SURE_SHIFT = 0.2  # phase correlation's response from which a camera shift is believed
LEAST_SHIFT_PX = 0.3  # smaller shifts are left alone, analysis px
MOST_SHIFT = 0.1  # larger shifts than this share of a side are not compensated


class Foreground:
    """The foreground of each analysed picture, as a 0/1 uint8 mask at its size."""

    def __init__(self, cfg: PerceptionConfig) -> None:
        self.cfg = cfg
        self.restarts = 0  # the model started again (cut or lights), for the frame state
        self._start()

    def _start(self) -> None:
        self._mog = cv2.createBackgroundSubtractorMOG2(
            history=500, varThreshold=self.cfg.var_threshold, detectShadows=self.cfg.shadows)
        self._frames = 0
        self._window: np.ndarray | None = None
        self.shift = (0.0, 0.0)  # the camera's last shift from the room, analysis px

    def reset(self) -> None:
        self._start()

    def _steady(self, picture: np.ndarray) -> np.ndarray:
        """`picture` moved back onto the learned room when the camera has shifted (a bump, a
        shaking mount, a slow drift): the shift from phase correlation with the room's
        picture, used when the correlation is confident and the shift is real but small
        (a bigger jump is a cut, handled by `cut_share`)."""
        room = self._mog.getBackgroundImage()
        if room is None or room.shape != picture.shape:
            return picture
        a = cv2.cvtColor(room, cv2.COLOR_RGB2GRAY).astype(np.float32)
        b = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
        if self._window is None or self._window.shape != a.shape:
            self._window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
        (dx, dy), response = cv2.phaseCorrelate(a, b, self._window)
        self.shift = (dx, dy)
        h, w = a.shape
        if response < SURE_SHIFT or math.hypot(dx, dy) < LEAST_SHIFT_PX or (
                abs(dx) > MOST_SHIFT * w or abs(dy) > MOST_SHIFT * h):
            return picture
        move = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], np.float32)
        return cv2.warpAffine(picture, move, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def update(self, picture: np.ndarray, hold: np.ndarray | None, dt: float) -> np.ndarray:
        """The foreground of `picture` (HxWx3 uint8 at the analysis size), 0/1 uint8 HxW.

        `hold`: 0/1 uint8 HxW, where visitors still tracked stand (the model does not learn
        there), or None; `dt`: s since the last call (the learning rate follows real time).
        """
        if self._frames < WARM_FRAMES:  # the first pictures are the room
            self._mog.apply(picture, learningRate=1.0 if self._frames == 0 else 0.5)
            self._frames += 1
            return np.zeros(picture.shape[:2], np.uint8)
        picture = self._steady(picture)
        labels = self._mog.apply(picture, learningRate=0.0)
        fg = (labels == FOREGROUND).view(np.uint8)
        if np.count_nonzero(fg) > self.cfg.cut_share * fg.size:
            self.restarts += 1
            self._start()
            self._mog.apply(picture, learningRate=1.0)
            self._frames = 1
            return np.zeros_like(fg)
        # A still change becomes room after `background_s` s, whatever the frame rate.
        rate = min(ABSORB * max(dt, 0.0) / self.cfg.background_s, 1.0)
        if hold is not None and hold.any():
            room = self._mog.getBackgroundImage()
            if room is not None and room.shape == picture.shape:
                picture = np.where(hold[..., None] != 0, room, picture)
        self._mog.apply(picture, learningRate=rate)
        return fg
