"""Background subtraction for a fixed camera (installation/perception/background.py): a
visitor standing still is not learned while tracked; a bumped camera, the lights and a cut
make no visitors. Synthetic scenes (`people_scenes`), simulated clock: frame i at i / fps."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from installation.perception import Perceiver, PerceptionConfig, Visitors
from installation.perception.background import Foreground
from installation.tools import people_scenes as ps
from installation.tools.people_scenes import Clip, Figure

FPS = 15.0
SIZE = (320, 180)  # the camera: small, the analysis picture is 256 px wide anyway


def perceive(clip: Clip, perceiver: Perceiver | None = None) -> list[Visitors]:
    perceiver = perceiver or Perceiver(PerceptionConfig())
    return [perceiver.update(frame, i / clip.fps) for i, frame in enumerate(clip)]


def after(clip: Clip, at_s: float, change: Callable[[np.ndarray], np.ndarray]) -> Clip:
    """`clip` with `change` applied to every frame from `at_s` on."""
    k = round(at_s * clip.fps)
    return Clip(lambda i: change(clip[i]) if i >= k else clip[i], len(clip), clip.fps,
                clip.size, clip.boxes)


def bumped(dx: float, dy: float) -> Callable[[np.ndarray], np.ndarray]:
    def move(frame: np.ndarray) -> np.ndarray:
        shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
        return cv2.warpAffine(frame, shift, frame.shape[1::-1], flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    return move


def lit(gain: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda frame: np.clip(frame * np.float32(gain), 0, 255).astype(np.uint8)


def stander(seconds: float) -> Clip:
    """Someone who walks in from the left and stands still from 3 s on."""
    return ps.walkers(SIZE, FPS, seconds, [Figure(0.3, -0.1, 0.9, 0.8, stop_at_s=3.0)])


# -- a visitor standing still -----------------------------------------------------------------

def test_a_still_change_is_learned_unless_held() -> None:
    # The room, then something new that stays: learned into the room after about
    # `background_s`; where a tracked visitor is held, never.
    cfg = PerceptionConfig(background_s=5.0)
    room = ps.room((256, 144))
    scene = ps.walkers((256, 144), FPS, 1.0, [Figure(0.5, 0.5, 0.9)], background=room,
                       noise=0.0)[0]
    figure = (np.abs(scene.astype(int) - room.astype(int)).sum(axis=2) > 30)
    hold = cv2.dilate(figure.view(np.uint8), np.ones((7, 7), np.uint8))
    for held in (None, hold):
        fg = Foreground(cfg)
        clip = ps.held(room, FPS, 1.0)
        for i, frame in enumerate(clip):
            fg.update(frame, None, 1 / FPS if i else 0.0)
        shares = []
        for frame in ps.held(scene, FPS, 20.0):
            mask = fg.update(frame, held, 1 / FPS)
            shares.append(mask[figure].mean())
        assert shares[0] > 0.9
        if held is None:
            learned = next(i for i, s in enumerate(shares) if s < 0.5) / FPS
            assert 0.5 * cfg.background_s < learned < 2 * cfg.background_s
        else:
            assert min(shares) > 0.9


# -- the camera and the light ------------------------------------------------------------------

def test_a_bumped_camera_makes_no_visitors() -> None:
    # 2.5 px right and 1.5 px down at 7 s (about 2 px and 1 px of the analysis picture).
    clip = after(ps.empty_room(SIZE, FPS, 12.0), 7.0, bumped(2.5, 1.5))
    perceiver = Perceiver(PerceptionConfig())
    out = perceive(clip, perceiver)
    assert all(v.count == 0 and v.presence == 0.0 for v in out)
    assert perceiver.foreground.moves == 1  # settled: the room learned again there
    assert perceiver.foreground.restarts == 0


def test_a_bumped_camera_keeps_a_visitor_standing_still() -> None:
    clip = after(stander(14.0), 7.0, bumped(2.5, 1.5))
    perceiver = Perceiver(PerceptionConfig())
    out = perceive(clip, perceiver)
    assert perceiver.foreground.moves == 1
    ids = {x.id for v in out for x in v.visitors}
    assert len(ids) == 1
    assert all(v.count == 1 for v in out[round(3.0 * FPS):])
    settled = out[round(9.0 * FPS):]  # a second after the bump settles: still again
    assert max(v.energy for v in settled) == 0.0
    height = out[round(6.0 * FPS)].visitors[0].height
    assert all(abs(v.visitors[0].height - height) < 0.02 for v in settled)


@pytest.mark.parametrize("at_s", [2.5, 3.9])  # as they come near, as they cross
def test_a_bump_while_two_walk_keeps_them(at_s: float) -> None:
    clip = after(ps.crossing(SIZE, FPS, 8.0), at_s, bumped(-2.5, 1.5))
    perceiver = Perceiver(PerceptionConfig())
    out = perceive(clip, perceiver)
    assert perceiver.foreground.moves >= 1  # (a second settle may correct the first)
    assert {x.id for v in out for x in v.visitors} == {1, 2}
    assert all(v.count == 2 for v in out[round(2.0 * FPS):round(7.0 * FPS)])
    end = out[round(7.0 * FPS)]
    assert [x.id for x in sorted(end.visitors, key=lambda x: x.x)] == [2, 1]  # crossed


@pytest.mark.parametrize("gain", [1.3, 0.7])
def test_the_lights_make_no_visitors(gain: float) -> None:
    clip = after(ps.empty_room(SIZE, FPS, 10.0), 5.0, lit(gain))
    perceiver = Perceiver(PerceptionConfig())
    out = perceive(clip, perceiver)
    assert all(v.count == 0 and v.presence == 0.0 for v in out)
    assert perceiver.foreground.light == pytest.approx(gain, rel=0.05)


@pytest.mark.parametrize("gain", [1.3, 0.7])
def test_the_lights_keep_a_visitor_standing_still(gain: float) -> None:
    clip = after(stander(12.0), 6.0, lit(gain))
    out = perceive(clip)
    assert len({x.id for v in out for x in v.visitors}) == 1
    assert all(v.count == 1 and v.presence > 0.9 for v in out[round(4.0 * FPS):])
    assert max(v.energy for v in out[round(7.0 * FPS):]) == 0.0


def test_a_cut_starts_the_room_again() -> None:
    # Someone standing, then a totally different picture: no visitors from the cut, the
    # new picture is the room.
    other = ps.still_photo(SIZE, FPS, 1.0)[0]  # the astronaut close up
    clip = after(stander(14.0), 6.0, lambda frame: other)
    perceiver = Perceiver(PerceptionConfig())
    out = perceive(clip, perceiver)
    assert perceiver.foreground.restarts == 1
    cfg = perceiver.cfg
    gone = 6.0 + cfg.lost_s + cfg.presence_hold_s + 4 * cfg.presence_tau_s
    assert all(v.count == 0 and v.presence < 0.05 for v in out[round(gone * FPS):])
    assert len({x.id for v in out for x in v.visitors}) == 1  # only the one before the cut
