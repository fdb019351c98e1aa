"""Picture geometry: resize with an aspect crop, cover, square crop, longer side, letterbox
and fill placement, resizing into a buffer; reading and writing picture files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.errors import UserError
from installation.pictures import (
    Placement,
    cover,
    fit_longer_side,
    place,
    read_picture,
    resize_into,
    resize_to,
    square_crop,
    write_picture,
)

# -- resize_to ------------------------------------------------------------------------------


def test_resize_picks_area_when_shrinking_linear_when_enlarging(photo: np.ndarray) -> None:
    small = resize_to(photo, (100, 100))
    area = cv2.resize(photo, (100, 100), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(small, area)
    big = resize_to(small, (130, 130))
    linear = cv2.resize(small, (130, 130), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(big, linear)
    assert resize_to(small, (100, 100)) is small


def test_resize_crops_to_the_target_aspect_instead_of_squashing() -> None:
    wide = np.zeros((100, 400, 3), np.uint8)
    wide[:, 150:250] = 255  # a white centre band, 100 px of 400
    out = resize_to(wide, (64, 36))  # 16:9 from 4:1: the sides go, the band keeps its width
    crop_w = round(100 * 64 / 36)
    band = 100 * 64 / crop_w  # the band's width after scaling, px
    white = (out[18, :, 0] > 128).sum()
    assert out.shape == (36, 64, 3) and abs(white - band) <= 2
    tall = resize_to(np.zeros((400, 100, 3), np.uint8), (50, 50))
    assert tall.shape == (50, 50, 3)


def test_resize_of_a_grey_picture_keeps_it_grey(photo: np.ndarray) -> None:
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    assert resize_to(grey, (64, 36)).shape == (36, 64)


# -- cover -----------------------------------------------------------------------------------


def test_cover_scales_then_crops_the_centre() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    img[:, 32:] = 255  # right half white
    out = cover(img, (160, 90))  # 64 → 160 wide, then 160 → 90 high: top and bottom go
    assert out.shape == (90, 160, 3)
    np.testing.assert_array_equal(
        out, cv2.resize(img, (160, 160), interpolation=cv2.INTER_CUBIC)[35:125])
    tall = cover(np.zeros((400, 100, 3), np.uint8), (50, 50))  # shrinking: INTER_AREA
    assert tall.shape == (50, 50, 3)


# -- crops and sizes -------------------------------------------------------------------------


def test_square_crop_is_the_centred_square_view() -> None:
    img = np.arange(6 * 10).reshape(6, 10)
    sq = square_crop(img)
    assert sq.shape == (6, 6) and sq[0, 0] == 2 and np.shares_memory(sq, img)
    assert square_crop(img.T).shape == (6, 6) and square_crop(img.T)[0, 0] == img.T[2, 0]


def test_fit_longer_side_rounds_each_side() -> None:
    assert fit_longer_side((640, 480), 384) == (384, 288)
    assert fit_longer_side((480, 640), 384) == (288, 384)
    assert fit_longer_side((1920, 1080), 100) == (100, 56)  # 56.25 → 56
    assert fit_longer_side((2816, 55), 384) == (384, 8)  # exactly 7.5: half to even
    assert fit_longer_side((4000, 1), 10) == (10, 1)  # never below 1 px


def test_place_fit_pillarbox_and_letterbox() -> None:
    # 4:3 into 16:9: full height, bars left and right.
    assert place((400, 300), (1600, 900), "fit") == Placement((0, 0, 400, 300), (200, 0, 1200, 900))
    # 16:9 into 4:3: full width, bars top and bottom.
    assert place((1600, 900), (400, 300), "fit") == Placement((0, 0, 1600, 900), (0, 37, 400, 225))


def test_place_fill_crops_the_centre() -> None:
    # 4:3 into 16:9: full width, top and bottom of the picture cropped equally.
    assert place((400, 300), (1600, 900), "fill") == Placement((0, 37, 400, 225), (0, 0, 1600, 900))
    # 16:9 into 4:3: full height, sides cropped.
    expected = Placement((200, 0, 1200, 900), (0, 0, 400, 300))
    assert place((1600, 900), (400, 300), "fill") == expected


def test_place_same_aspect_is_whole_in_both_modes() -> None:
    for mode in ("fit", "fill"):
        whole = Placement((0, 0, 320, 180), (0, 0, 1280, 720))
        assert place((320, 180), (1280, 720), mode) == whole


def test_place_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="fit mode 'stretch' is not one of fit, fill"):
        place((4, 3), (16, 9), "stretch")  # type: ignore[arg-type]


def test_resize_into_writes_the_view_in_place(photo: np.ndarray) -> None:
    buf = np.zeros((100, 200, 3), np.uint8)
    view = buf[10:90, 20:120]
    resize_into(photo, view)  # 512 → 100x80: shrinking, INTER_AREA
    np.testing.assert_array_equal(
        view, cv2.resize(photo, (100, 80), interpolation=cv2.INTER_AREA))
    assert not buf[:10].any() and not buf[:, 120:].any()  # nothing outside the view
    small = photo[:50, :60]
    resize_into(small, view)  # enlarging: INTER_LINEAR
    np.testing.assert_array_equal(
        view, cv2.resize(small, (100, 80), interpolation=cv2.INTER_LINEAR))
    same = np.empty_like(small)
    resize_into(small, same)  # same size: a copy
    np.testing.assert_array_equal(same, small)


# -- reading and writing ---------------------------------------------------------------------


def test_written_picture_reads_back_as_rgb(photo: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    write_picture(path, photo)
    np.testing.assert_array_equal(read_picture(path), photo)


def test_unreadable_picture_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"picture .*nope\.png not found"):
        read_picture(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    with pytest.raises(UserError, match="cannot be read as an image"):
        read_picture(bad)
