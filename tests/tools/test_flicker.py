"""The flicker measures on synthetic clips with known answers, and the command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.tools.flicker import (
    carried,
    ghosting,
    ghosting_error,
    one_frame_late,
    reference,
    still_frames,
    warping_error,
)

W, H = 128, 80


@pytest.fixture(scope="module")
def pan(photo: np.ndarray) -> list[np.ndarray]:
    """Eight frames of a pan, 2 px a frame to the right."""
    big = cv2.resize(photo, (W + 40, H + 20), interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(big[10:10 + H, 20 - 2 * i:20 - 2 * i + W]) for i in range(8)]


def test_outputs_that_move_with_the_picture_do_not_flicker(pan: list[np.ndarray]) -> None:
    pairs = reference(pan)
    assert all(p is not None and p.seen.mean() > 0.9 for p in pairs)
    assert all(p.moving.mean() > 0.9 for p in pairs if p is not None)
    assert warping_error(pan, pairs) < 2.0  # the frames themselves: the flow carries them
    rng = np.random.default_rng(0)
    rerolled = [np.clip(f + rng.normal(0, 10, f.shape), 0, 255).astype(np.uint8) for f in pan]
    assert warping_error(rerolled, pairs) > 8.0  # fresh noise every frame: flicker


def test_ghosting_is_the_distance_from_the_plain_output(pan: list[np.ndarray]) -> None:
    pairs = reference(pan)
    assert ghosting_error(pan, pan, pairs) == 0.0
    late = one_frame_late(pan)  # a frame behind: a 2 px trail everywhere
    assert ghosting_error(late, pan, pairs) > 5.0
    # The bound's reference, the last frame carried along the flow, is nearly the frame.
    assert ghosting_error(carried(pan, pairs), pan, pairs) < 0.3 * ghosting_error(late, pan,
                                                                                 pairs)
    rng = np.random.default_rng(1)  # pixel noise mostly cancels in the blur
    noisy = [np.clip(f + rng.normal(0, 10, f.shape), 0, 255).astype(np.uint8) for f in pan]
    assert ghosting_error(noisy, pan, pairs) < 0.5 * ghosting_error(late, pan, pairs)


def test_ghosting_sees_a_trail_on_the_still_background(photo: np.ndarray) -> None:
    """A square moves right over a still room; an output that leaves the square's last
    place painted (a trail over the background it uncovers) is caught."""
    room = cv2.resize(photo, (W, H), interpolation=cv2.INTER_AREA)
    patch = cv2.resize(photo[::-1, ::-1], (24, 24), interpolation=cv2.INTER_AREA)
    frames, trails = [], []
    for i in range(5):
        f = room.copy()
        f[20:44, 20 + 6 * i:44 + 6 * i] = patch
        trail = f.copy()
        if i:
            trail[20:44, 20 + 6 * (i - 1):26 + 6 * (i - 1)] = patch[:, :6]  # left behind
        frames.append(f)
        trails.append(trail)
    pairs = reference(frames)
    assert ghosting_error(trails, frames, pairs) > 1.0


def test_a_cut_is_skipped(pan: list[np.ndarray], photo: np.ndarray) -> None:
    other = cv2.resize(photo[::-1], (W, H), interpolation=cv2.INTER_AREA)
    frames = [pan[0], pan[1], other, other]
    pairs = reference(frames)
    assert pairs[0] is not None and pairs[1] is None and pairs[2] is not None
    lagging = [frames[0], frames[0], frames[1], frames[2]]  # the old shot shown after the cut
    within, after_cut = ghosting(lagging, frames, pairs)
    # pan0→pan1 moves; the cut is apart; other→other has nothing moving or appearing.
    assert len(within) == 1 and len(after_cut) == 1 and after_cut[0] > 20.0


def test_still_frames_carry_sensor_noise(pan: list[np.ndarray]) -> None:
    held = still_frames(pan[0], 3)
    diff = held[0].astype(float) - held[1]
    assert 2.0 < diff.std() < 3.5  # two frames of sigma 2 noise: sigma 2.8 apart
    assert abs((held[0].astype(float) - pan[0]).mean()) < 0.2


def test_flicker_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from installation.cli import main

    picture = tmp_path / "strip.jpg"
    assert main(["flicker", "--source", "demo:carphone", "--frames", "12", "--size",
                 "128x72", "--still-frames", "6", "--json", "--picture", str(picture)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == "128x72" and out["temporal"]["strength"] == 0.94
    clip, still = out["clips"]
    assert clip["clip"] == "demo:carphone" and clip["frames"] == 12
    assert clip["stabilised"] < clip["plain"]  # on a real clip, real style network
    assert clip["ghosting"] > 0 and clip["added_ms"] > 0 and 0 < clip["detail"] <= 1.5
    assert still["clip"].startswith("still") and still["frames"] == 6
    assert still["stabilised"] < 0.5 * still["plain"]  # the noise no longer re-rolls strokes
    strip = cv2.imread(str(picture))
    assert strip is not None and strip.shape[:2] == (72 * 5, 128 * 4)
    assert main(["flicker", "--frames", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--frames 2" in err and "\n" not in err
