"""A still image as a source: the same picture at a steady rate, each with a fresh stamp."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from installation.capture.base import Source
from installation.capture.pacing import Pacer
from installation.errors import SourceError


def load_image(path: Path, max_size: tuple[int, int] | None = None) -> np.ndarray:
    """An image file as RGB uint8, shrunk (INTER_AREA) to fit `max_size` (width, height) px.

    SourceError (one line) when the file is missing or not an image OpenCV can read.
    """
    if not path.is_file():
        raise SourceError(f"image file {path} not found: check the path in source.uri")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SourceError(
            f"image file {path} cannot be read: save it as PNG or JPEG, or pick another "
            "source.uri"
        )
    if max_size is not None:
        h, w = bgr.shape[:2]
        scale = min(max_size[0] / w, max_size[1] / h)
        if scale < 1.0:  # never enlarge: the effects resize to their own size anyway
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class StillSource(Source):
    """Emits one picture `fps` times a second, stamped at each emit so latency stays real.

    The picture is loaded (and checked) in the constructor. Each emit is a fresh copy, as
    a camera gives a new buffer, so a stage that writes into its input cannot spoil it.
    """

    kind = "still"

    def __init__(
        self,
        path: Path,
        fps: float = 30.0,
        name: str | None = None,
        max_size: tuple[int, int] | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        super().__init__(name or path.name)
        self.path = path
        self.fps = fps
        self.image = load_image(path, max_size)

    def _run(self) -> None:
        self.status = "still"
        pacer = Pacer(self.fps)
        while not self._stop.wait(pacer.delay()):
            self._emit(self.image.copy())
