"""`open_source`: every form `source.uri` accepts, and the one-line errors for the rest."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.capture import StillSource, VideoFileSource, open_source
from installation.capture.config import SourceConfig
from installation.errors import SourceError
from installation.models import ModelStore


def test_demo_forms(store: ModelStore) -> None:
    source = open_source(SourceConfig(uri="demo", demo_clip="carphone"), store)
    assert isinstance(source, VideoFileSource) and source.name == "demo:carphone"
    bunny = open_source(SourceConfig(uri="demo:bigbuckbunny"), store)
    assert isinstance(bunny, VideoFileSource) and bunny.name == "demo:bigbuckbunny"
    assert bunny.fps == pytest.approx(25.0)
    with pytest.raises(SourceError, match=r"no demo clip 'kittens'.*carphone, bikes"):
        open_source(SourceConfig(uri="demo:kittens"), store)


def test_files_by_extension(store: ModelStore, tmp_path: Path) -> None:
    clip = store.require("demo-carphone")
    source = open_source(SourceConfig(uri=str(clip)), store)
    assert isinstance(source, VideoFileSource) and source.name == "carphone.mp4"

    image = tmp_path / "Picture.JPG"
    assert cv2.imwrite(str(image), np.zeros((20, 30, 3), np.uint8))
    still = open_source(SourceConfig(uri=str(image), fps=12.0), store)
    assert isinstance(still, StillSource) and still.fps == 12.0


@pytest.mark.parametrize("uri", ["rtsp://camera/stream", "notes.txt", "webcam:front", "webcam"])
def test_unknown_forms_list_the_accepted_ones(store: ModelStore, uri: str) -> None:
    with pytest.raises(SourceError) as info:
        open_source(SourceConfig(uri=uri), store)
    message = str(info.value)
    assert "\n" not in message and repr(uri) in message
    assert "webcam:N" in message and "demo:CLIP" in message and "mp4" in message


def test_missing_file_is_named(store: ModelStore, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"gone\.mov not found"):
        open_source(SourceConfig(uri=str(tmp_path / "gone.mov")), store)
