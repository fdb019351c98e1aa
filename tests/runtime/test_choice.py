"""The engine choice: what is tried on which CPU, parity before speed, one line said, and
the verdicts kept between starts."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork, open_network
from installation.runtime import choice as choice_module
from installation.runtime.choice import Verdicts, candidates, native_bf16
from installation.runtime.openvino import OpenVinoNetwork

NO_BF16 = frozenset({"avx2", "avx512f", "fma"})  # an AVX-512 CPU without bf16 (Zen 4-less)
BF16 = NO_BF16 | {"avx512_bf16"}
AMX = NO_BF16 | {"amx_bf16", "amx_tile"}


def on(device: Device, engine: str = "auto", precision: str = "auto") -> Device:
    return dataclasses.replace(device, engine=engine, precision=precision)  # type: ignore[arg-type]


def test_native_bf16_is_avx512_bf16_or_amx() -> None:
    assert not native_bf16(NO_BF16)
    assert native_bf16(BF16) and native_bf16(AMX)


def test_auto_on_a_cpu_without_bf16_tries_fp32_only(cpu: Device) -> None:
    plan = candidates(on(cpu), NO_BF16, openvino=True)
    assert [(c.engine, c.precision) for c in plan] == [("openvino", "fp32")]
    assert "no native bf16" in plan[0].why


def test_auto_on_a_bf16_cpu_tries_bf16_then_fp32(cpu: Device) -> None:
    for flags in (BF16, AMX):
        plan = candidates(on(cpu), flags, openvino=True)
        assert [(c.engine, c.precision) for c in plan] == [("openvino", "bf16"),
                                                           ("openvino", "fp32")]


def test_what_the_config_names_is_what_is_tried(cpu: Device) -> None:
    assert candidates(on(cpu, "onnxruntime"), BF16, openvino=True) == []
    plan = candidates(on(cpu, "openvino", "fp32"), BF16, openvino=True)
    assert [(c.engine, c.precision) for c in plan] == [("openvino", "fp32")]
    plan = candidates(on(cpu, "torch"), BF16, openvino=True)
    assert [(c.engine, c.precision) for c in plan] == [("torch", "fp32")]  # CPU torch: fp32
    gpu = dataclasses.replace(on(cpu), kind="cuda", torch="cuda")
    plan = candidates(gpu, NO_BF16, openvino=True)
    assert [(c.engine, c.precision) for c in plan] == [("torch", "fp16")]


def test_openvino_asked_for_where_it_is_missing_is_one_line(cpu: Device) -> None:
    with pytest.raises(UserError, match=r"runtime.engine = 'openvino' but openvino is not "
                                        r"installed.*'auto'"):
        candidates(on(cpu, "openvino"), BF16, openvino=False)
    assert candidates(on(cpu), BF16, openvino=False) == []  # auto: the reference, quietly


def test_auto_without_bf16_never_picks_bf16(store: ModelStore, cpu: Device,
                                            tmp_path: Path) -> None:
    net = open_network("multistyle26", store.require("multistyle26"), on(cpu), tmp_path,
                       flags=NO_BF16)
    assert net.precision == "fp32"  # OpenVINO fp32 or the reference, whichever is faster


def test_a_failed_parity_check_falls_back_with_one_line(
        store: ModelStore, cpu: Device, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """OpenVINO runs the int8 transform network's quantised layers its own way: several
    grey levels off on average, so the reference runs it (a real failure, not a fake)."""
    caplog.set_level(logging.INFO, "installation.runtime.choice")
    net = open_network("arbitrary-transform", store.require("arbitrary-transform"),
                       on(cpu, "openvino", "fp32"), tmp_path)
    assert isinstance(net, OrtNetwork)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "openvino fp32 failed its parity check" in lines[0]
    assert "onnxruntime" in lines[0] and "the reference instead" in lines[0]


def test_an_engine_that_refuses_the_network_falls_back_with_one_line(
        store: ModelStore, cpu: Device, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """torch refuses fp16 on a CPU (a ModelError from the engine, not a broken model): the
    show goes on with the reference, said once."""
    caplog.set_level(logging.INFO, "installation.runtime.choice")
    net = open_network("gan-faces", store.require("gan-faces"), on(cpu, "torch", "fp16"),
                       tmp_path)
    assert isinstance(net, OrtNetwork)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "torch fp16 cannot run it" in lines[0] and "the reference instead" in lines[0]


def test_the_engine_asked_for_runs_when_it_passes(
        store: ModelStore, cpu: Device, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "installation.runtime.choice")
    net = open_network("gan-faces", store.require("gan-faces"), on(cpu, "openvino", "fp32"),
                       tmp_path)
    assert isinstance(net, OpenVinoNetwork) and net.precision == "fp32"
    line = caplog.records[-1].getMessage()
    assert "openvino CPU fp32" in line and "parity mean" in line and "ms vs onnxruntime" in line
    assert line.startswith("gan-faces: ") and line.count("gan-faces") == 1  # named once


def test_verdicts_are_kept_and_a_restart_does_not_measure(
        store: ModelStore, cpu: Device, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = store.require("gan-faces")
    first = open_network("gan-faces", path, on(cpu, "openvino", "fp32"), tmp_path)
    assert (tmp_path / "choices.json").is_file()

    def no_measuring(*args: object, **kw: object) -> list[float]:
        raise AssertionError("measured again")

    monkeypatch.setattr(choice_module, "paired_ms", no_measuring)
    again = open_network("gan-faces", path, on(cpu, "openvino", "fp32"), tmp_path)
    assert type(again) is type(first)


def test_a_broken_verdict_file_only_costs_a_measurement(
        store: ModelStore, cpu: Device, tmp_path: Path) -> None:
    (tmp_path / "choices.json").write_bytes(b"\x00not json")
    assert Verdicts(tmp_path).get("anything") is None
    net = open_network("gan-faces", store.require("gan-faces"), on(cpu, "openvino", "fp32"),
                       tmp_path)
    z = np.zeros((1, 100), np.float32)
    assert net.run({"z": z})[0].shape == (1, 3, 64, 64)
    (tmp_path / "choices.json").write_text('{"key": {"mean": "x"}}')
    assert Verdicts(tmp_path).get("key") is None
