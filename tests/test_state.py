"""The frame state: what the HUD, /health and --stats say comes from one record."""

from __future__ import annotations

from installation.state import (
    FrameState,
    GanState,
    MotionState,
    SinkState,
    SourceState,
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
