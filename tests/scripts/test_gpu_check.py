"""`scripts/gpu-check`: its CPU half runs for real (everything but CUDA: the models the GPU
machine would have, the stand-in `av`, tiny sizes, few frames), so the GPU check cannot
rot between GPU machines; its wheel list agrees with requirements.txt; its size budget and
carry list hold. No download: fake wheels stand in for real ones."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu-check"
BENCH_STEPS = ("style", "interactive", "dream", "reference")


@pytest.fixture(scope="module")
def gpu_check() -> ModuleType:
    """The script as a module (it has no .py suffix)."""
    loader = SourceFileLoader("gpu_check", str(SCRIPT))
    spec = importlib.util.spec_from_loader("gpu_check", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def pins(text: str) -> dict[str, str]:
    """{normalised name: version} of the `name==version` pins in `text` (extras, as in
    `name[extra]==version`, dropped)."""
    return {re.sub(r"[-_.]+", "-", n).lower(): v
            for n, v in re.findall(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s#;]+)",
                                   text, re.M)}


def makefile_wheels() -> dict[str, str]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("GPU_WHEELS :="))
    return pins("\n".join(line.split(":=", 1)[1].split()))


def test_the_cpu_half_writes_real_figures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--cpu", "--out", str(tmp_path), "--av", "standin",
         "--budget-s", "400"],  # a ceiling (about 50 s here): room for a loaded machine
        cwd=ROOT, capture_output=True, text=True, timeout=430, check=False,
        env={k: v for k, v in os.environ.items() if k != "INSTALLATION_MODELS"})
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    steps = {s["name"]: s for s in report["steps"]}
    assert set(steps) == {"gpu-tests", *BENCH_STEPS}
    assert all(s["status"] == "ok" for s in steps.values()), steps
    assert re.search(r"\d+ (skipped|passed)", steps["gpu-tests"]["summary"])  # no CUDA here
    for name in BENCH_STEPS:
        rows = steps[name]["result"]["sizes"]
        assert rows and all(r["bare"]["fps"] > 0 and r["pipeline"]["fps"] > 0 for r in rows)
        assert steps[name]["result"]["device"].startswith("device: cpu")
    assert [r["size"] for r in steps["style"]["result"]["sizes"]] == ["64x36"]
    assert steps["interactive"]["result"]["scene"] == "eyes"
    assert steps["dream"]["result"]["scene"] == "dream"
    assert [t["status"] for t in report["targets"]] == ["not measured"] * 4
    # The view held what the GPU machine would: no eyes GAN, so its stand-in ran.
    assert any("stand-in" in n and "eyes.onnx" in n for n in report["notes"])
    assert "stand-in `av`" in report["av"]
    # Whether a serving check could run there: this Python's shared library (the serving
    # tests run Triton here, so it has one), said in the notes.
    assert report["machine"]["serving"]["python_shared"] is True
    assert any(n.startswith("serving (Triton's Python backend): this Python has")
               for n in report["notes"])
    md = (tmp_path / "gpu-check.md").read_text()
    assert md.count("not measured (no CUDA)") == 4
    assert "| 64x36 | onnxruntime |" in md and "## Not measured, and why" in md
    assert "| 64x36 | torch:fp32 |" in md  # the GPU's path, on the CPU
    assert (tmp_path / "logs" / "interactive.log").is_file()


def test_the_wheel_list_follows_the_pins(gpu_check: ModuleType) -> None:
    wheels = makefile_wheels()
    required = pins((ROOT / "requirements.txt").read_text())
    for name, version in wheels.items():
        if name in required:
            assert version == required[name], name
        else:  # a dependency of a listed wheel: the version this checkout runs
            assert version == importlib.metadata.version(name), name
    pydantic_core = next(r for r in importlib.metadata.requires("pydantic") or []
                         if r.startswith("pydantic-core"))
    assert pydantic_core == f"pydantic-core=={wheels['pydantic-core']}"
    # Every requirement is decided: a wheel, on the GPU image, or left out (and why).
    decided = set(wheels) | gpu_check.IMAGE | set(gpu_check.LEFT_OUT)
    assert set(required) <= decided, set(required) - decided
    assert not set(wheels) & (gpu_check.IMAGE | set(gpu_check.LEFT_OUT))
    for name in wheels:  # each wheel's own needs are in the list or on the image
        for dep, spec in gpu_check.requirements_of(importlib.metadata.requires(name) or []):
            assert dep in gpu_check.IMAGE or gpu_check.satisfies(wheels[dep], spec), (name, dep)


def test_the_carry_holds_every_model_but_the_eyes(gpu_check: ModuleType) -> None:
    assert len(gpu_check.CARRY) <= 8  # the device tool's limit
    manifest = tomllib.loads((ROOT / "models" / "manifest.toml").read_text())
    carried = [p.removeprefix("models/") for p in gpu_check.CARRY if p.startswith("models/")]
    missing = {name for name, m in manifest["models"].items()
               if not m.get("committed")
               and not any(m["file"] == c or m["file"].startswith(c + "/") for c in carried)}
    assert missing == {"gan-eyes"}  # 51.7 MB: the script stands in for it
    assert ".gpu-wheels" in gpu_check.CARRY and "models/lock.json" in gpu_check.CARRY


def fake_wheel(folder: Path, name: str, version: str, size: int = 1000,
               tag: str = "py3-none-any", needs: tuple[str, ...] = ()) -> Path:
    """A wheel file of about `size` bytes (stored, random: incompressible) with METADATA."""
    path = folder / f"{name.replace('-', '_')}-{version}-{tag}.whl"
    meta = "".join(f"Requires-Dist: {n}\n" for n in needs)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{name}-{version}.dist-info/METADATA", f"Name: {name}\n{meta}")
        zf.writestr(f"{name}/blob.bin", os.urandom(size))
    return path


def test_the_size_budget_and_the_set_are_checked(tmp_path: Path,
                                                  gpu_check: ModuleType) -> None:
    fake_wheel(tmp_path, "big", "1.0", 3 << 20, "cp312-cp312-manylinux_2_17_x86_64")
    fake_wheel(tmp_path, "small", "2.0", needs=("big>=1.0", "numpy", "ghost; extra == 'x'"))
    expect = "big==1.0 small==2.0"
    ok = subprocess.run([sys.executable, str(SCRIPT), "--check-wheels", str(tmp_path),
                         "--expect", expect, "--budget-mib", "4"],
                        capture_output=True, text=True, timeout=30, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "2 wheels" in ok.stdout and "3.0 MiB" in ok.stdout
    over = subprocess.run([sys.executable, str(SCRIPT), "--check-wheels", str(tmp_path),
                           "--expect", expect, "--budget-mib", "2"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert over.returncode == 1 and "over the 2 MiB budget" in over.stderr
    # A stale version, a wheel for another platform, a need met by nothing, a pin missing.
    fake_wheel(tmp_path, "small", "1.9")
    fake_wheel(tmp_path, "win", "1.0", tag="cp312-cp312-win_amd64", needs=("ghost",))
    problems = gpu_check.check_wheels(tmp_path, [*expect.split(), "win==1.0", "gone==3"], 4.0)
    assert any("small-1.9" in p and "stale" in p for p in problems)
    assert any("win_amd64" in p and "not for CPython 3.12" in p for p in problems)
    assert any("needs ghost" in p for p in problems)
    assert any(p.startswith("gone==3: no wheel") for p in problems)
    assert len(problems) == 4, problems
