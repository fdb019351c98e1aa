"""Background subtraction for a fixed camera: what in the picture is not the empty room.

    picture ─► moved back onto the room (a bumped camera) ─► the room's light (a lamp)
            ─► MOG2: foreground ─► a change over most of the picture: a cut, start again
    picture, tracked visitors painted over with the room ─► MOG2 learns, slowly

OpenCV's MOG2 models each pixel as a mixture of Gaussians and marks shadows (darker, same
colour) apart, which count as room here. MOG2 learns everything that stays still, a
visitor standing still included (with a learning rate a, in ln(1/0.9) / a frames: its
default background ratio 0.9 lets a new colour in once the old one's weight falls below
it), so learning is selective: the model is told to learn a picture in which the visitors
still tracked are painted over with the background itself. Someone who stops walking stays
foreground for as long as they are tracked; a thing left in the room is forgotten when the
tracker lets it go (`still_forget_s`).

The camera and the light may change while the room does not; both are measured against the
room where no tracked visitor stands, so neither makes visitors:

- a shift of the camera (a bump, a shaking mount): each picture is moved back onto the
  room (phase correlation); a shift that stays (`SETTLE_S`) is the camera's new place, and
  the room is learned again there from the picture, the visitors tracked painted over with
  the old room moved along, so that someone standing still stays foreground;
- the light (a lamp, the daylight, the camera's exposure): each picture is brought to the
  room's brightness and colour, a gain per channel.

A change over most of the picture left after that (a cut in a clip, a new place) is no
visitor either: the model starts again from that frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from installation.perception.config import PerceptionConfig

ABSORB = math.log(1 / 0.9)  # learning rate x frames for a still change to become room
FOREGROUND = 255  # MOG2's label for foreground (127 is shadow, 0 background)
WARM_FRAMES = 2  # frames after a start before anything counts as foreground
SURE_SHIFT = 0.4  # phase correlation's response from which a camera shift is believed
LEAST_SHIFT_PX = 0.3  # smaller shifts are left alone, analysis px
MOST_SHIFT = 0.1  # larger shifts than this share of a side are not compensated
SETTLE_S = 0.5  # a shift that stays this long is the camera's new place, s
SAME_SHIFT_PX = 0.3  # shifts this close are the same place, analysis px
SPECK = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))  # thinner is no visitor
AROUND = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))  # a visitor's surroundings
HOLD_SOFT_PX = 3.0  # the visitors fade out of the camera's shift over this, analysis px
SHAKING_S = 2.0  # a camera shifting this long is shaking: the visitors are followed again
LEAST_LIGHT = 0.01  # light changes smaller than this share are left alone
MOST_LIGHT = 4.0  # the light is matched up to this many times brighter or darker
LIGHT_STEP = 4  # the light is compared on every 4th pixel of every 4th row
LIGHT_DARK, LIGHT_BRIGHT = 12, 243  # grey levels: black and saturated pixels say nothing
SATURATED = 250  # grey level from which a pixel may be clipped by the camera
LIGHT_LEAST_PX = 100  # fewer pixels to compare than this: the light is left alone


def _moved(picture: np.ndarray, dx: float, dy: float, nearest: bool = False) -> np.ndarray:
    """`picture` moved by (dx, dy) px, the border repeated."""
    h, w = picture.shape[:2]
    move = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    return cv2.warpAffine(picture, move, (w, h),
                          flags=cv2.INTER_NEAREST if nearest else cv2.INTER_LANCZOS4,
                          borderMode=cv2.BORDER_REPLICATE)


def _painted(picture: np.ndarray, hold: np.ndarray | None, room: np.ndarray) -> np.ndarray:
    """`picture` with the `hold` pixels (0/1 uint8) taken from `room`."""
    if hold is None or not hold.any():
        return picture
    return np.where(hold[..., None] != 0, room, picture)


class Foreground:
    """The foreground of each analysed picture, as a 0/1 uint8 mask at its size."""

    def __init__(self, cfg: PerceptionConfig) -> None:
        self.cfg = cfg
        self.restarts = 0  # the model started again (a cut), for the frame state
        self.moves = 0  # the camera settled in a new place, the room learned again there
        self._window: np.ndarray | None = None
        self._start()

    def _start(self) -> None:
        self._mog = cv2.createBackgroundSubtractorMOG2(
            history=500, varThreshold=self.cfg.var_threshold, detectShadows=self.cfg.shadows)
        self._frames = 0
        self._since = 0.0  # how long the camera has been at `shift`, s
        self._shifted = 0.0  # how long the camera has been off the room, s
        self.shift = (0.0, 0.0)  # the camera's shift from the room, analysis px
        # The camera is moving (a bump, until it settles): what moves in this picture is
        # the camera, not the visitors. A camera that goes on shaking longer than
        # `SHAKING_S` is not moving any more in this sense: the visitors are followed.
        self.moving = False
        self.light = 1.0  # the picture's brightness over the room's

    def reset(self) -> None:
        self._start()

    def update(self, picture: np.ndarray, hold: np.ndarray | None, dt: float) -> np.ndarray:
        """The foreground of `picture` (HxWx3 uint8 at the analysis size), 0/1 uint8 HxW.

        `hold`: 0/1 uint8 HxW, where visitors still tracked stand (the model does not learn
        there), or None; `dt`: s since the last call (the learning rate follows real time).
        """
        room = self._mog.getBackgroundImage() if self._frames else None
        if room is not None and room.shape != picture.shape:
            room = None
        if self._frames < WARM_FRAMES:  # the first pictures are the room
            learn = picture if room is None else _painted(picture, hold, room)
            self._mog.apply(learn, learningRate=1.0 if self._frames == 0 else 0.5)
            self._frames += 1
            return np.zeros(picture.shape[:2], np.uint8)
        raw = picture
        if room is not None:
            picture, settled = self._steady(picture, room, hold, dt)
            if settled:  # the room learned again where the camera is now
                room = self._mog.getBackgroundImage()
            picture = self._relit(picture, room, hold)
        labels = self._mog.apply(picture, learningRate=0.0)
        fg = (labels == FOREGROUND).view(np.uint8)
        if np.count_nonzero(fg) > self.cfg.cut_share * fg.size:
            self.restarts += 1
            self._start()
            self._mog.apply(raw, learningRate=1.0)  # as it is: the light was the old room's
            self._frames = 1
            return np.zeros_like(fg)
        # A still change becomes room after `background_s` s, whatever the frame rate.
        rate = min(ABSORB * max(dt, 0.0) / self.cfg.background_s, 1.0)
        learn = picture if room is None else _painted(picture, hold, room)
        self._mog.apply(learn, learningRate=rate)
        return fg

    # -- the camera and the light ------------------------------------------------------------

    def _steady(self, picture: np.ndarray, room: np.ndarray, hold: np.ndarray | None,
                dt: float) -> tuple[np.ndarray, bool]:
        """`picture` moved back onto the learned `room` when the camera has shifted. The
        shift comes from phase correlation with the room, windowed so that the tracked
        visitors (`hold`) weigh nothing (a walker is no camera shift; painting them over
        with the room would vote for no shift at all), and is believed when the
        correlation is confident and the shift real but small (a bigger jump is a cut,
        handled by `cut_share`). A shift that stays `SETTLE_S` is the camera's new place:
        the room is learned again there (`_settle`), and True comes back with the picture
        as it is."""
        a = cv2.cvtColor(room, cv2.COLOR_RGB2GRAY).astype(np.float32)
        b = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
        if self._window is None or self._window.shape != a.shape:
            self._window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
        window = self._window
        if hold is not None and hold.any():  # the visitors weigh nothing, softly
            clear = cv2.GaussianBlur(1.0 - hold.astype(np.float32), (0, 0), HOLD_SOFT_PX)
            window = window * clear
        (dx, dy), response = cv2.phaseCorrelate(a, b, window)
        h, w = a.shape
        if response < SURE_SHIFT or math.hypot(dx, dy) < LEAST_SHIFT_PX or (
                abs(dx) > MOST_SHIFT * w or abs(dy) > MOST_SHIFT * h):
            self.shift, self._since, self._shifted, self.moving = (0.0, 0.0), 0.0, 0.0, False
            return picture, False
        same = math.hypot(dx - self.shift[0], dy - self.shift[1]) < SAME_SHIFT_PX
        self._since = self._since + dt if same else 0.0
        self._shifted += dt
        self.shift = (dx, dy)
        self.moving = self._shifted <= SHAKING_S
        if self._since >= SETTLE_S:
            self._settle(picture, room, hold, dx, dy)
            return picture, True
        return _moved(picture, -dx, -dy), False

    def _settle(self, picture: np.ndarray, room: np.ndarray, hold: np.ndarray | None,
                dx: float, dy: float) -> None:
        """The camera has moved to (dx, dy) from the room for good: the model starts again
        from `picture`, in which whatever is not the room now (the visitors, walking or
        standing: the foreground of the picture moved back, specks and the thin lines of
        misaligned edges left out, and the tracked visitors, `hold`) is painted over with
        the old room moved along, so that it stays foreground."""
        steady = self._relit(_moved(picture, -dx, -dy), room, hold)
        fg = (self._mog.apply(steady, learningRate=0.0) == FOREGROUND).view(np.uint8)
        busy = cv2.dilate(cv2.morphologyEx(fg, cv2.MORPH_OPEN, SPECK), AROUND)
        if hold is not None:
            busy = cv2.bitwise_or(busy, hold)
        busy = _moved(busy, dx, dy, nearest=True)
        room = _moved(room, dx, dy)
        learn = _painted(self._relit(picture, room, busy), busy, room)
        self.moves += 1
        self._start()
        self._mog.apply(learn, learningRate=1.0)
        self._frames = WARM_FRAMES  # at once: the visitors are where they were

    def _relit(self, picture: np.ndarray, room: np.ndarray, hold: np.ndarray | None
               ) -> np.ndarray:
        """`picture` brought back to the room's brightness and colour when the light has
        changed (a lamp, the daylight, a camera's exposure): per channel, the median ratio
        of room to picture over a sparse grid of pixels, where no tracked visitor stands
        (`hold`) and neither is black nor saturated, applied to the whole picture. The
        median ignores whatever else differs (a visitor not tracked yet, a moved chair)."""
        step = LIGHT_STEP
        now = picture[::step, ::step].reshape(-1, 3).astype(np.float32)
        before = room[::step, ::step].reshape(-1, 3).astype(np.float32)
        ok = ((now > LIGHT_DARK) & (now < LIGHT_BRIGHT) & (before > LIGHT_DARK)
              & (before < LIGHT_BRIGHT)).all(axis=1)
        if hold is not None:
            ok &= hold[::step, ::step].reshape(-1) == 0
        if np.count_nonzero(ok) < LIGHT_LEAST_PX:
            return picture
        gain = np.clip(np.median(before[ok] / now[ok], axis=0), 1 / MOST_LIGHT, MOST_LIGHT)
        self.light = float(1.0 / np.mean(gain))
        if np.abs(gain - 1.0).max() < LEAST_LIGHT:
            return picture
        relit = cv2.transform(picture, np.diag(gain).astype(np.float32))
        if gain.min() < 1.0:
            # Brighter light saturates what was bright: no telling what is there now, so
            # where the room would saturate too, it is taken for the room.
            unclipped = cv2.inRange(picture, (0, 0, 0), (SATURATED - 1,) * 3)
            would_not = cv2.inRange(room, (0, 0, 0), tuple(float(SATURATED * g) - 1 for g in gain))
            either = cv2.bitwise_or(unclipped, would_not)
            np.copyto(relit, room, where=(either == 0)[..., None])
        return relit
