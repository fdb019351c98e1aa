"""`bench`: one JSON object with the three runs and the resource figures; the sizes sweep
gives the cost per megapixel at each size. Tiny sizes and few frames: this checks what is
reported, not how fast (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installation.capture import clip_file, decode_frames
from installation.cli import main
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.tools.bench import bench_pipeline
from installation.tools.common import bench_config, measured_scene


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["bench", "--frames", "20", "--json", *args]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_one_size_reports_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    r = bench(capsys, "--size", "64x36")
    assert r["size"] == "64x36" and r["layers"] == "style alone"
    pipe = r["pipeline"]
    assert isinstance(pipe, dict)
    for key in ("fps", "frame_ms_p50", "frame_ms_p95", "latency_ms_p50", "latency_ms_p95"):
        assert pipe[key] > 0
    assert pipe["frame_ms_p95"] >= pipe["frame_ms_p50"]
    assert pipe["cpu_cores"] > 0 and pipe["peak_rss_mb"] > 50  # torch, ORT, pygame loaded
    assert pipe["gpu_mem_mb"] is None  # a CPU device
    assert {"wait", "effect", "present"} <= set(pipe["stages_ms_p50"])
    assert r["pipeline_vs_bare_throughput"] > 0 and r["pipeline_vs_naive_throughput"] > 0


def test_sizes_sweep_reports_cost_per_megapixel(capsys: pytest.CaptureFixture[str]) -> None:
    r = bench(capsys, "--sizes", "64x36,128x72")
    rows = r["sizes"]
    assert isinstance(rows, list) and [row["size"] for row in rows] == ["64x36", "128x72"]
    for row in rows:
        assert row["bare_ms_per_mpx"] == pytest.approx(
            row["bare"]["frame_ms_p50"] / row["megapixels"])
    assert r["per_pixel_spread"] >= 0


@pytest.mark.parametrize(("args", "says"), [
    (["--sizes", "64x36,big"], "--sizes 'big'"),
    (["--size", "10x10"], "--size 10x10"),
    (["--frames", "5"], "--frames 5"),
])
def test_bad_options_get_one_line(args: list[str], says: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err


def test_the_pipeline_recording_reports_what_it_kept(tmp_path: Path, store: ModelStore,
                                                     cpu: Device) -> None:
    """`--record on`: the pipeline run records too (a temporary file at the config's
    [recording] size) and says what the recording kept; `off` records nothing."""
    path = tmp_path / "config.toml"
    path.write_text("[recording]\nwidth = 160\nheight = 90\nfps = 10.0\n")
    cfg = load_config(path)
    scene = measured_scene(cfg, None, (64, 36))
    cfg = bench_config(cfg, scene)
    frames = decode_frames(clip_file("demo", cfg.source.demo_clip, store), 20, (64, 36))
    on = bench_pipeline(frames, cfg, cpu, store, 240.0, record=True)
    r = on["recording"]
    assert r["size"] == "160x90" and r["fps"] == 10.0 and r["failed"] is None
    assert r["frames"] >= 1 and r["pictures"] >= 1 and r["file_mb"] > 0
    assert r["pictures"] + r["dropped"] <= 20 + 10  # every picture shown, taken or dropped
    assert on["cpu_cores"] > 0
    assert bench_pipeline(frames, cfg, cpu, store, 240.0)["recording"] is None


def test_engines_side_by_side_with_their_picture_difference(
        capsys: pytest.CaptureFixture[str]) -> None:
    r = bench(capsys, "--size", "64x36", "--temporal", "off",
              "--engine", "onnxruntime,openvino:fp32")
    runs = r["engines"]
    assert isinstance(runs, list) and [e["engine"] for e in runs] == [
        "onnxruntime", "openvino:fp32"]
    ort, ov = (e["bare"] for e in runs)
    assert ort["vs_onnxruntime_fp32"]["max"] == 0.0  # the reference against itself
    assert "openvino CPU fp32" in ov["engine"] and ov["vs_onnxruntime_fp32"]["max"] < 1.0
    assert all(e["pipeline"]["fps"] > 0 for e in runs)


def test_every_network_on_each_engine(capsys: pytest.CaptureFixture[str]) -> None:
    r = bench(capsys, "--networks", "--size", "64x36", "--engine", "openvino:fp32")
    rows = {(row["network"], row["engine"]): row for row in r["networks"]}
    assert {n for n, _ in rows} == {"multistyle26", "arbitrary-predict", "arbitrary-transform",
                                    "fast-dream:deep", "fast-dream:ripples", "gan-eyes",
                                    "gan-faces"}
    assert all(row["reference_ms"] > 0 for row in rows.values())  # timed in turns with it
    style = rows["multistyle26", "openvino:fp32"]
    assert style["parity"] and style["ms"] > 0 and style["max"] < 0.255
    assert not rows["arbitrary-transform", "openvino:fp32"]["parity"]  # its int8 rounds off


def test_an_unknown_engine_gets_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--engine", "tensorflow"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--engine 'tensorflow'" in err and "\n" not in err


def test_surfaces_on_and_off_in_turns(capsys: pytest.CaptureFixture[str]) -> None:
    """`bench --surfaces`: each 'on' run had its console read, OSC out received and the
    MIDI knob taken; the ratio is reported (not judged: no timing assertion)."""
    r = bench(capsys, "--surfaces", "--size", "64x36", "--source-fps", "30")
    assert len(r["off"]) == len(r["on"]) == 2  # type: ignore[arg-type]
    for run in r["on"]:  # type: ignore[attr-defined]
        assert run["fps"] > 0 and run["osc_datagrams"] > 0 and run["midi_messages"] > 0
        assert run["events"] >= 1 and run["ndi_frames"] > 0  # (ndi-python: requirements)
    assert r["on_vs_off"] > 0
