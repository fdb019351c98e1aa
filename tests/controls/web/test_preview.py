"""The console's preview: encoded only while someone looks, a few times a second, small,
mirrored as shown, and forgotten when nobody looks."""

from __future__ import annotations

import cv2
import numpy as np

from installation.controls.web.preview import FPS, WATCHED_S, WIDTH, Preview, PreviewSink
from installation.display.sinks import Shown


class Clock:
    def __init__(self) -> None:
        self.t = 50.0

    def __call__(self) -> float:
        return self.t


def picture() -> np.ndarray:
    """Left half red, right half blue (RGB), 640x360."""
    rgb = np.zeros((360, 640, 3), np.uint8)
    rgb[:, :320, 0] = 255
    rgb[:, 320:, 2] = 255
    return rgb


def decoded(jpeg: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def test_nothing_is_encoded_while_nobody_looks() -> None:
    clock = Clock()
    preview = Preview(clock)
    sink = PreviewSink(preview)
    sink.send(Shown(picture(), t=1.0))
    assert preview.take() is None  # asking starts it ...
    sink.send(Shown(picture(), t=2.0))
    jpeg = preview.take()
    assert jpeg is not None
    small = decoded(jpeg)
    assert small.shape == (WIDTH * 360 // 640, WIDTH, 3)
    assert small[:, : WIDTH // 2 - 4, 0].mean() > 200 and small[:, WIDTH // 2 + 4:, 2].mean() > 200
    clock.t += WATCHED_S + 1  # ... and it stops, forgetting the room, when nobody asks
    sink.send(Shown(picture(), t=3.0))
    assert preview._jpeg is None


def test_a_few_a_second_mirrored_as_shown() -> None:
    clock = Clock()
    preview = Preview(clock)
    sink = PreviewSink(preview)
    preview.take()
    sink.send(Shown(picture(), t=10.0, mirror=True))
    first = preview.take()
    assert first is not None
    small = decoded(first)
    assert small[:, : WIDTH // 2 - 4, 2].mean() > 200  # blue on the left: mirrored
    sink.send(Shown(np.zeros((360, 640, 3), np.uint8), t=10.0 + 0.5 / FPS))
    assert preview.take() is first  # too soon: not encoded
    sink.send(Shown(np.zeros((360, 640, 3), np.uint8), t=10.0 + 1.0 / FPS))
    again = preview.take()
    assert again is not None and decoded(again).max() < 10
    sink.close()
    assert preview._jpeg is None
