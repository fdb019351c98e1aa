"""The frame state knows when the picture is not alive: black or frozen for longer than
`[watchdog] dead_picture_s` is a reason in /health; a still image, the operator's pause
and blackout are not faults."""

from __future__ import annotations

import numpy as np

from installation.show.report import PictureWatch
from installation.state import FrameState

DEAD_S = 10.0
RNG = np.random.default_rng(3)


def noisy() -> np.ndarray:
    """A camera picture: never twice the same."""
    return RNG.integers(0, 255, (72, 128, 3), np.uint8)


def test_a_black_picture_is_reported_after_the_dead_time() -> None:
    watch = PictureWatch()
    black = np.zeros((72, 128, 3), np.uint8)
    black[3, 5] = 255  # a pixel between the samples does not make it alive
    said = [watch.check(black.copy(), (i, noisy()), float(i), DEAD_S) for i in range(13)]
    assert said[:10] == [None] * 10
    assert said[10] == "black for 10 s" and said[12] == "black for 12 s"
    assert watch.check(noisy(), (13, noisy()), 13.0, DEAD_S) is None  # alive again


def test_a_frozen_picture_over_a_changing_camera_is_reported() -> None:
    watch = PictureWatch()
    stuck = noisy()
    said = [watch.check(stuck, (i, noisy()), float(i), DEAD_S) for i in range(13)]
    assert said[9] is None and said[12] == "frozen for 12 s"
    # The same picture with a new identity (a new frame painted the same) is as frozen.
    assert watch.check(stuck.copy(), (13, noisy()), 13.0, DEAD_S) == "frozen for 13 s"


def test_a_still_source_or_a_picture_without_the_camera_is_frozen_by_design() -> None:
    still, painted = noisy(), noisy()
    watch = PictureWatch()  # a still image: the source's slot moves on, its picture does not
    assert all(watch.check(painted, (i, still.copy()), float(i), DEAD_S) is None
               for i in range(30))
    watch = PictureWatch()  # the camera changes, but the scene shows no camera layer
    assert all(watch.check(painted, (i, noisy()), float(i), DEAD_S, camera_shown=False)
               is None for i in range(30))


def test_a_live_picture_is_alive_and_rest_restarts_the_clocks() -> None:
    watch = PictureWatch()
    assert all(watch.check(noisy(), (i, noisy()), float(i), DEAD_S) is None for i in range(30))
    black = np.zeros((72, 128, 3), np.uint8)
    for i in range(30, 45):  # paused or blacked out: the reporter rests the watch each turn
        watch.rest(float(i))
    assert watch.check(black, (45, noisy()), 45.0, DEAD_S) is None
    assert watch.check(None, (46, noisy()), 46.0, DEAD_S) is None


def test_the_reason_reaches_reasons_and_the_hud() -> None:
    state = FrameState(picture="black for 12 s")
    assert "picture black for 12 s" in state.reasons()
    assert "PICTURE BLACK FOR 12 S" in state.hud_lines()
    assert FrameState().reasons() == [] or "picture" not in " ".join(FrameState().reasons())


def test_an_empty_room_with_sensor_noise_held_still_is_not_frozen() -> None:
    """The stabiliser holds its picture under sensor noise: an empty room's camera changes
    by noise only, the shown picture not at all — alive, not frozen."""
    room = RNG.integers(40, 200, (72, 128, 3)).astype(np.int16)
    held = room.astype(np.uint8)
    watch = PictureWatch()
    for i in range(40):
        noise = RNG.normal(0, 2.0, room.shape)  # σ 2 grey levels
        camera = np.clip(room + noise, 0, 255).astype(np.uint8)
        assert watch.check(held, (i, camera), float(i), DEAD_S) is None


def test_a_dark_room_shown_dark_is_not_black() -> None:
    dark = np.full((72, 128, 3), 3, np.uint8)
    watch = PictureWatch()
    said = [watch.check(dark.copy(), (i, np.full((72, 128, 3), i % 5, np.uint8)),
                        float(i), DEAD_S) for i in range(30)]
    assert said == [None] * 30  # the camera sees no light either
