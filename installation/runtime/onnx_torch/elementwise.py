"""Elementwise ops: arithmetic, comparisons, unary functions, clip, cast (ONNX
semantics; reductions of precision kept in float32, see the package doc)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from installation.runtime.onnx_torch.node import DTYPES, Node, Op, op, wide


def _div(a: Tensor, b: Tensor) -> Tensor:
    if a.is_floating_point() or b.is_floating_point():
        return torch.div(a, b)
    return torch.div(a, b, rounding_mode="trunc")  # ONNX's integer division truncates


BINARY: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], bool]] = {
    # op → (function, kept in float32)
    "Add": (torch.add, False), "Sub": (torch.sub, False), "Mul": (torch.mul, False),
    "Div": (_div, True), "Pow": (torch.pow, True),
}
UNARY: dict[str, tuple[Callable[[Tensor], Tensor], bool]] = {
    "Relu": (F.relu, False), "Sigmoid": (torch.sigmoid, False), "Tanh": (torch.tanh, False),
    "Sqrt": (torch.sqrt, True), "Reciprocal": (torch.reciprocal, True),
}


@op(*BINARY)
def _binary(node: Node) -> Op:
    fn, f32 = BINARY[node.op]
    exponent = node.consts[1] if node.op == "Pow" and node.given(1) else None
    if exponent is not None and exponent.numel() == 1 and exponent.is_floating_point():
        e = float(exponent)  # a Python exponent takes torch's fast path: 10x a tensor one
        return Op(lambda x: wide(x) * wide(x) if e == 2.0 else torch.pow(wide(x), e))
    if f32:
        return Op(lambda a, b: fn(wide(a), wide(b)), (0, 1))
    return Op(fn, (0, 1))


@op(*UNARY)
def _unary(node: Node) -> Op:
    fn, f32 = UNARY[node.op]
    return Op((lambda x: fn(wide(x))) if f32 else fn)


@op("Clip")
def _clip(node: Node) -> Op:
    if node.opset < 11:
        low, high = node.attrs.get("min"), node.attrs.get("max")
    else:
        lo, hi = node.optional(1, "min"), node.optional(2, "max")
        low, high = (None if lo is None else float(lo)), (None if hi is None else float(hi))
    return Op(lambda x: torch.clamp(x, low, high))


@op("Cast")
def _cast(node: Node) -> Op:
    to = DTYPES.get(int(node.attrs["to"]))
    if to is None:
        raise node.refuse(f"casts to element type {node.attrs['to']}")
    return Op(lambda x: x.to(to))
