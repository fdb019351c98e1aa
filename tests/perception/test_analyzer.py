"""The perception stage end to end (installation/perception/analyzer.py) on fixed-camera
scenes where the right answer is known (`installation/tools/people_scenes.py`: the
astronaut photo cut out, walking or standing in front of a real still, with sensor noise):
presence, distance and fallback. Simulated clock: frame i at i / fps."""

from __future__ import annotations

import logging
import statistics

import numpy as np
import pytest

from installation.perception import Perceiver, PerceptionConfig, Visitors
from installation.perception.analyzer import PersonNetwork, analysis_size
from installation.tools import people_scenes as ps
from installation.tools.people_scenes import Clip, Figure

FPS = 15.0


def perceive(clip: Clip, cfg: PerceptionConfig | None = None,
             segmenter: PersonNetwork | None = None) -> list[Visitors]:
    perceiver = Perceiver(cfg or PerceptionConfig(), segmenter=segmenter)
    return [perceiver.update(frame, i / clip.fps) for i, frame in enumerate(clip)]


def at(out: list[Visitors], clip: Clip, t: float) -> Visitors:
    return out[round(t * clip.fps)]


# -- presence -----------------------------------------------------------------------------------

def test_a_still_photo_of_a_person_reads_present(segmenter: PersonNetwork) -> None:
    # The astronaut photo held 20 s: the room for background subtraction from the first
    # frame, so only the person network can see her.
    clip = ps.still_photo(fps=FPS, seconds=20.0)
    out = perceive(clip, segmenter=segmenter)
    present_from = next(i for i, v in enumerate(out) if v.presence > 0.5) / FPS
    print(f"\nstill photo: present from {present_from:.2f} s")
    assert present_from < 2.0
    for v in out[round(2.0 * FPS):]:
        assert v.presence > 0.9 and v.count == 1
        assert v.visitors[0].height > 0.5  # she fills the frame
    assert len({v.visitors[0].id for v in out if v.count}) == 1


def test_a_photo_that_never_moves_is_forgotten(segmenter: PersonNetwork) -> None:
    # The person network takes salient things for people (a photo, a poster, a cup near
    # the lens): one that never moves for `still_forget_s` is a thing, not a visitor.
    cfg = PerceptionConfig(still_forget_s=10.0)
    clip = ps.still_photo(fps=FPS, seconds=20.0)
    out = perceive(clip, cfg, segmenter)
    assert at(out, clip, 5.0).presence > 0.9
    gone = 10.0 + cfg.lost_s + cfg.presence_hold_s + 4 * cfg.presence_tau_s
    assert all(v.presence < 0.05 and v.count == 0 for v in out[round(gone * FPS):])


@pytest.mark.parametrize("network", [False, True], ids=["subtraction", "network"])
def test_an_empty_room_reads_absent(network: bool, request: pytest.FixtureRequest) -> None:
    seg = request.getfixturevalue("segmenter") if network else None
    out = perceive(ps.empty_room(fps=FPS, seconds=20.0), segmenter=seg)
    assert all(v.count == 0 and v.presence == 0.0 and v.energy == 0.0 for v in out)


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_someone_who_walks_in_and_stops_stays_present(scale: float) -> None:
    # Background subtraction alone: she walks in, stops at 3 s and stands 37 s; at a
    # quarter of the size she is 14 px tall in the analysis picture.
    clip = ps.walkers(fps=10.0, seconds=40.0,
                      figures=[Figure(0.4, -0.15, 0.9, 0.8, stop_at_s=3.0)])
    if scale < 1.0:
        clip = ps.inset(clip, scale, ps.room())
    out = perceive(clip)
    ids = {v.visitors[0].id for v in out if v.count}
    assert len(ids) == 1
    for v in out[round(3.5 * clip.fps):]:
        assert v.count == 1 and v.presence > 0.9
    standing = out[round(6.0 * clip.fps):]
    assert max(v.energy for v in standing) == 0.0  # standing still: no motion
    assert standing[-1].visitors[0].still_s > 30.0


def test_someone_who_leaves_reads_absent() -> None:
    cfg = PerceptionConfig()
    clip = ps.walkers(fps=FPS, seconds=14.0, figures=[Figure(0.4, -0.15, 0.9, 1.0)])
    out = perceive(clip, cfg)
    gone = next(i for i in range(len(clip)) if clip.boxes(i)[0][0] > 1.0) / FPS
    assert all(v.presence > 0.9 for v in out[round(2.5 * FPS):round(gone * FPS)])
    absent = gone + cfg.presence_hold_s + 4 * cfg.presence_tau_s
    print(f"\nleaves the frame at {gone:.2f} s: presence "
          f"{at(out, clip, gone + cfg.presence_hold_s).presence:.2f} after the hold, "
          f"{at(out, clip, absent).presence:.3f} at {absent:.2f} s")
    assert all(v.presence < 0.05 and v.count == 0 for v in out[round(absent * FPS):])


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_someone_turning_on_the_spot_moves(scale: float) -> None:
    # No travel at all: her silhouette changes (measured 0.26-0.33 body heights/s at
    # every size; standing still reads 0).
    clip = ps.walkers(fps=FPS, seconds=12.0,
                      figures=[Figure(0.4, -0.15, 0.9, 0.8, stop_at_s=3.0, turn_hz=0.5)])
    if scale < 1.0:
        clip = ps.inset(clip, scale, ps.room())
    out = perceive(clip)
    turning = [v.energy_raw for v in out[round(6.0 * FPS):]]
    assert statistics.mean(turning) > 0.15 and min(turning) > 0.05


# -- distance --------------------------------------------------------------------------------

def distance_scene() -> Clip:
    """Two walkers 0.45 and 0.5 of the frame tall, at 0.8 and 0.5 body heights/s, crossing."""
    return ps.walkers(fps=FPS, seconds=12.0, figures=[
        Figure(0.45, -0.15, 0.95, 0.8), Figure(0.5, 1.2, 0.9, -0.5, mirror=True)])


@pytest.mark.parametrize("shape_weight", [PerceptionConfig().shape_weight, 0.0])
def test_energy_does_not_depend_on_distance(shape_weight: float) -> None:
    cfg = PerceptionConfig(shape_weight=shape_weight)
    clip = distance_scene()
    near = statistics.mean(v.energy_raw for v in perceive(clip, cfg))
    figures = [f"shape_weight {shape_weight}: near {near:.3f} body heights/s"]
    for scale in (0.5, 0.25):
        far = statistics.mean(v.energy_raw for v in perceive(ps.inset(clip, scale, ps.room()),
                                                               cfg))
        figures.append(f"1/{round(1 / scale)}: {far:.3f} ({far / near:.2f}x)")
        assert 0.7 < far / near < 1.3
    print("\n" + ", ".join(figures))


def test_a_still_frame_of_the_same_scene_gives_no_energy() -> None:
    clip = distance_scene()
    still = ps.held(clip[round(4.0 * FPS)], FPS, 10.0)  # both in the picture
    for frames in (still, ps.inset(still, 0.25, ps.room())):
        out = perceive(frames)
        assert all(v.energy_raw == 0.0 and v.energy == 0.0 for v in out)


# -- fallback --------------------------------------------------------------------------------

class FailingNetwork:
    calls = 0

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        raise RuntimeError("interpreter exploded")


def test_a_failing_network_falls_back_to_subtraction_said_once(
        caplog: pytest.LogCaptureFixture) -> None:
    network = FailingNetwork()
    clip = ps.walkers(fps=FPS, seconds=5.0, figures=[Figure(0.4, -0.15, 0.9, 1.0)])
    with caplog.at_level(logging.WARNING, logger="installation.perception.analyzer"):
        out = perceive(clip, segmenter=network)
    assert network.calls == 1  # dropped for good
    assert "person network failed (RuntimeError: interpreter exploded)" in out[-1].segmenter
    assert all(v.segmenter == out[-1].segmenter for v in out)
    warnings = [r for r in caplog.records if "person network failed" in r.getMessage()]
    assert len(warnings) == 1
    assert "background subtraction alone" in warnings[0].getMessage()
    assert out[-1].count == 1 and out[-1].presence > 0.9  # she is still seen


def test_without_the_network_it_says_why() -> None:
    perceiver = Perceiver(PerceptionConfig(), missing="person network not pulled")
    v = perceiver.update(ps.room(), 0.0)
    assert v.segmenter == "person network not pulled"


# -- the clock and the size ---------------------------------------------------------------

def test_frames_sooner_than_the_rate_are_skipped_and_on_time_ones_are_not() -> None:
    cfg = PerceptionConfig(rate_hz=15.0)
    frame = ps.room((160, 90))
    perceiver = Perceiver(cfg)
    first = perceiver.update(frame, 0.0)
    assert perceiver.update(frame, 0.02) is first  # too soon
    assert perceiver.update(frame, 0.0) is first  # not after it
    # Frames at exactly the rate on an i / fps clock, which rounds either way: all analysed.
    times = [i / 15.0 for i in range(1, 200)]
    out = [perceiver.update(frame, t) for t in times]
    assert len({id(v) for v in out}) == len(times)
    # A 30 frames/s camera: every other frame.
    perceiver.reset()
    out = [perceiver.update(frame, i / 30.0) for i in range(60)]
    assert len({id(v) for v in out}) == 30


def test_the_analysis_size_follows_the_camera() -> None:
    perceiver = Perceiver(PerceptionConfig(width=256))
    assert perceiver.size == (0, 0)
    v = perceiver.update(ps.room((640, 360)), 0.0)
    assert perceiver.size == (256, 144) and v.mask.shape == (144, 256)
    perceiver.update(ps.room((480, 480)), 1.0)  # another camera: a new room
    assert perceiver.size == (256, 256)
    assert analysis_size(256, 100, 4000) == (16, 640)
