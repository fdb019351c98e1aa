"""What every engine's loaded network offers the stages: ports read from the model, `run`.

A stage never sees which engine runs its network: it reads the input names and shapes
from `inputs` (never hard-coded), feeds numpy arrays and gets numpy arrays back. The
arrays returned are valid until the next `run` of the same network (an engine may hand
out its own output buffers instead of copying them): a stage that keeps a result across
runs copies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import torch

EngineName = Literal["onnxruntime", "openvino", "torch"]
Precision = Literal["fp32", "bf16", "fp16"]
Dim = int | str | None  # a fixed size, or the name of a free one (None: unnamed and free)


@dataclass(frozen=True)
class Port:
    """One input or output of a network: its name and shape as the model declares it."""

    name: str
    shape: tuple[Dim, ...]

    def fixed(self) -> bool:
        return all(isinstance(d, int) for d in self.shape)


class Network(Protocol):
    """A network loaded by one engine, on one device, at one precision."""

    name: str  # the model's name in the manifest, or its file name
    engine: EngineName
    precision: Precision
    inputs: list[Port]
    outputs: list[Port]

    @property
    def metadata(self) -> dict[str, str]:
        """The model file's own key/value metadata (an engine may read it when asked)."""
        ...

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Every output, in the model's order, for `feeds` (input name → array)."""
        ...

    def describe(self) -> str:
        """One line: which engine, device and precision run it."""
        ...


@runtime_checkable
class TensorNetwork(Network, Protocol):
    """A network that also takes and gives torch tensors on its own device (the torch
    engine): a stage can keep a frame there from upload to one download."""

    torch_device: str  # "cpu", "cuda"

    def run_tensors(self, feeds: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
        """Every output, in the model's order, as tensors on `torch_device`."""
        ...


def reason(exc: BaseException, limit: int = 120) -> str:
    """An engine's error in one line: its type and the line that says what went wrong
    (OpenVINO's messages start with lines of source locations: those are skipped)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    said = [ln for ln in lines if not ln.startswith(("Exception from ", "Check '"))]
    text = (said or lines or [""])[-1 if said else 0][:limit]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def known(d: Dim) -> int:
    """A dimension's size, 0 where the model leaves it free."""
    return d if isinstance(d, int) else 0
