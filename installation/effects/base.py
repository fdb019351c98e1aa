"""The effect interface: a frame in, a frame out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import torch


class Effect(Protocol):
    """Repaints a picture. Built from a scene's config; owns its network sessions.

    `__call__` takes HxWx3 uint8 RGB at any size and the show time `t` (monotonic seconds)
    and returns HxWx3 uint8 RGB at the scene's processing size. It is called from the
    effect thread only; `step_style` and the other controls come from the main thread and
    must only swap small state (a weight vector, an index).
    """

    name: str
    scalable: bool  # whether `resize` lowers the cost (False: a fixed-size network)

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray: ...

    def step_style(self, delta: int, t: float) -> None:
        """Move to the next (+1) or previous (-1) style of the scene, crossfading."""

    def describe(self) -> str:
        """The current style for the HUD and telemetry, e.g. '7' or '3:0.5+12:0.5'."""
        ...

    def resize(self, size: tuple[int, int]) -> None:
        """Work at `size` (W, H) px from the next frame on (adaptive resolution). Called
        from the effect thread, between frames."""


@runtime_checkable
class Tunable(Protocol):
    """An effect whose settings an operator can change live (the live dream's)."""

    def tune(self, field: str, value: float) -> None:
        """Set one setting; ValueError (saying what is allowed) when it is out of range."""

    def settings(self) -> dict[str, float]:
        """The settings `tune` takes, as they are now (a preset keeps them)."""


@runtime_checkable
class Attractable(Protocol):
    """An effect that changes with attract mode (the live dream zooms while it is on)."""

    def set_attract(self, on: bool) -> None: ...


@runtime_checkable
class TensorPainter(Protocol):
    """An effect that can paint torch tensors on its network's device (the torch engine),
    so its stabiliser blends there too (temporal/on_device.py)."""

    torch_device: str | None  # None: this instance paints on the host only

    def paint_tensor(self, cam: torch.Tensor, t: float) -> torch.Tensor:
        """[1, 3, H, W] in [0, 1] at the effect's size → the painting, same shape, there."""
        ...
