"""Tracks (installation/perception/tracker.py): identities through a crossing, on synthetic
fixed-camera clips where the right answer is known (`people_scenes`), and the rules of a
track on hand-made blobs. Simulated clock: frame i at i / fps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from installation.perception import Perceiver, PerceptionConfig, Visitors
from installation.perception.blobs import Blob
from installation.perception.tracker import Tracker
from installation.tools import people_scenes as ps
from installation.tools.people_scenes import Clip, Figure

FPS = 15.0


def perceive(clip: Clip, cfg: PerceptionConfig | None = None) -> list[Visitors]:
    perceiver = Perceiver(cfg or PerceptionConfig())
    return [perceiver.update(frame, i / clip.fps) for i, frame in enumerate(clip)]


def ids_left_to_right(v: Visitors) -> list[int]:
    return [x.id for x in sorted(v.visitors, key=lambda x: x.x)]


def meeting(clip: Clip) -> tuple[float, float]:
    """When the two figures' boxes first overlap and when they last do, s."""
    overlap = [i for i in range(len(clip))
               if (lambda a, b: min(a[2], b[2]) > max(a[0], b[0]))(*clip.boxes(i))]
    return overlap[0] / clip.fps, overlap[-1] / clip.fps


CROSSINGS = {
    # The same size and speed, the one from the right in front.
    "alike": lambda: ps.crossing(fps=FPS, seconds=8.0),
    # Different sizes (one farther), speeds and heights in the picture.
    "unlike": lambda: ps.walkers(fps=FPS, seconds=8.0, figures=[
        Figure(0.4, 0.5 - 0.6 * 0.4 * 360 * 4 / 640, 0.9, 0.6),
        Figure(0.32, 0.5 + 0.9 * 0.32 * 360 * 4 / 640, 0.8, -0.9, mirror=True)]),
}


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.25])
@pytest.mark.parametrize("kind", sorted(CROSSINGS))
def test_two_walkers_keep_their_identities_through_a_crossing(kind: str, scale: float
                                                              ) -> None:
    clip = CROSSINGS[kind]()
    first, last = meeting(clip)
    if scale < 1.0:
        clip = ps.inset(clip, scale, ps.room())
    out = perceive(clip)
    before = out[round((first - 0.3) * FPS)]
    after = out[round((last + 1.0) * FPS)]
    print(f"\n{kind} at {scale}: they overlap {first:.2f}-{last:.2f} s; left to right "
          f"before {ids_left_to_right(before)}, after {ids_left_to_right(after)}")
    assert before.count == 2 and after.count == 2
    a, b = ids_left_to_right(before)
    assert ids_left_to_right(after) == [b, a]  # the one from the left is now on the right
    assert {x.id for v in out for x in v.visitors} == {a, b}  # nobody else, ever
    # Through the crossing both are there, moving their own ways.
    for v in out[round(first * FPS):round(last * FPS)]:
        assert v.count == 2
        assert {x.id: math.copysign(1, x.vx) for x in v.visitors} == {a: 1.0, b: -1.0}


# -- the rules, on hand-made blobs ------------------------------------------------------------

def blob(cx: float, bottom: float, height: int, width: int | None = None,
         person: bool = False) -> Blob:
    """A rectangular blob `height` px tall centred on `cx`, its bottom at `bottom`."""
    width = width or max(1, height // 2)
    x, y = round(cx - width / 2), round(bottom - height)
    inside = np.ones((height, width), bool)
    return Blob((x, y, width, height), (x + width / 2, y + height / 2),
                (x + width / 2, y + height * 0.1), height * width, inside, 1, person)


def follow(tracker: Tracker, blobs_at: list[list[Blob]], fps: float = FPS,
           size: tuple[int, int] = (256, 144)) -> list[list]:
    return [list(tracker.update(blobs, i / fps, size)) for i, blobs in enumerate(blobs_at)]


def test_something_that_appears_in_place_is_no_visitor() -> None:
    # A patch of light, a moved chair: there, not moving, never confirmed.
    tracker = Tracker(PerceptionConfig())
    out = follow(tracker, [[blob(100, 120, 40)]] * 60)
    assert all(not tracks for tracks in out)
    assert len(tracker.tracks) == 1 and tracker.tracks[0].id == 0


def test_a_walker_is_confirmed_once_moved_in() -> None:
    cfg = PerceptionConfig()
    tracker = Tracker(cfg)
    speed = 1.0  # body heights/s
    out = follow(tracker, [[blob(20 + speed * 40 * i / FPS, 120, 40)] for i in range(30)])
    first = next(i for i, tracks in enumerate(out) if tracks) / FPS
    assert first >= max(cfg.confirm_s, cfg.arrive_heights / speed) - 1 / FPS
    assert first <= cfg.arrive_heights / speed + 0.2
    assert out[-1][0].id == 1


def test_the_person_network_confirms_someone_standing_still() -> None:
    cfg = PerceptionConfig()
    out = follow(Tracker(cfg), [[blob(100, 120, 40, person=True)]] * 15)
    first = next(i for i, tracks in enumerate(out) if tracks) / FPS
    assert cfg.confirm_s - 1 / FPS <= first <= cfg.confirm_s + 1 / FPS


@pytest.mark.parametrize("height", [12, 24, 96])
def test_speed_in_body_heights_whatever_the_size(height: int) -> None:
    # 0.8 body heights/s for a visitor 12, 24 or 96 px tall.
    tracker = Tracker(PerceptionConfig())
    out = follow(tracker, [[blob(20 + 0.8 * height * i / FPS, 130, height)] for i in range(45)])
    v = out[-1][0]
    assert v.speed == pytest.approx(0.8, rel=0.05)
    assert v.motion == pytest.approx(0.8, rel=0.1)  # a rigid box: travel only


def test_unseen_a_visitor_coasts_then_leaves() -> None:
    cfg = PerceptionConfig()
    tracker = Tracker(cfg)
    walk = [[blob(20 + 40 * i / FPS, 120, 40)] for i in range(30)]
    seen: list[tuple[int, float, float, int]] = []  # (id, cx, motion, blob) each frame
    for i, blobs in enumerate(walk + [[]] * 60):
        tracks = tracker.update(blobs, i / FPS, (256, 144))
        seen.append((tracks[0].id, tracks[0].cx, tracks[0].motion, tracks[0].blob)
                    if tracks else (0, 0.0, 0.0, 0))
    gone = next(i for i in range(30, 90) if not seen[i][0]) / FPS - 30 / FPS
    assert cfg.lost_s - 2 / FPS <= gone <= cfg.lost_s + 2 / FPS
    _, cx, motion, index = seen[35]
    assert index == -1 and cx > seen[29][1] + 5 * 40 / FPS * 0.9  # on its last velocity
    assert motion < seen[29][2] / 2  # nothing is seen moving


def test_a_visitor_who_leaves_the_picture_is_gone_at_once() -> None:
    # Walking out on the right at 2 body heights/s: the blob is cut by the border, then
    # gone; the track goes with it, not `lost_s` later.
    tracker = Tracker(PerceptionConfig())
    count: list[int] = []
    for i in range(30):
        b = blob(200 + 80 * i / FPS, 120, 40)
        x, y, w, h = b.box
        right = min(x + w, 256)
        blobs = [Blob((x, y, right - x, h), ((x + right) / 2, y + h / 2), b.head,
                      (right - x) * h, b.inside[:, :right - x], 1, edge=right == 256)
                 ] if right > x else []
        count.append(len(tracker.update(blobs, i / FPS, (256, 144))))
        if not blobs:
            break
    assert count[-1] == 0 and count[-2] == 1


def test_two_visitors_who_walk_up_and_stop_side_by_side_stay_two() -> None:
    """Reviewed: their merged blob once let one track take it and the other coast away."""
    tracker = Tracker(PerceptionConfig())
    ids: set[int] = set()
    tracks: list = []
    for i in range(round(20 * FPS)):
        t = i / FPS
        # Two 40 px tall figures (20 wide) walk towards each other at 30 px/s and stop
        # with their centres 20 px apart: touching, one blob.
        left, right = min(40 + 30 * t, 100), max(200 - 30 * t, 120)
        if right - left > 20:
            blobs = [blob(left, 100, 40, 20), blob(right, 100, 40, 20)]
        else:
            blobs = [blob((left + right) / 2, 100, 40, round(right - left) + 20)]
        tracks = tracker.update(blobs, t, (256, 144))
        ids |= {tr.id for tr in tracks}
    assert len(tracks) == 2 and len(ids) == 2
    assert all(tr.speed < 0.2 for tr in tracks)  # standing: their velocity settled too
