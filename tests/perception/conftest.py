"""The person and face networks for the perception tests, loaded once from the pulled
models (`make test` pulls them first: a missing one fails, it is not skipped)."""

from __future__ import annotations

import pytest

from installation.models import ModelStore
from installation.perception import PerceptionConfig
from installation.perception.faces import FaceDetector, load_face_detector
from installation.perception.networks import Networks, load_networks
from installation.perception.segmentation import Segmenter, load_segmenter


@pytest.fixture(scope="session")
def segmenter(store: ModelStore) -> Segmenter:
    seg, why = load_segmenter(store, threads=2)
    assert seg is not None and why == "", why
    return seg


@pytest.fixture(scope="session")
def detector(store: ModelStore) -> FaceDetector:
    det, why = load_face_detector(store, threads=2)
    assert det is not None and why == "", why
    return det


@pytest.fixture(scope="session")
def networks(store: ModelStore) -> Networks:
    """Both networks as the stage loads them (one thread each, the stage's face score)."""
    nets = load_networks(PerceptionConfig(), store)
    assert nets.segmenter is not None and nets.faces is not None, nets.missing
    return nets
