"""Recorder: real H.264 encoding, decoded back with PyAV; the file's length follows show time,
each picture lasting until the next one's slot."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import pytest

from installation.display.recorder import Recorded, Recorder, recorded
from installation.errors import UserError


def colour(i: int, w: int = 64, h: int = 48) -> np.ndarray:
    """Picture `i`: a flat grey level that changes with i (easy to find after decoding)."""
    return np.full((h, w, 3), (i * 37) % 200 + 30, np.uint8)


def decode(path: Path, fps: float) -> tuple[str, list[np.ndarray]]:
    """The codec and the picture on screen in each 1/fps slot of the file (a picture lasts
    until the next one's time; the last lasts one slot)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        timed = [(round(float(f.pts * f.time_base) * fps), f.to_ndarray(format="rgb24"))
                 for f in container.decode(stream)]
        codec = stream.codec_context.name
    slots = []
    for (slot, picture), (after, _) in zip(timed, [*timed[1:], (timed[-1][0] + 1, None)],
                                           strict=True):
        assert after > slot  # pictures in time order, one per slot at most
        slots += [picture] * (after - slot)
    return codec, slots


def test_writes_h264_that_keeps_real_time(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "show.mp4"  # the folder is created
    fps = 10.0
    # Pictures at 25/s for 1 s (faster than fps: some dropped), a 0.5 s stall (the last
    # picture repeats), then 4/s for 1 s (slower than fps: repeats fill the gaps).
    times = [i / 25 for i in range(25)] + [1.5 + i / 4 for i in range(5)]
    with Recorder(path, (96, 54), fps=fps, crf=30) as rec:
        for i, t in enumerate(times):
            rec.write(colour(i), 100.0 + t)  # show times are monotonic clock readings
    expected = math.floor((times[-1] - times[0]) * fps + 1e-6) + 1
    assert rec.frames_written == expected == 26

    codec, frames = decode(path, fps)
    assert codec == "h264"
    assert len(frames) == expected
    assert frames[0].shape == (54, 96, 3)
    # Repeats cost no encoding: one picture per slot while they came faster than fps, one
    # per picture after the stall (10 + 1 + 5).
    assert rec.pictures_written == 16
    assert recorded(path, fps) == Recorded(16, expected)


def test_frames_show_the_picture_of_their_time(tmp_path: Path) -> None:
    path = tmp_path / "timing.mp4"
    levels = [40, 120, 200]
    with Recorder(path, (32, 32), fps=4.0, crf=0) as rec:
        rec.write(np.full((32, 32, 3), levels[0], np.uint8), 0.0)  # frame 0
        rec.write(np.full((32, 32, 3), 90, np.uint8), 0.1)  # before frame 1 is due: held
        rec.write(np.full((32, 32, 3), levels[1], np.uint8), 0.2)  # still early: replaces it
        rec.write(np.full((32, 32, 3), levels[2], np.uint8), 1.0)  # frames 1..3 gap, 4 new
    _, frames = decode(path, 4.0)
    means = [round(float(f.mean())) for f in frames]
    assert len(means) == 5
    assert abs(means[0] - 40) <= 3
    assert all(abs(m - 120) <= 3 for m in means[1:4])  # the newest held picture fills the gap
    assert abs(means[4] - 200) <= 3


def test_pictures_are_fitted_not_cropped_and_sides_even(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    with Recorder(path, (101, 51), fps=5.0, crf=10) as rec:
        assert rec.size == (100, 50)
        for i in range(3):
            rec.write(np.full((50, 50, 3), 255, np.uint8), i / 5)  # square into 2:1
    _, frames = decode(path, 5.0)
    assert len(frames) == 3
    frame = frames[-1]
    assert frame.shape == (50, 100, 3)
    assert frame[:, :20].max() < 30 and frame[:, 80:].max() < 30  # black bars
    assert frame[:, 30:70].min() > 220  # the whole picture in the middle


def test_long_gap_is_shortened(tmp_path: Path) -> None:
    with Recorder(tmp_path / "gap.mp4", (32, 32), fps=10.0, max_gap_s=1.0) as rec:
        rec.write(colour(0, 32, 32), 0.0)
        rec.write(colour(1, 32, 32), 3600.0)  # the machine slept for an hour
        assert rec.frames_written == 1 + 10 + 1
        rec.write(colour(2, 32, 32), 3600.25)  # time after the gap still counts normally
        assert rec.frames_written == 1 + 10 + 1 + 2


def test_close_twice_and_write_after_close(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "twice.mp4", (32, 32), fps=5.0)
    rec.write(colour(0, 32, 32), 0.0)
    rec.close()
    rec.close()
    with pytest.raises(RuntimeError):
        rec.write(colour(1, 32, 32), 1.0)
    _, frames = decode(tmp_path / "twice.mp4", 5.0)
    assert len(frames) == 1


def test_close_without_frames(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "empty.mp4", (32, 32), fps=5.0)
    rec.close()
    assert rec.frames_written == 0


def test_unwritable_path_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "rec" / "show.mp4"
    with pytest.raises(UserError, match=str(target)):
        Recorder(target, (32, 32), fps=5.0)
    with pytest.raises(UserError, match=str(tmp_path)):
        Recorder(tmp_path, (32, 32), fps=5.0)  # a folder, not a file
