"""The stabiliser on synthetic motion and noise where the right answer is known."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from installation.temporal import Stabiliser, TemporalConfig
from installation.temporal.flow import grey
from installation.temporal.stabiliser import GAP_S, Last

W, H = 160, 96
DT = 1 / 30  # s between frames
INNER = (slice(16, H - 16), slice(16, W - 16))


@pytest.fixture(scope="module")
def scene(photo: np.ndarray) -> np.ndarray:
    """A detailed RGB picture larger than the frames, to cut moving frames from."""
    return cv2.resize(photo, (W + 80, H + 80), interpolation=cv2.INTER_AREA)


def frame(scene: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """The frame whose content sits (dx, dy) px right and down of `frame(scene)`."""
    return np.ascontiguousarray(scene[40 - dy:40 - dy + H, 40 - dx:40 - dx + W])


def stabiliser(**settings: object) -> Stabiliser:
    return Stabiliser(TemporalConfig.model_validate({"enabled": True, **settings}), (W, H))


def rerolled(seed: int = 0, amount: float = 12.0) -> Callable[[np.ndarray], np.ndarray]:
    """A 'network' whose strokes re-roll every call: the picture plus fresh noise."""
    rng = np.random.default_rng(seed)

    def paint(picture: np.ndarray) -> np.ndarray:
        noisy = picture.astype(np.float32) + rng.normal(0.0, amount, picture.shape)
        return np.clip(noisy, 0, 255).astype(np.uint8)

    return paint


def change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference over the inner pixels, grey levels."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32))[INNER].mean())


def test_a_still_scene_stops_flickering(scene: np.ndarray) -> None:
    still = frame(scene)
    plain_paint, steady_paint = rerolled(1), rerolled(1)
    st = stabiliser()
    plain = [plain_paint(still) for _ in range(30)]
    steady = [st(still, i * DT, steady_paint) for i in range(30)]
    plain_flicker = np.mean([change(a, b) for a, b in itertools.pairwise(plain[10:])])
    steady_flicker = np.mean([change(a, b) for a, b in itertools.pairwise(steady[10:])])
    # Fully trusted, strength 0.94: each frame moves 6 % of the way to the new output.
    assert steady_flicker < 0.2 * plain_flicker
    assert st.kept == pytest.approx(0.94, abs=0.05)
    assert change(steady[-1], still) < 6.0  # the average of the strokes: the picture


def test_the_output_follows_a_moving_picture_without_trails(scene: np.ndarray) -> None:
    """A pan of 2 px a frame, painted exactly: the warped last output matches the new one,
    so what is shown stays the current frame's painting (no smear behind the motion)."""
    st = stabiliser()
    for i in range(12):
        current = frame(scene, 2 * i, i)
        out = st(current, i * DT, lambda p: p.copy())
    # Registered to the current frame far closer than a 1 px slip would be (the flow is
    # found to a fraction of a pixel; a trail would be several px).
    slip = change(frame(scene, 2 * 11 + 1, 11), current)
    assert change(out, current) < 0.4 * slip
    assert st.kept > 0.6  # the warp was trusted, not merely skipped


def test_flicker_on_a_moving_picture_is_damped(scene: np.ndarray) -> None:
    st, paint_a, paint_b = stabiliser(), rerolled(2), rerolled(2)
    plain, steady = [], []
    for i in range(20):
        current = frame(scene, 2 * i, 0)
        plain.append(paint_a(current))
        steady.append(st(current, i * DT, paint_b))
    # Against the truth (the clean frame): the re-rolled noise is averaged away.
    assert change(steady[-1], frame(scene, 38, 0)) < 0.5 * change(plain[-1], frame(scene, 38, 0))


def test_a_real_change_is_painted_afresh(scene: np.ndarray, photo: np.ndarray) -> None:
    st = stabiliser()
    for i in range(5):
        st(frame(scene), i * DT, lambda p: p.copy())
    other = cv2.resize(photo[::-1, ::-1], (W, H))  # a cut to another picture
    out = st(other, 5 * DT, lambda p: p.copy())
    assert change(out, other) < 1.0


def test_a_new_style_on_a_still_picture_eases_in(scene: np.ndarray) -> None:
    still, st = frame(scene), stabiliser()
    for i in range(5):
        st(still, i * DT, lambda p: p.copy())
    inverted = 255 - still
    gaps = [change(st(still, (5 + i) * DT, lambda p: 255 - p), inverted) for i in range(40)]
    assert gaps[0] > 50 and all(b < a for a, b in itertools.pairwise(gaps))
    assert gaps[-1] < 0.1 * gaps[0]


def test_sensor_noise_does_not_reach_the_network(scene: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    still = frame(scene).astype(np.float32)
    seen: list[np.ndarray] = []

    def paint(picture: np.ndarray) -> np.ndarray:
        seen.append(picture.copy())
        return picture

    st = stabiliser(noise=2.0)
    for i in range(10):
        noisy = np.clip(still + rng.normal(0.0, 2.0, still.shape) + 0.5, 0, 255)
        st(noisy.astype(np.uint8), i * DT, paint)
    # The held picture every time: all but a few pixels where the noise's far tail pokes
    # above the threshold (a 1-level step there).
    for s in seen[1:]:
        moved = np.abs(s.astype(np.int16) - seen[0])
        assert moved.max() <= 1 and np.count_nonzero(moved) < 0.001 * moved.size
    # Someone steps in: a bright square is seen at once.
    moved = seen[0].copy()
    moved[30:60, 40:80] = 250
    st(moved, 10 * DT, paint)
    assert np.array_equal(seen[-1][34:56, 44:76], moved[34:56, 44:76])
    assert np.array_equal(seen[-1][:20], seen[0][:20])  # and the still rest stays held


def test_without_steadiness_the_network_sees_the_camera(scene: np.ndarray) -> None:
    st, seen = stabiliser(noise=0.0), []

    def paint(picture: np.ndarray) -> np.ndarray:
        seen.append(picture)
        return picture

    for i in range(3):
        picture = frame(scene, i, 0)
        st(picture, i * DT, paint)
        assert np.array_equal(seen[-1], picture)


def test_off_passes_the_painting_through(scene: np.ndarray) -> None:
    st = stabiliser()
    st.on = False
    paint = rerolled(4)
    check = rerolled(4)
    for i in range(3):
        out = st(frame(scene), i * DT, paint)
        assert np.array_equal(out, check(frame(scene)))


def test_a_pause_starts_afresh(scene: np.ndarray) -> None:
    st = stabiliser()
    st(frame(scene), 0.0, lambda p: p.copy())
    inverted = 255 - frame(scene)
    out = st(frame(scene), GAP_S + 0.5, lambda p: 255 - p)  # back after a pause
    assert np.array_equal(out, inverted)


def test_a_new_size_carries_the_last_frame_over(scene: np.ndarray) -> None:
    """Adaptive resolution changes rung: the picture goes on, it does not pop."""
    st = stabiliser()
    for i in range(3):
        st(frame(scene), i * DT, lambda p: p.copy())
    st.resize((W // 2, H // 2))
    assert st.grid.size == (W // 2, H // 2)
    small = cv2.resize(frame(scene), (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    out = st(small, 3 * DT, lambda p: 255 - p)  # a new look at the new size
    assert out.shape == small.shape
    assert st.kept > 0.6 and change(out, small) < change(out, 255 - small)  # still mostly
    # the last picture, easing towards the new one


@pytest.mark.parametrize(("size", "interp"), [
    ((W // 2, H // 2), cv2.INTER_AREA),  # smaller: averaged
    ((W, H), cv2.INTER_AREA),  # the same size
    ((W * 2, H * 2), cv2.INTER_LINEAR),  # larger
    ((W * 2, H // 2), cv2.INTER_LINEAR),  # wider and lower: one side grows
])
def test_a_new_size_resizes_the_last_frame_as_pictures_do(
        scene: np.ndarray, size: tuple[int, int], interp: int) -> None:
    """The carried-over frame is resized by the pictures' one rule: area averaging when
    no side grows, else bilinear."""
    st = stabiliser()
    st(frame(scene), 0.0, lambda p: p.copy())
    last = st._last
    assert last is not None
    st.resize(size)
    carried = st._last
    assert carried is not None
    for before, after in zip(last, carried, strict=True):
        assert np.array_equal(after, cv2.resize(before, size, interpolation=interp))


def test_trust_drops_where_a_moving_square_uncovers_the_background(
        scene: np.ndarray, photo: np.ndarray) -> None:
    """A textured square moves 6 px right over a still textured room, with the real flow:
    the strip it uncovers was hidden in the last frame (trust ≈ 0: painted afresh); the
    room around, and the square itself followed by the flow, are trusted."""
    room = frame(scene)
    patch = cv2.resize(photo[::-1, ::-1], (40, 40), interpolation=cv2.INTER_AREA)
    last, this = room.copy(), room.copy()
    last[28:68, 50:90] = patch
    this[28:68, 56:96] = patch
    st = stabiliser(noise=0.0)
    previous = Last(last, grey(last), last.astype(np.float32))
    keep, _ = st.carry(st.grid, previous, this, grey(this))
    strength = st.cfg.strength
    assert keep[32:64, 51:55].mean() < 0.1 * strength  # uncovered: the square was there
    assert keep[5:20, 10:150].mean() > 0.8 * strength  # the room above: seen in both
    assert keep[34:62, 64:88].mean() > 0.6 * strength  # the square, followed


def test_a_call_the_watchdog_gave_up_on_changes_nothing(scene: np.ndarray) -> None:
    """A stalled call finishing after newer ones must not become 'the last frame'."""
    still, st = frame(scene), stabiliser()
    entered, release = threading.Event(), threading.Event()

    def stalled(p: np.ndarray) -> np.ndarray:
        entered.set()
        release.wait(10)
        return 255 - p  # a look no later frame has

    st(still, 0.0, lambda p: p.copy())
    late = threading.Thread(target=st, args=(still, DT, stalled))
    late.start()
    assert entered.wait(10)  # the stalled call holds its (older) ticket
    for i in range(2, 5):  # the fresh thread's frames
        st(still, i * DT, lambda p: p.copy())
    release.set()
    late.join(10)
    out = st(still, 5 * DT, lambda p: p.copy())
    assert change(out, still) < 1.0  # blended with frame 4, not with the stalled look


def test_a_failing_flow_costs_the_blend_not_the_frame(
        scene: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    st = stabiliser()
    st(frame(scene), 0.0, lambda p: p.copy())

    def broken(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise ValueError("no flow today")

    st._flow = broken  # type: ignore[assignment]
    inverted = 255 - frame(scene)
    assert np.array_equal(st(frame(scene), DT, lambda p: 255 - p), inverted)
    assert "no flow today" in caplog.text and "unblended" in caplog.text
    assert st.unblended == 1  # counted for /metrics


def test_the_networks_own_error_comes_through(scene: np.ndarray) -> None:
    """An out-of-memory error must reach the effect thread as it is (it steps the size
    down), not be replaced by anything from the flow."""
    st = stabiliser()
    st(frame(scene), 0.0, lambda p: p.copy())

    def oom(p: np.ndarray) -> np.ndarray:
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        st(frame(scene), DT, oom)
    assert np.array_equal(st(frame(scene), 2 * DT, lambda p: p.copy()), frame(scene))


def test_a_late_call_after_a_reset_is_not_remembered(scene: np.ndarray) -> None:
    """Switched off (T) or paused while a stalled call runs: when it comes back, nothing of
    it is blended into the frames after the stabiliser is on again."""
    still, st = frame(scene), stabiliser()
    entered, release = threading.Event(), threading.Event()

    def stalled(p: np.ndarray) -> np.ndarray:
        entered.set()
        release.wait(10)
        return 255 - p

    st(still, 0.0, lambda p: p.copy())
    late = threading.Thread(target=st, args=(still, DT, stalled))
    late.start()
    assert entered.wait(10)
    st.on = False
    st(still, 2 * DT, lambda p: p.copy())  # off: the stabiliser forgets
    release.set()
    late.join(10)
    st.on = True
    assert np.array_equal(st(still, 3 * DT, lambda p: p.copy()), still)  # a fresh start
