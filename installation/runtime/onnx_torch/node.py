"""One ONNX node as an op factory sees it (`Node`), the op run at its place (`Op`), the
registry of factories by op type (`OPS`, `op`), and the element types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import Tensor, nn

from installation.errors import ModelError

LOW = (torch.bfloat16, torch.float16)
DTYPES: dict[int, torch.dtype] = {  # ONNX TensorProto element types → torch
    onnx.TensorProto.FLOAT: torch.float32, onnx.TensorProto.DOUBLE: torch.float64,
    onnx.TensorProto.FLOAT16: torch.float16, onnx.TensorProto.BFLOAT16: torch.bfloat16,
    onnx.TensorProto.INT8: torch.int8, onnx.TensorProto.UINT8: torch.uint8,
    onnx.TensorProto.INT16: torch.int16, onnx.TensorProto.INT32: torch.int32,
    onnx.TensorProto.INT64: torch.int64, onnx.TensorProto.BOOL: torch.bool,
}
QRANGE = {torch.int8: (-128.0, 127.0), torch.uint8: (0.0, 255.0)}
PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}


def wide(x: Tensor) -> Tensor:
    """`x` in float32 if it is bf16/fp16 (for the ops kept in float32)."""
    return x.float() if x.dtype in LOW else x


def tensor(proto: onnx.TensorProto) -> Tensor:
    return torch.from_numpy(np.array(numpy_helper.to_array(proto), copy=True))


# -- one node, as its op's factory sees it ---------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A node's type, attributes and constant inputs (None: computed at run time, or absent)."""

    op: str
    name: str
    inputs: list[str]
    attrs: dict[str, Any]
    consts: list[Tensor | None]
    opset: int
    where: str  # the model file, for errors

    def given(self, i: int) -> bool:
        return i < len(self.inputs) and bool(self.inputs[i])

    def const(self, i: int, what: str) -> Tensor:
        value = self.consts[i] if self.given(i) else None
        if value is None:
            state = "computed at run time" if self.given(i) else "missing"
            raise ModelError(f"model {self.where}: {self.op} node '{self.name}' needs a "
                             f"constant {what} for the torch engine ({state})")
        return value

    def optional(self, i: int, what: str) -> Tensor | None:
        return self.const(i, what) if self.given(i) else None

    def ints(self, i: int | None, attr: str) -> list[int] | None:
        """Ints from input `i` (newer opsets; None: none) or else attribute `attr`."""
        if i is not None and self.given(i):
            return [int(v) for v in self.const(i, attr).reshape(-1).tolist()]
        value = self.attrs.get(attr)
        return None if value is None else [int(v) for v in value]

    def text(self, attr: str, default: str) -> str:
        value = self.attrs.get(attr, default)
        return value.decode() if isinstance(value, bytes) else str(value)

    def refuse(self, why: str) -> ModelError:
        return ModelError(f"model {self.where}: {self.op} node '{self.name}' {why}, which "
                          "the torch engine does not support")


class Op(nn.Module):
    """One node at run time: `fn(*data)`, `data` being the node's inputs at the positions
    in `takes` (None: all of them); the rest were read when the op was built."""

    def __init__(self, fn: Callable[..., Tensor], takes: tuple[int, ...] | None = (0,)) -> None:
        super().__init__()
        self.fn, self.takes = fn, takes

    def forward(self, *data: Tensor) -> Tensor:
        return self.fn(*data)


Factory = Callable[[Node], Op]
OPS: dict[str, Factory] = {}


def op(*names: str) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        OPS.update(dict.fromkeys(names, factory))
        return factory
    return register
