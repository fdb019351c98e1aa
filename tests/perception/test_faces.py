"""Face detection (installation/perception/faces.py) on real photos: scikit-image's astronaut
and cameraman, its Labeled Faces in the Wild crops (100 faces, then 100 non-faces), and
stills without a face."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from installation.models import ModelStore
from installation.perception.faces import (
    KEYPOINTS,
    MODEL,
    FaceDetector,
    anchors,
    load_face_detector,
)

# Her head in the 512x512 astronaut photo (hair to chin, ear to ear), fractions; read off
# the picture.
HEAD = (0.29, 0.03, 0.60, 0.37)


def _rgb(grey: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.dstack([grey] * 3))


def test_anchors_follow_mediapipe() -> None:
    a = anchors()
    assert a.shape == (896, 2)
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])  # stride 8: 16x16 cells x 2
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[511], [15.5 / 16, 15.5 / 16])
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8])  # stride 16: 8x8 cells x 6
    np.testing.assert_allclose(a[518], [1.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(a[895], [7.5 / 8, 7.5 / 8])


def test_one_face_on_the_astronaut(detector: FaceDetector, photo: np.ndarray) -> None:
    faces = detector.detect(photo)
    assert len(faces) == 1
    face = faces[0]
    assert face.score > 0.8  # measured 0.92
    left, top, right, bottom = face.box
    assert HEAD[0] <= left < right <= HEAD[2] and HEAD[1] <= top < bottom <= HEAD[3]
    assert 0.12 < right - left < 0.3 and 0.12 < bottom - top < 0.3  # a face, not the head
    assert len(face.keypoints) == len(KEYPOINTS)
    points = dict(zip(KEYPOINTS, face.keypoints, strict=True))
    for name in ("right eye", "left eye", "nose tip", "mouth"):
        x, y = points[name]
        assert left < x < right and top < y < bottom, name
    # She faces the camera: her right eye is on the picture's left, the mouth below the eyes.
    assert points["right eye"][0] < points["nose tip"][0] < points["left eye"][0]
    assert points["mouth"][1] > max(points["right eye"][1], points["left eye"][1])


@pytest.mark.parametrize("rows, cols", [
    (slice(0, 300), slice(0, 512)),  # wide: letterboxed above and below
    (slice(0, 512), slice(100, 356)),  # tall: letterboxed left and right
    (slice(40, 240), slice(60, 460)),  # wide, off-centre
])
def test_boxes_map_back_through_the_letterbox(detector: FaceDetector, photo: np.ndarray,
                                              rows: slice, cols: slice) -> None:
    """A crop finds her face where the whole photo does, in the photo's pixels."""
    whole = np.array(detector.detect(photo)[0].box) * 512
    crop = np.ascontiguousarray(photo[rows, cols])
    faces = detector.detect(crop)
    assert len(faces) == 1
    h, w = crop.shape[:2]
    box = np.array(faces[0].box) * [w, h, w, h] + [cols.start, rows.start] * 2
    np.testing.assert_allclose(box, whole, atol=10)  # px of 512; measured within 6


def test_cameraman_has_one_face(detector: FaceDetector) -> None:
    faces = detector.detect(_rgb(data.camera()))
    assert len(faces) == 1
    left, top, right, bottom = faces[0].box
    # His face in profile, at the camera he looks through (read off the picture).
    assert 0.3 < left < right < 0.55 and 0.15 < top < bottom < 0.45


@pytest.mark.parametrize("name", ["coffee", "rocket", "chelsea", "hubble_deep_field", "brick"])
def test_no_face_where_there_is_none(detector: FaceDetector, name: str) -> None:
    picture = getattr(data, name)()
    if picture.ndim == 2:
        picture = _rgb(picture)
    assert detector.detect(np.ascontiguousarray(picture)) == []


def test_faces_in_the_wild(detector: FaceDetector) -> None:
    """LFW crops (25x25 grey) upsampled to 64x64: most faces found, few non-faces taken
    for one. Measured: 98 of 100 faces, 1 of 100 non-faces."""
    crops = data.lfw_subset()
    assert crops.shape == (200, 25, 25)
    found = []
    for crop in crops:
        big = cv2.resize((crop * 255).round().astype(np.uint8), (64, 64),
                         interpolation=cv2.INTER_CUBIC)
        found.append(len(detector.detect(_rgb(big))) > 0)
    faces, non_faces = sum(found[:100]), sum(found[100:])
    print(f"LFW: {faces}/100 faces found, {non_faces}/100 non-faces taken for faces")
    assert faces >= 90
    assert non_faces <= 5


def test_stricter_threshold_finds_less(store: ModelStore, photo: np.ndarray) -> None:
    strict = FaceDetector(store.require(MODEL), threads=1, min_score=0.99)
    assert strict.detect(photo) == []  # her face scores 0.92


@pytest.mark.parametrize("bad", [np.zeros((64, 64), np.uint8),
                                 np.zeros((64, 64, 3), np.float32)])
def test_refuses_what_is_not_an_rgb_picture(detector: FaceDetector, bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        detector.detect(bad)


def test_missing_network_is_one_line_not_an_exception(store: ModelStore,
                                                      tmp_path: Path) -> None:
    (tmp_path / "manifest.toml").write_bytes((store.root / "manifest.toml").read_bytes())
    det, why = load_face_detector(ModelStore(tmp_path), threads=2)
    assert det is None
    assert "missing" in why and "python main.py models pull" in why and "\n" not in why
