"""Faces on visitors (installation/perception/heads.py): head crops from the camera frame,
a budget of face network calls, and a face as what makes the person network's find a
person — on real stills from scikit-image held in front of the camera."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from skimage import data

from installation.perception import Perceiver, PerceptionConfig
from installation.perception.heads import CALLS, Box, Heads, head_crop
from installation.perception.networks import Networks
from installation.tools import people_scenes as ps

FPS = 15.0
SIZE = (640, 360)


def held_still(name: str, seconds: float = 10.0) -> ps.Clip:
    picture = getattr(data, name)()
    if picture.ndim == 2:
        picture = np.stack([picture] * 3, axis=-1)
    return ps.held(ps._cover(picture, SIZE), fps=FPS, seconds=seconds)


def presence(clip: ps.Clip, nets: Networks, faces: bool = True) -> list[float]:
    p = Perceiver(PerceptionConfig(), nets.segmenter, nets.faces if faces else None)
    return [p.update(frame, i / clip.fps).presence for i, frame in enumerate(clip)]


# -- the crop ------------------------------------------------------------------------------


def test_the_head_crop_is_a_square_on_the_head_from_above_the_top() -> None:
    x0, y0, x1, y1 = head_crop((100.0, 50.0, 200.0, 250.0), (640, 360), head_x=120.0)
    assert x1 - x0 == y1 - y0 == 160  # 0.8 of the 200 px height
    assert x0 + (x1 - x0) / 2 == 120  # centred on the head, not the box
    assert y0 < 50 < y1  # from a little above the top
    # Clipped by the picture; nothing for someone too small to show a face.
    assert head_crop((0.0, 0.0, 40.0, 300.0), (640, 360))[:2] == (0, 0)  # type: ignore[index]
    assert head_crop((10.0, 10.0, 14.0, 30.0), (640, 360)) is None


class Counting:
    """A face detector that finds one face in the middle of every crop, counting calls."""

    def __init__(self, fail: bool = False) -> None:
        self.calls, self.fail = 0, fail

    def boxes(self, rgb: np.ndarray) -> list[Box]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the runtime broke")
        return [(0.4, 0.3, 0.6, 0.5)]


def test_calls_per_frame_are_bounded_and_faces_kept_for_a_moment() -> None:
    detector = Counting()
    heads = Heads(detector)
    rgb = np.zeros((360, 640, 3), np.uint8)
    near = [(i, (0.1 * i, 0.1, 0.1 * i + 0.08, 0.9), 0.1 * i + 0.04) for i in range(1, 6)]
    heads.start_frame()
    found = heads.heads(rgb, near, 0.0, lambda _: True)
    assert detector.calls == CALLS and len(found) == CALLS  # five visitors, the budget
    heads.start_frame()
    found = heads.heads(rgb, near, 1 / FPS, lambda _: True)
    assert detector.calls == 2 * CALLS and len(found) == 2 * CALLS  # the next ones in turn
    # The face found lies in the crop's middle, in the picture's fractions, near the head.
    x, y = found[near[0][0]]
    assert abs(x - near[0][2]) < 0.02 and 0.1 < y < 0.5
    # Visitors gone are forgotten; faces older than FACE_KEEP_S too.
    heads.start_frame()
    assert set(heads.heads(rgb, [], 0.2, lambda i: i == 1)) == {1}
    heads.start_frame()
    assert heads.heads(rgb, [], 5.0, lambda _: True) == {}


def test_a_failing_face_network_is_dropped_and_said_once(caplog: pytest.LogCaptureFixture) -> None:
    detector = Counting(fail=True)
    heads = Heads(detector)
    rgb = np.zeros((360, 640, 3), np.uint8)
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            heads.start_frame()
            assert heads.face(rgb, (0.1, 0.1, 0.3, 0.9)) is None
    assert detector.calls == 1 and heads.detector is None
    assert sum("face network failed" in r.getMessage() for r in caplog.records) == 1


# -- a face makes the person network's find a person ------------------------------------


@pytest.mark.parametrize("still", ["coffee", "cat", "chelsea"])
def test_things_the_person_network_takes_for_people_read_absent(networks: Networks,
                                                                 still: str) -> None:
    """The network marks the cup, the cats as half "person" (docs/perception.md); with no
    face on them, nobody is there, the whole time."""
    clip = held_still(still)
    assert max(presence(clip, networks)) < 0.2
    # Without the face network the same still reads present: the face is what decides.
    if still == "coffee":
        assert max(presence(clip, networks, faces=False)) > 0.5


def test_a_person_standing_still_from_the_start_reads_present_by_her_face(
        networks: Networks) -> None:
    clip = ps.still_photo(fps=FPS, seconds=10.0)
    seen = presence(clip, networks)
    present_from = next(i for i, p in enumerate(seen) if p > 0.5) / FPS
    assert present_from < 2.0 and min(seen[round(2.0 * FPS):]) > 0.9


def test_a_face_places_the_head_of_a_visitor_near_the_camera(networks: Networks) -> None:
    clip = ps.still_photo(fps=FPS, seconds=3.0)
    p = Perceiver(PerceptionConfig(), networks.segmenter, networks.faces)
    out = [p.update(frame, i / clip.fps) for i, frame in enumerate(clip)]
    last = out[-1].visitors[0]
    assert last.face
    # Her face in the cover-cropped photo (looked at): its centre, the nose, at about
    # (0.44, 0.43) of the frame; the silhouette's top alone would put it near her hair.
    x, y = last.head
    assert 0.38 < x < 0.5 and 0.33 < y < 0.53
