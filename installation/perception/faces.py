"""Face detection: MediaPipe's BlazeFace short-range network, run by the TFLite runtime.

    camera picture (H x W RGB uint8, any size)
      -> letterboxed into 128x128 (scaled to fit, black bars), RGB in [-1, 1]
      -> BlazeFace short-range (TFLite): 896 anchors x (box + 6 keypoints), 896 scores
      -> decoded against the anchors, scores > min_score, weighted non-max suppression
      -> faces: boxes and keypoints as fractions of the picture

The network is the one in `mediapipe==0.10.21` (see shared/MODELS.md), made for faces
within about two metres of the camera: a face smaller than about a tenth of the letterboxed
picture is missed. Anchors and decoding follow MediaPipe's face detection short-range graph
(`SsdAnchorsCalculator`, `TensorsToDetectionsCalculator`, `NonMaxSuppressionCalculator`).

Not thread-safe (one TFLite interpreter): one `FaceDetector` per thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.errors import ModelError
from installation.models import ModelStore
from installation.perception.segmentation import create_interpreter

MODEL = "face-short-range"  # name in models/manifest.toml
SIZE_PX = 128  # the network's square input
# The six keypoints, in the network's order. Right and left are the person's own: on a face
# turned to the camera, the "right eye" is on the picture's left.
KEYPOINTS = ("right eye", "left eye", "nose tip", "mouth", "right ear", "left ear")
MIN_SCORE = 0.5  # MediaPipe's threshold for this graph
NMS_IOU = 0.3  # boxes overlapping more than this are one face


@dataclass(frozen=True)
class Face:
    """One face. `box`: (left, top, right, bottom), fractions of the picture's width and
    height, clipped to it; `score`: the network's confidence, 0..1; `keypoints`: the six
    points of `KEYPOINTS` as (x, y) fractions of the picture (not clipped: an ear may lie
    outside it)."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...]


def anchors() -> np.ndarray:
    """The 896 anchor centres (x, y), fractions of the 128x128 input, in the network's
    output order.

    MediaPipe's `SsdAnchorsCalculator` for the short-range graph (4 layers, strides 8, 16,
    16, 16, offset 0.5, one aspect ratio plus the interpolated one, fixed anchor size):
    consecutive layers with the same stride share a grid, so the stride-8 grid (16x16) has
    2 anchors per cell and the stride-16 grid (8x8) 3 x 2 = 6; every anchor is 1 x 1.
    """
    out = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = SIZE_PX // stride
        centre = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        x, y = np.meshgrid(centre, centre)  # row by row, as the calculator walks the grid
        grid = np.stack([x.ravel(), y.ravel()], axis=1)
        out.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(out)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one (left, top, right, bottom) box with N others."""
    left = np.maximum(box[0], others[:, 0])
    top = np.maximum(box[1], others[:, 1])
    right = np.minimum(box[2], others[:, 2])
    bottom = np.minimum(box[3], others[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray,
                 iou: float = NMS_IOU) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's weighted non-max suppression: the best remaining candidate and every
    other one overlapping it by more than `iou` form one face, whose box and keypoints are
    their score-weighted mean (steadier than keeping the best alone) and whose score is
    the best one. `boxes` N x 4, `points` N x 12, `scores` N; best first."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    faces = []
    remaining = np.ones(len(scores), bool)
    while remaining.any():
        best = int(np.argmax(remaining))  # sorted: the first one remaining is the best
        group = remaining & (_iou(boxes[best], boxes) > iou)
        group[best] = True
        w = scores[group] / scores[group].sum()
        faces.append((w @ boxes[group], w @ points[group], float(scores[best])))
        remaining &= ~group
    return faces


class FaceDetector:
    """Faces in a picture with BlazeFace short-range (the .tflite file at `path`).

    `threads`: CPU threads (0 = all cores); `min_score`: the confidence a face needs
    (0..1). Not thread-safe: one per thread.
    """

    def __init__(self, path: Path, threads: int, min_score: float = MIN_SCORE) -> None:
        self._interpreter = create_interpreter(path, threads)
        inp = self._interpreter.get_input_details()[0]
        outs = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        if tuple(inp["shape"]) != (1, SIZE_PX, SIZE_PX, 3) \
                or {(1, 896, 16), (1, 896, 1)} - outs.keys():
            raise ModelError(f"model {path} is not BlazeFace short-range (input "
                             f"{inp['shape']}, outputs {sorted(outs)})")
        self._input = inp["index"]
        self._regressors, self._scores = outs[(1, 896, 16)], outs[(1, 896, 1)]
        self.min_score = min_score
        self._anchors = anchors()
        self._square = np.zeros((SIZE_PX, SIZE_PX, 3), np.uint8)  # the letterboxed picture
        self._tensor = np.empty((1, SIZE_PX, SIZE_PX, 3), np.float32)  # RGB in [-1, 1]

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """The faces in `rgb` (H x W x 3 uint8 RGB, any size), most confident first."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
            raise ValueError(f"expected an H x W x 3 uint8 RGB picture, got shape {rgb.shape} "
                             f"{rgb.dtype}")
        height, width = rgb.shape[:2]

        # Letterbox: scale the longer side to 128 px, centre, black bars (the network was
        # trained on undistorted faces; stretching a wide frame squashes them).
        scale = SIZE_PX / max(width, height)
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        x0, y0 = (SIZE_PX - w) // 2, (SIZE_PX - h) // 2
        self._square[:] = 0
        self._square[y0:y0 + h, x0:x0 + w] = cv2.resize(rgb, (w, h),
                                                        interpolation=cv2.INTER_AREA)
        np.multiply(self._square, np.float32(2 / 255), out=self._tensor[0])
        self._tensor -= 1
        self._interpreter.set_tensor(self._input, self._tensor)
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._regressors)[0]  # 896 x 16, pixels of 128
        logits = self._interpreter.get_tensor(self._scores)[0, :, 0]

        # Scores, then decode only the candidates (x, y offsets from the anchor centre,
        # then w, h, then six keypoint offsets; all in input pixels).
        scores = 1 / (1 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
        keep = scores > self.min_score
        if not keep.any():
            return []
        raw, scores, anchor = raw[keep] / SIZE_PX, scores[keep], self._anchors[keep]
        centre = raw[:, 0:2] + anchor
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        points = raw[:, 4:16] + np.tile(anchor, 6)

        # Back from the letterboxed square to fractions of the picture.
        offset = np.array([x0 / SIZE_PX, y0 / SIZE_PX], np.float32)
        size = np.array([w / SIZE_PX, h / SIZE_PX], np.float32)
        boxes = (boxes - np.tile(offset, 2)) / np.tile(size, 2)
        points = (points - np.tile(offset, 6)) / np.tile(size, 6)
        faces = []
        for box, pts, score in weighted_nms(boxes, points, scores):
            left, top, right, bottom = (float(v) for v in np.clip(box, 0.0, 1.0))
            kp = tuple((float(pts[2 * i]), float(pts[2 * i + 1])) for i in range(6))
            faces.append(Face((left, top, right, bottom), score, kp))
        return faces


def load_face_detector(store: ModelStore, threads: int) -> tuple[FaceDetector | None, str]:
    """The face detector, and "" — or None and one line saying why (not pulled, altered,
    or the runtime's own error). Never raises for a missing or broken model file.

    `threads`: CPU threads for the interpreter (0 = all cores).
    """
    try:
        return FaceDetector(store.require(MODEL), threads), ""
    except ModelError as exc:
        return None, f"face detection off: {exc}"
