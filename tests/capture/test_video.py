"""Video files: real decoding of the demo clips, looping, damaged files, replay."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from installation.capture import ReplaySource, VideoFileSource, decode_frames
from installation.capture.video import file_fps
from installation.errors import SourceError
from installation.models import ModelStore

Until = Callable[..., bool]


@pytest.fixture(scope="module")
def carphone(store: ModelStore) -> Path:
    return store.require("demo-carphone")  # 176x144, 120 frames, 29.97 frames/s


def faststart_copy(src: Path, out: Path) -> Path:
    """The clip remuxed with its index first, as a recording cut off mid-write would be."""
    with av.open(str(src)) as inp, av.open(str(out), "w", options={"movflags": "faststart"}) as o:
        stream = inp.streams.video[0]
        ostream = o.add_stream_from_template(stream)
        for packet in inp.demux(stream):
            if packet.dts is None:  # the flush packet at the end
                continue
            packet.stream = ostream
            o.mux(packet)
    return out


def video_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "installation.capture.video" and r.levelno >= logging.WARNING]


def test_demo_clip_decodes_to_rgb(carphone: Path) -> None:
    source = VideoFileSource(carphone, name="demo:carphone")
    source.start()
    try:
        _, frame = source.read(timeout=10)
    finally:
        source.stop()
    assert frame is not None
    assert frame.image.shape == (144, 176, 3) and frame.image.dtype == np.uint8
    ok, bgr = cv2.VideoCapture(str(carphone)).read()  # an independent decoder, BGR
    assert ok
    assert np.abs(frame.image.astype(int) - bgr[..., ::-1]).mean() < 2.0
    assert source.name == "demo:carphone" and source.status == "playing"
    assert file_fps(carphone) == pytest.approx(30000 / 1001)


def test_loops_forever(carphone: Path, until: Until) -> None:
    source = VideoFileSource(carphone, fps=1000.0)
    source.start()
    try:
        assert until(lambda: source.loops >= 2)
        assert source.frames >= 2 * 120
        assert source.status == "playing"
    finally:
        source.stop()


def test_truncated_file_keeps_going(carphone: Path, tmp_path: Path, until: Until,
                                    caplog: pytest.LogCaptureFixture) -> None:
    whole = faststart_copy(carphone, tmp_path / "whole.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    source = VideoFileSource(cut, fps=1000.0)
    source.start()
    try:
        assert until(lambda: source.loops >= 3)
        assert source.frames > 0 and source.status == "playing"
    finally:
        source.stop()
    assert len(video_warnings(caplog)) <= 1  # at most one line, however often it loops


def test_damaged_file_warns_once_and_loops(carphone: Path, tmp_path: Path, until: Until,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="installation.capture")
    data = bytearray(faststart_copy(carphone, tmp_path / "whole.mp4").read_bytes())
    third = len(data) // 3
    data[third : third + 20_000] = bytes(20_000)  # a zeroed stretch: the decoder errors out
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    source = VideoFileSource(damaged, fps=1000.0)
    source.start()
    try:
        assert until(lambda: source.loops >= 3)
        assert source.status == "playing"
    finally:
        source.stop()
    warnings = video_warnings(caplog)
    assert len(warnings) == 1 and "looping back" in warnings[0]


def put(path: Path, data: bytes) -> None:
    """`data` as `path` at once (the source retrying every few ms never opens it half
    written, which would be a second failure)."""
    part = path.with_suffix(".part")
    part.write_bytes(data)
    part.replace(path)


def test_file_without_pictures_is_retried_with_backoff(carphone: Path, tmp_path: Path,
                                                      until: Until,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="installation.capture")
    whole = faststart_copy(carphone, tmp_path / "whole.mp4").read_bytes()
    mdat = whole.index(b"mdat") + 4
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(whole[:mdat])  # the index survives, the pictures do not
    source = VideoFileSource(empty, reconnect_min_s=0.01, reconnect_max_s=0.04)
    source.start()
    try:
        assert until(lambda: source.status == "reconnecting")
        assert source._thread is not None and source._thread.is_alive()
        assert source.frames == 0
        put(empty, whole)  # repaired: it plays again
        assert until(lambda: source.status == "playing" and source.frames > 0)
        assert source.reconnects == 1
    finally:
        source.stop()
    warnings = video_warnings(caplog)
    assert len(warnings) == 1 and str(empty) in warnings[0] and "retrying" in warnings[0]


def test_a_file_that_vanishes_and_comes_back_plays_again(carphone: Path, tmp_path: Path,
                                                        until: Until) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(carphone.read_bytes())
    source = VideoFileSource(clip, fps=1000.0, reconnect_min_s=0.01, reconnect_max_s=0.05)
    source.start()
    try:
        assert until(lambda: source.frames > 0)
        clip.unlink()
        assert until(lambda: source.status == "reconnecting")
        frames = source.frames
        put(clip, carphone.read_bytes())
        assert until(lambda: source.status == "playing" and source.frames > frames)
        assert source.reconnects == 1
    finally:
        source.stop()
    with pytest.raises(ValueError):
        VideoFileSource(carphone, reconnect_min_s=2.0, reconnect_max_s=1.0)


def test_unopenable_files_are_source_errors(carphone: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SourceError, match=r"nope\.mp4.*not found"):
        VideoFileSource(missing)
    # The demo clips keep their index at the end: half of one cannot even be opened.
    half = tmp_path / "half.mp4"
    data = carphone.read_bytes()
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"half\.mp4 cannot be opened"):
        VideoFileSource(half)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    with pytest.raises(SourceError, match=r"notes\.mp4"):
        VideoFileSource(text)
    with pytest.raises(SourceError, match=r"nope\.mp4"):
        decode_frames(missing, 3)


def test_decode_frames_loops_and_resizes(store: ModelStore) -> None:
    bikes = store.require("demo-bikes")  # 640x272, 250 frames
    frames = decode_frames(bikes, 300, size=(160, 68))
    assert len(frames) == 300
    assert all(f.shape == (68, 160, 3) and f.dtype == np.uint8 for f in frames)
    assert frames[250] is frames[0]  # a shorter clip repeats from its start
    native = decode_frames(bikes, 2)
    assert [f.shape for f in native] == [(272, 640, 3)] * 2
    assert not np.array_equal(native[0], native[1])
    assert decode_frames(bikes, 0) == []


def test_replay_source_cycles_with_fresh_stamps(until: Until) -> None:
    pictures = [np.full((8, 8, 3), i, np.uint8) for i in range(3)]
    source = ReplaySource(pictures, fps=200.0)
    before = time.monotonic()
    source.start()
    count = 0
    version = 0
    try:
        while count < 7:
            version, frame = source.read(after=version, timeout=10)
            assert frame is not None
            assert before <= frame.t_capture <= time.monotonic()
            # The n-th emit (seq n) is picture (n - 1) mod 3, whichever ones a reader skips.
            index = (frame.seq - 1) % 3
            assert frame.image[0, 0, 0] == index
            assert frame.image is not pictures[index]  # a copy each time
            count += 1
    finally:
        source.stop()
    assert source.frames >= 7 and source.status == "playing"


def test_replay_source_can_end(until: Until) -> None:
    pictures = [np.zeros((4, 4, 3), np.uint8)] * 3
    source = ReplaySource(pictures, fps=500.0, loop=False)
    source.start()
    try:
        assert until(lambda: source.status == "ended")
        assert source.frames == 3
    finally:
        source.stop()
    with pytest.raises(ValueError):
        ReplaySource([], fps=10.0)
    with pytest.raises(ValueError):
        ReplaySource(pictures, fps=0.0)
