"""The frame state: what the HUD, /health and --stats say comes from one record."""

from __future__ import annotations

from installation.state import (
    FrameState,
    GanState,
    MotionState,
    PerceptionState,
    SinkState,
    SourceState,
    VisitorState,
)


def test_hud_lines() -> None:
    state = FrameState(fps=29.94, latency_ms=83.6, scene="paint", style="3",
                       source=SourceState("webcam:0", "live", 0, "webcam:0 (live)"),
                       device="cpu", processing=(320, 180), recording=True)
    lines = state.hud_lines()
    assert lines[0] == " 29.9 fps   latency   84 ms"
    assert "scene  paint" in lines and "device cpu" in lines
    assert "source webcam:0 (live)" in lines and "res    320x180" in lines
    assert lines[-1] == "WRITING recording"
    quiet = FrameState(scene="x", processing=(96, 64)).hud_lines()
    assert quiet == ["  0.0 fps", "scene  x", "res    96x64"]  # nothing written: not said
    lines = FrameState(motion=MotionState(0.123, 0.9, (0.5, 0.5), (1.0, 0.0), 3.0),
                       walk=GanState("eyes", True, 0.4, 1.0, 3, 7.4)).hud_lines()
    assert lines[-3:] == ["motion energy 0.12   presence 0.90",
                          "walk   0.40 rad/s   eyes   seed 3   gan 7 ms",
                          "ATTRACT (nobody there)"]
    assert "res    240x136   holding 30 fps" in FrameState(
        processing=(240, 136), target_fps=30.0).hud_lines()


def test_hud_says_what_stops_the_picture() -> None:
    lines = FrameState(paused=True, blackout=True, config_error="c.toml:3: bad",
                       bypassed=("effect bypassed (it kept failing or stalling)",),
                       sinks=(SinkState("recording", 10, 2, "OSError: disk full"),)).hud_lines()
    assert "PAUSED" in lines and "BLACKOUT" in lines
    assert "CONFIG NOT APPLIED: c.toml:3: bad" in lines
    assert "effect bypassed (it kept failing or stalling)" in lines
    assert "recording stopped: OSError: disk full" in lines


def test_reasons_name_what_is_wrong() -> None:
    assert FrameState(source=SourceState("demo", "playing")).reasons() == []
    reasons = FrameState(source=SourceState("webcam:0", "reconnecting"), fps=5.0,
                         target_fps=30.0, config_error="bad",
                         sinks=(SinkState("recording", failed="OSError: disk full"),)).reasons()
    assert reasons == ["source webcam:0 is reconnecting", "config edit not applied: bad",
                       "5 fps, under half the 30 fps target",
                       "recording stopped: OSError: disk full"]


def test_stats_record_has_the_interactive_fields_only_when_interactive() -> None:
    plain = FrameState(frame=3, seq=7, t_capture=1.0, t_present=1.05, latency_ms=50.0,
                       stages_ms={"effect": 12.345}, scene="one", style="3",
                       processing=(96, 64)).stats_record()
    assert plain == {"frame": 3, "seq": 7, "t_capture": 1.0, "t_present": 1.05,
                     "latency_ms": 50.0, "stages_ms": {"effect": 12.35}, "fps": 0.0,
                     "scene": "one", "style": "3", "processing": [96, 64]}
    full = FrameState(motion=MotionState(0.5, 1.0, (0.25, 0.75), (0.0, 1.0), 2.0),
                      walk=GanState("eyes", False, 0.3, 0.8, 1, None)).stats_record()
    assert full["motion"]["centroid"] == [0.25, 0.75] and full["generator"] == "eyes"
    assert full["walk_speed"] == 0.3 and full["gan_ms"] is None and full["attract"] is False


def test_trouble_and_failing_stages_are_said() -> None:
    state = FrameState(errors={"effect": 3, "gan": 0}, stalls={"motion": 1},
                       failing=("the GAN keeps failing: its last picture stays",),
                       sinks=(SinkState("recording", 40, 7, None, True),))
    lines = state.hud_lines()
    assert "errors effect 3   stalls motion 1   dropped recording 7" in lines
    assert "the GAN keeps failing: its last picture stays" in lines
    assert state.reasons()[-1] == "the GAN keeps failing: its last picture stays"
    assert FrameState().trouble() == ""


def test_a_dead_picture_is_a_reason() -> None:
    assert "picture frozen for 11 s" in FrameState(picture="frozen for 11 s").reasons()
    assert not any("picture" in r for r in FrameState(picture=None).reasons())


def visitors(n: int = 2, network: str = "") -> PerceptionState:
    people = tuple(VisitorState(id=3 + i, x=0.123456 + 0.2 * i, y=0.654321, width=0.0812345,
                                height=0.312345, motion=0.41234, still_s=12.345, face=i == 0)
                   for i in range(n))
    return PerceptionState(people, energy_raw=0.33333, energy=0.41111, gain=1.23456,
                           presence=0.999999, crowd=0.5, ms=11.666, network=network)


def test_hud_says_the_visitors_instead_of_the_pictures_motion() -> None:
    motion = MotionState(0.9, 0.1, (0.5, 0.5), (1.0, 0.0), 3.0)
    lines = FrameState(motion=motion, perception=visitors()).hud_lines()
    assert "visitors 2   energy 0.41 (raw 0.33 h/s × gain 1.23)   presence 1.00   12 ms" \
        in lines
    assert "at     #3 0.12,0.65 h 0.31   #4 0.32,0.65 h 0.31" in lines
    assert not any(ln.startswith("motion") for ln in lines)  # the walk follows the visitors
    assert not any("network" in ln for ln in lines)
    # Without perception the picture's motion is what the walk follows: said as before.
    assert "motion energy 0.90   presence 0.10" in FrameState(motion=motion).hud_lines()


def test_hud_lists_a_few_visitors_and_says_when_the_network_is_off() -> None:
    lines = FrameState(perception=visitors(6, network="person network not pulled")
                       ).hud_lines()
    at = next(ln for ln in lines if ln.startswith("at "))
    assert at.count("#") == 4 and at.endswith("+2 more")
    assert "person network off: person network not pulled" in lines
    nobody = FrameState(perception=PerceptionState()).hud_lines()
    assert "visitors 0   energy 0.00 (raw 0.00 h/s × gain 1.00)   presence 0.00   0 ms" \
        in nobody and not any(ln.startswith("at ") for ln in nobody)


def test_a_missing_network_is_information_not_a_fault() -> None:
    state = FrameState(source=SourceState("demo", "playing"),
                       perception=visitors(network="person network not pulled"))
    assert state.reasons() == []


def test_stats_record_has_the_visitors_rounded() -> None:
    record = FrameState(perception=visitors(1, network="off for a reason")).stats_record()
    assert record["perception"] == {
        "count": 1, "energy_raw": 0.3333, "energy": 0.4111, "gain": 1.235, "presence": 1.0,
        "crowd": 0.5, "ms": 11.67, "network": "off for a reason",
        "visitors": [{"id": 3, "x": 0.1235, "y": 0.6543, "width": 0.0812, "height": 0.3123,
                      "motion": 0.412, "still_s": 12.3, "face": True}]}
    assert "perception" not in FrameState().stats_record()  # perception off: no field
