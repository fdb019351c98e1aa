"""Device choice: CUDA only when usable, said in one line; no provider noise on a CPU box."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from installation.errors import UserError
from installation.models import ModelStore
from installation.runtime import CPU, CUDA, choose_device, torch_device

CUDA_USABLE = choose_device().kind == "cuda"


def test_cpu_when_asked() -> None:
    d = choose_device("cpu", threads=3)
    assert d.kind == "cpu" and d.providers == [CPU] and d.threads == 3
    assert d.describe().startswith("device: cpu")


@pytest.mark.skipif(CUDA_USABLE, reason="this machine has a usable GPU")
def test_auto_falls_back_to_cpu_and_says_why() -> None:
    d = choose_device("auto")
    assert d.kind == "cpu" and d.providers == [CPU]
    assert "no usable GPU" in d.describe()


@pytest.mark.skipif(CUDA_USABLE, reason="this machine has a usable GPU")
def test_cuda_requested_without_gpu_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"runtime\.device = 'cuda'.*'auto' or 'cpu'"):
        choose_device("cuda")


@pytest.mark.skipif(CUDA_USABLE, reason="this machine has a usable GPU")
def test_provider_errors_are_not_shown() -> None:
    """The probes run (a driver node stands in: any file) and say nothing on stderr."""
    code = ("import sys; from installation.runtime import choose_device, device; "
            "device.DRIVER_NODES = (sys.executable,); print(choose_device().describe())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("device: cpu")
    if CUDA in ort.get_available_providers():  # onnxruntime-gpu: it would have shouted
        assert "libcublas" not in done.stderr and "CUDAExecutionProvider" not in done.stderr
    assert done.stderr == ""


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA_USABLE, reason="needs a usable CUDA GPU")
def test_cuda_chosen_when_usable() -> None:
    """onnxruntime-gpu gives the CUDA provider; an image with only torch's CUDA (the H200
    we are lent) keeps onnxruntime on the CPU and runs the networks through torch."""
    d = choose_device("auto")
    assert d.kind == "cuda" and (CUDA in d.providers or d.torch == "cuda")


def test_a_gpu_only_torch_sees_makes_a_torch_cuda_device(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The GPU stands in through the two probes (this machine has none)."""
    from installation.runtime import device as device_module
    from installation.runtime.choice import candidates

    monkeypatch.setattr(device_module, "_no_gpu_driver", lambda: "")
    monkeypatch.setattr(device_module, "_usable",
                        lambda provider: (False, f"this onnxruntime build has no {provider}"))
    monkeypatch.setattr(device_module, "_torch_cuda", lambda: (True, "NVIDIA H200"))
    d = choose_device("auto")
    assert d.kind == "cuda" and d.providers == [CPU] and d.torch == "cuda"
    assert torch_device(d) == "cuda"
    assert "NVIDIA H200" in d.describe() and "onnxruntime stays on the CPU" in d.describe()
    plan = candidates(d, frozenset(), openvino=True)
    assert [(c.engine, c.precision) for c in plan] == [("torch", "fp16")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="driver nodes: Linux")
def test_without_the_nvidia_driver_nothing_is_probed(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    from installation.runtime import device as device_module

    def probe(*_: object) -> tuple[bool, str]:
        raise AssertionError("probed")

    monkeypatch.setattr(device_module, "DRIVER_NODES", (str(tmp_path / "nvidia0"),))
    monkeypatch.setattr(device_module, "_usable", probe)
    monkeypatch.setattr(device_module, "_torch_cuda", probe)
    d = choose_device("auto")
    assert d.kind == "cpu" and "no NVIDIA driver" in d.describe()
    with pytest.raises(UserError, match=r"runtime\.device = 'cuda'.*no NVIDIA driver"):
        choose_device("cuda")
    (tmp_path / "nvidia0").touch()  # the driver is there: the probes decide
    with pytest.raises(AssertionError, match="probed"):
        choose_device("auto")


def test_torch_work_stays_on_the_cpu_for_a_cpu_device() -> None:
    assert torch_device(choose_device("cpu")) == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA_USABLE, reason="needs a usable CUDA GPU")
def test_the_live_dream_runs_on_cuda_when_usable(store: ModelStore) -> None:
    from installation.dream.live import DreamEffect
    from installation.effects import build_effect
    from installation.effects.config import StyleConfig
    from installation.show.config import SceneConfig

    scene = SceneConfig(name="d", effect="dream", size=(320, 180))
    effect = build_effect(scene, StyleConfig(), choose_device("cuda"), store)
    assert isinstance(effect, DreamEffect) and getattr(effect.ascent, "torch_device", "") == "cuda"
    out = effect(np.full((180, 320, 3), 128, np.uint8), 0.0)
    assert out.shape == (180, 320, 3) and out.std() > 0
