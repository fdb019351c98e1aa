"""The perception stage's pretrained networks, loaded together: the person segmentation
network and the face detector (TFLite, pulled from the mediapipe wheel by `models pull`).
Either may be missing or broken: the stage then runs without it and says why once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from installation.models import ModelStore
from installation.perception.analyzer import PersonNetwork
from installation.perception.config import PerceptionConfig
from installation.perception.faces import FaceDetector, load_face_detector
from installation.perception.heads import FaceBoxes
from installation.perception.segmentation import load_segmenter

THREADS = 1  # per network: perception shares two cores with the effect and the GAN
# The confidence a face needs here: above MediaPipe's 0.5, since a face is what makes the
# person network's find a person (a cat's face scores up to ~0.45-0.55 in head crops; the
# astronaut's 0.94; the faces of scikit-image's LFW crops mostly above 0.8).
FACE_SCORE = 0.75


class _Boxes:
    """A face detector seen as the analyser wants it: boxes only."""

    def __init__(self, detector: FaceDetector) -> None:
        self.detector = detector

    def boxes(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        return [face.box for face in self.detector.detect(rgb)]


@dataclass(frozen=True)
class Networks:
    segmenter: PersonNetwork | None
    faces: FaceBoxes | None
    missing: str  # why the person network is not there ("" when it is)


def load_networks(cfg: PerceptionConfig, store: ModelStore) -> Networks:
    """The networks `cfg` asks for that load; never raises for a missing or broken file."""
    segmenter, missing = None, "person network off ([perception] segmentation = false)"
    if cfg.segmentation:
        segmenter, missing = load_segmenter(store, THREADS)
    faces = None
    if cfg.faces:
        detector, _ = load_face_detector(store, THREADS)
        if detector is not None:
            detector.min_score = FACE_SCORE
        faces = None if detector is None else _Boxes(detector)
    return Networks(segmenter, faces, "" if segmenter is not None else missing)
