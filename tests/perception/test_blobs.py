"""From masks to blobs (installation/perception/blobs.py): a body broken into pieces is one
blob at any distance, two people stay two, the network's regions fuse in, and silhouettes
compare whatever their size. The silhouette is the astronaut's (`people_scenes.person`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from installation.perception import PerceptionConfig
from installation.perception.blobs import MOST_BLOBS, find_blobs, fuse, silhouette
from installation.tools import people_scenes as ps

SIZE = (256, 144)  # the analysis picture, (w, h) px


def figure(tall: int) -> np.ndarray:
    """Her silhouette `tall` px high, 0/1 uint8."""
    _, alpha = ps.person()
    h, w = alpha.shape
    small = cv2.resize(alpha, (max(1, round(w * tall / h)), tall), interpolation=cv2.INTER_AREA)
    return (small > 0.5).view(np.uint8)


def place(mask: np.ndarray, piece: np.ndarray, left: int, top: int) -> None:
    h, w = piece.shape
    np.maximum(mask[top:top + h, left:left + w], piece, out=mask[top:top + h, left:left + w])


def picture(*pieces: tuple[np.ndarray, int, int]) -> np.ndarray:
    mask = np.zeros(SIZE[::-1], np.uint8)
    for piece, left, top in pieces:
        place(mask, piece, left, top)
    return mask


def blobs_of(mask: np.ndarray, people: np.ndarray | None = None) -> list:
    return find_blobs(mask, people, PerceptionConfig())[0]


@pytest.mark.parametrize("tall", [14, 28, 56, 112])
def test_a_body_in_pieces_is_one_blob_at_any_distance(tall: int) -> None:
    # A band across her waist the colour of the room (a tenth of her height) and a gap
    # between her body and her arm (a twentieth): three pieces, one visitor.
    body = figure(tall)
    band = slice(round(0.55 * tall), round(0.65 * tall))
    body[band] = 0
    w = body.shape[1]
    arm = body[:, round(0.8 * w):].copy()
    body[:, round(0.8 * w):] = 0
    gap = max(1, round(0.05 * tall))
    mask = picture((body, 60, 130 - tall), (arm, 60 + round(0.8 * w) + gap, 130 - tall))
    pieces = cv2.connectedComponents(mask)[0] - 1
    assert pieces >= 3
    found = blobs_of(fuse(mask, None, PerceptionConfig())[0])
    assert len(found) == 1
    _, y, _, bh = found[0].box
    assert bh == pytest.approx(tall, abs=2) and y == pytest.approx(130 - tall, abs=1)


@pytest.mark.parametrize("tall", [14, 56])
def test_two_people_side_by_side_stay_two(tall: int) -> None:
    body = figure(tall)
    w = body.shape[1]
    gap = max(2, round(0.2 * tall))
    mask = picture((body, 40, 130 - tall), (body, 40 + w + gap, 130 - tall))
    assert len(blobs_of(mask)) == 2


def test_a_speck_between_two_people_does_not_join_them() -> None:
    body = figure(40)
    w = body.shape[1]
    speck = np.ones((3, 3), np.uint8)
    mask = picture((body, 40, 90), (body, 40 + w + 8, 90), (speck, 40 + w + 3, 110))
    assert len(blobs_of(mask)) == 2


def test_a_far_one_above_a_near_one_stays_apart_when_not_close() -> None:
    near, far = figure(60), figure(16)
    mask = picture((near, 60, 80), (far, 70, 80 - 16 - 25))  # 25 px above her head
    assert len(blobs_of(mask)) == 2


def test_smaller_than_the_least_visitor_is_nothing() -> None:
    cfg = PerceptionConfig()
    least = round(cfg.min_height * SIZE[1])
    mask = picture((figure(least - 1), 30, 50), (figure(least + 2), 120, 50))
    found = blobs_of(mask)
    assert len(found) == 1 and found[0].box[3] == least + 2


def test_head_and_edge() -> None:
    mask = picture((figure(60), 100, 60), (figure(30), 0, 100))
    inside, cut = sorted(blobs_of(mask), key=lambda b: -b.box[3])
    x, y, w, h = inside.box
    assert y <= inside.head[1] <= y + 0.2 * h  # her head is at the top of her box
    assert x + 0.25 * w <= inside.head[0] <= x + 0.75 * w
    assert not inside.edge and cut.edge


def test_the_networks_big_regions_fuse_in_and_mark_a_person() -> None:
    cfg = PerceptionConfig()
    fg = np.zeros(SIZE[::-1], np.uint8)
    person = np.zeros(SIZE[::-1], np.float32)
    person[20:140, 100:170] = 0.9  # a near visitor only the network sees
    person[10:14, 10:14] = 0.9  # a small find: not believed (`person_min_share`)
    fg[60:100, 20:40] = 1  # a walker only background subtraction sees
    mask, people = fuse(fg, person, cfg)
    assert people is not None and people[10:14, 10:14].max() == 0
    found = sorted(blobs_of(mask, people), key=lambda b: b.box[0])
    assert [b.person for b in found] == [False, True]
    assert found[1].box == (100, 20, 70, 120)
    assert fuse(fg, np.zeros_like(person), cfg)[1] is None


def test_silhouettes_compare_whatever_the_size() -> None:
    def canvas(tall: int) -> np.ndarray:
        (blob,) = blobs_of(picture((figure(tall), 40, 130 - tall)))
        return silhouette(blob, tall)

    big, small = canvas(112), canvas(16)
    changed = np.abs(big - small).sum() / big.sum()
    assert changed < 0.15  # the same shape: a few pixels of outline
    turned = cv2.resize(figure(112), None, fx=0.5, fy=1.0, interpolation=cv2.INTER_AREA)
    (blob,) = blobs_of(picture((turned, 40, 18)))
    assert np.abs(silhouette(blob, 112) - big).sum() / big.sum() > 0.4  # seen side on


def test_a_frame_of_noise_hands_the_tracker_the_tallest_candidates_only() -> None:
    """Hundreds of specks (a flicker, a shaking mount) cost the tracker a bounded list."""
    mask = np.zeros((144, 256), np.uint8)
    rng = np.random.default_rng(3)
    for _ in range(400):  # separate 1-px-wide strokes, 8 to 20 px tall
        x, y, h = int(rng.integers(0, 254)), int(rng.integers(0, 120)), int(rng.integers(8, 21))
        mask[y:y + h, x] = 1
    mask[20:120, 100:104] = 1  # and one person-sized region, 100 px tall
    blobs, _ = find_blobs(mask, None, PerceptionConfig())
    assert len(blobs) == MOST_BLOBS
    assert max(b.height for b in blobs) >= 100  # the tallest is among them
    heights = [b.height for b in blobs]
    assert heights == sorted(heights, reverse=True)
