"""ONNX → torch: a model file's graph run as torch ops (the torch engine, torchnet.py).

    model.onnx ─► constants: initializers, Constant nodes
          │
          ▼ every node whose inputs are all constant runs ONCE, here, and becomes a
          │ constant (shape arithmetic, pads, scales, int8 weights dequantised)
          ▼
    OnnxGraph: one small module per remaining node, wired by slot ─► forward(*inputs)

Only the ops our model files use are here, with ONNX semantics; any other op is a
ModelError at build time naming it and the file. What an op must know before it runs
(shapes, pads, axes, scales, weights) has to be constant after folding, so a run never
reads a tensor back to the host. QuantizeLinear/DequantizeLinear on activations are
fake-quantised in float32: rounded half-to-even onto the integer grid and back, as ONNX
Runtime's kernels compute them; the integers travel as floats between the two.

Precision (`OnnxGraph.compute_in`): convolutions run in bf16/fp16 with their weights cast
once; reductions, powers, roots, divisions and (de)quantisation run in float32, as torch's
autocast would; every other op follows torch's type promotion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as F
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


# -- elementwise ----------------------------------------------------------------------------


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


# -- shapes ---------------------------------------------------------------------------------


def constant(value: Tensor) -> Op:
    return Op(lambda: value, ())


@op("Constant")
def _constant(node: Node) -> Op:
    a = node.attrs
    if "value" in a:
        return constant(tensor(a["value"]))
    for key, dtype in (("value_float", torch.float32), ("value_floats", torch.float32),
                       ("value_int", torch.int64), ("value_ints", torch.int64)):
        if key in a:
            return constant(torch.tensor(a[key], dtype=dtype))
    raise node.refuse(f"holds {', '.join(a) or 'nothing'}")


@op("ConstantOfShape")
def _constant_of_shape(node: Node) -> Op:
    shape = [int(d) for d in node.const(0, "shape").tolist()]
    value = tensor(node.attrs["value"]) if "value" in node.attrs else torch.zeros(1)
    return constant(value.reshape(()).expand(shape).clone())


@op("Reshape")
def _reshape(node: Node) -> Op:
    shape = node.ints(1, "shape") or []
    if 0 in shape and not node.attrs.get("allowzero", 0):  # 0: the input's size there
        return Op(lambda x: x.reshape([x.shape[i] if d == 0 else d
                                       for i, d in enumerate(shape)]))
    return Op(lambda x: x.reshape(shape))


@op("Transpose")
def _transpose(node: Node) -> Op:
    perm = node.ints(None, "perm")
    return Op(lambda x: x.permute(perm if perm is not None else list(range(x.dim()))[::-1]))


@op("Unsqueeze")
def _unsqueeze(node: Node) -> Op:
    axes = node.ints(1, "axes") or []

    def unsqueeze(x: Tensor) -> Tensor:
        rank = x.dim() + len(axes)
        for axis in sorted(a % rank for a in axes):
            x = x.unsqueeze(axis)
        return x
    return Op(unsqueeze)


@op("Concat")
def _concat(node: Node) -> Op:
    axis = int(node.attrs["axis"])
    return Op(lambda *xs: torch.cat(xs, axis), None)


@op("Slice")
def _slice(node: Node) -> Op:
    if node.opset < 10:
        starts, ends = node.ints(None, "starts") or [], node.ints(None, "ends") or []
        axes, steps = node.ints(None, "axes"), None
    else:
        starts, ends = node.ints(1, "starts") or [], node.ints(2, "ends") or []
        axes, steps = node.ints(3, "axes"), node.ints(4, "steps")
    cuts = list(zip(axes or range(len(starts)), starts, ends, steps or [1] * len(starts),
                    strict=True))
    if any(step == 0 for *_, step in cuts):
        raise node.refuse("has a step of 0")

    def cut(x: Tensor) -> Tensor:
        for axis, first, last, step in cuts:
            dim = x.shape[axis]
            start, end = first + dim if first < 0 else first, last + dim if last < 0 else last
            lead = (slice(None),) * (axis % x.dim())
            if step > 0:  # ONNX clamps start and end to [0, dim]
                x = x[(*lead, slice(min(max(start, 0), dim), min(max(end, 0), dim), step))]
            else:  # ...to [0, dim - 1] and [-1, dim - 1]; torch has no negative steps
                start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
                x = x.flip(axis)[(*lead, slice(dim - 1 - start, dim - 1 - end, -step))]
        return x
    return Op(cut)


def _mirror_nhwc(x: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    """Reflect-padding of a channels-last [N, C, H, W] tensor into a channels-last one
    (torch's reflection_pad2d converts it to NCHW and back: three copies, not one)."""
    n, c, h, w = x.shape
    out = torch.empty((n, c, h + top + bottom, w + left + right), dtype=x.dtype,
                      device=x.device, memory_format=torch.channels_last)
    out[:, :, top:top + h, left:left + w] = x
    inner = slice(left, left + w)
    if top:
        out[:, :, :top, inner] = x[:, :, 1:top + 1].flip(2)
    if bottom:
        out[:, :, top + h:, inner] = x[:, :, h - 1 - bottom:h - 1].flip(2)
    if left:  # the columns from the padded rows: corners included
        out[:, :, :, :left] = out[:, :, :, left + 1:2 * left + 1].flip(3)
    if right:
        out[:, :, :, left + w:] = out[:, :, :, left + w - 1 - right:left + w - 1].flip(3)
    return out


def _mirror(x: Tensor, sides: dict[int, tuple[int, int]], mode: str) -> Tensor:
    """Reflect or edge padding of any dims (at most 3). torch pads only the last 1-3 dims
    of an [N, C, ...] tensor: the padded dims go last, the others are flattened into the
    channels, and all is put back."""
    padded = [d for d in range(x.dim()) if sides.get(d, (0, 0)) != (0, 0)]
    if not padded:
        return x
    if mode == "reflect" and x.dim() == 4 and set(padded) <= {2, 3} \
            and x.is_contiguous(memory_format=torch.channels_last):
        return _mirror_nhwc(x, *sides.get(2, (0, 0)), *sides.get(3, (0, 0)))
    kept = [d for d in range(x.dim()) if d not in padded]
    perm = kept + padded
    y = x.permute(perm)
    lead = y.shape[:len(kept)]
    y = y.reshape(1, -1, *y.shape[len(kept):])
    y = F.pad(y, [p for d in reversed(padded) for p in sides[d]], mode=mode)
    y = y.reshape(*lead, *y.shape[2:])
    return y.permute([perm.index(d) for d in range(x.dim())])


@op("Pad")
def _pad(node: Node) -> Op:
    mode = node.text("mode", "constant")
    if mode not in PAD_MODES:
        raise node.refuse(f"pads in mode '{mode}'")
    pads = (node.ints(None, "pads") if node.opset < 11 else node.ints(1, "pads")) or []
    value = float(node.attrs.get("value", 0.0)) if node.opset < 11 else 0.0
    if node.opset >= 11 and node.given(2):
        value = float(node.const(2, "constant_value"))
    n = len(pads) // 2
    axes = (node.ints(3, "axes") if node.opset >= 18 else None) or list(range(n))
    pairs = dict(zip(axes, zip(pads[:n], pads[n:], strict=True), strict=True))
    if mode != "constant" and (min(pads, default=0) < 0
                               or sum(p != (0, 0) for p in pairs.values()) > 3):
        raise node.refuse(f"{mode}-pads with negative pads or on more than 3 axes")

    def pad(x: Tensor) -> Tensor:
        rank = x.dim()
        sides = {a % rank: p for a, p in pairs.items()}
        if mode == "constant":
            flat = [p for d in range(rank - 1, -1, -1) for p in sides.get(d, (0, 0))]
            return F.pad(x, flat, value=value)
        return _mirror(x, sides, PAD_MODES[mode])
    return Op(pad)


@op("ReduceSum", "ReduceMean")
def _reduce(node: Node) -> Op:
    axes_input = node.opset >= (13 if node.op == "ReduceSum" else 18)
    axes = node.ints(1, "axes") if axes_input else node.ints(None, "axes")
    if not axes and node.attrs.get("noop_with_empty_axes", 0):
        raise node.refuse("reduces over no axes (noop_with_empty_axes)")
    fn = torch.sum if node.op == "ReduceSum" else torch.mean
    keep = bool(node.attrs.get("keepdims", 1))
    return Op(lambda x: fn(wide(x), dim=axes or list(range(x.dim())), keepdim=keep))


@op("GlobalAveragePool")
def _global_average_pool(node: Node) -> Op:
    return Op(lambda x: wide(x).mean(dim=list(range(2, x.dim())), keepdim=True))


# -- convolutions and normalisation -----------------------------------------------------------


class Conv(Op):
    """A convolution or its transpose: the heavy op, run in its weights' dtype."""

    weight: Tensor
    bias: Tensor | None

    def __init__(self, fn: Callable[..., Tensor], weight: Tensor, bias: Tensor | None,
                 args: dict[str, Any], before: list[int] | None,
                 crop: list[tuple[int, int]] | None) -> None:
        super().__init__(fn)
        self.args, self.before, self.crop = args, before, crop
        self.int8 = False  # fed by DequantizeLinear: kept in float32, on its int8 grid
        self.register_buffer("weight", weight.float())
        self.register_buffer("bias", None if bias is None else bias.float())

    def forward(self, *data: Tensor) -> Tensor:
        x = data[0].to(self.weight.dtype)
        if self.before is not None:  # uneven zero padding, ahead of the convolution
            x = F.pad(x, self.before)
        y = self.fn(x, self.weight, self.bias, **self.args)
        if self.crop is not None:  # uneven pads of a transposed convolution
            for axis, (b, e) in enumerate(self.crop, start=2):
                y = y.narrow(axis, b, y.shape[axis] - b - e)
        return y


@op("Conv", "ConvTranspose")
def _conv(node: Node) -> Op:
    weight, bias = node.const(1, "weight"), node.optional(2, "bias")
    k = weight.dim() - 2
    if k not in (1, 2, 3):
        raise node.refuse(f"has {k} spatial dimensions")
    if node.text("auto_pad", "NOTSET") not in ("NOTSET", "VALID") or "output_shape" in \
            node.attrs:
        raise node.refuse("sets auto_pad or output_shape")
    pads = node.ints(None, "pads") or [0] * 2 * k
    begin, end = pads[:k], pads[k:]
    even = begin == end
    args: dict[str, Any] = {"stride": node.ints(None, "strides") or [1] * k,
                            "dilation": node.ints(None, "dilations") or [1] * k,
                            "groups": int(node.attrs.get("group", 1)),
                            "padding": begin if even else 0}
    fn: Callable[..., Tensor]
    if node.op == "Conv":
        fn = (F.conv1d, F.conv2d, F.conv3d)[k - 1]
        before = None if even else [p for d in range(k - 1, -1, -1) for p in (begin[d], end[d])]
        return Conv(fn, weight, bias, args, before, None)
    args["output_padding"] = node.ints(None, "output_padding") or [0] * k
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[k - 1]
    return Conv(fn, weight, bias, args, None, None if even else list(zip(begin, end,
                                                                           strict=True)))


class Scaled(Op):
    """fn(x, scale, shift): constants per channel along `axis`, or single ones."""

    scale: Tensor
    shift: Tensor

    def __init__(self, fn: Callable[..., Tensor], scale: Tensor, shift: Tensor,
                 axis: int) -> None:
        super().__init__(fn)
        self.axis = axis
        self.register_buffer("scale", scale.float())
        self.register_buffer("shift", shift.float())

    def forward(self, *data: Tensor) -> Tensor:
        x = data[0]
        if self.scale.dim() == 0:
            return self.fn(x, self.scale, self.shift)
        shape = [-1 if d == self.axis % x.dim() else 1 for d in range(x.dim())]
        return self.fn(x, self.scale.view(shape), self.shift.view(shape))


@op("BatchNormalization")
def _batch_norm(node: Node) -> Op:
    """Inference-mode batch norm as one multiply-add per channel (axis 1)."""
    if node.attrs.get("training_mode", 0):
        raise node.refuse("runs in training mode")
    gamma, beta = node.const(1, "scale").double(), node.const(2, "bias").double()
    mean, var = node.const(3, "mean").double(), node.const(4, "variance").double()
    scale = gamma / torch.sqrt(var + float(node.attrs.get("epsilon", 1e-5)))
    return Scaled(lambda x, s, b: torch.addcmul(b, x, s), scale, beta - mean * scale, 1)


# -- resizing -------------------------------------------------------------------------------


@op("Resize")
def _resize(node: Node) -> Op:
    mode = node.text("mode", "nearest")
    coords = node.text("coordinate_transformation_mode", "half_pixel")
    nearest = node.text("nearest_mode", "round_prefer_floor")
    if node.attrs.get("antialias", 0) or node.attrs.get("axes") \
            or node.attrs.get("exclude_outside", 0):
        raise node.refuse("uses antialias, axes or exclude_outside")
    scales_t: Tensor | None = None
    sizes_t: Tensor | None = None
    if node.opset < 11:
        scales_t, coords, nearest = node.const(1, "scales"), "asymmetric", "floor"
    else:
        scales_t, sizes_t = node.optional(2, "scales"), node.optional(3, "sizes")
    scales = [float(s) for s in scales_t.tolist()] if scales_t is not None else []
    sizes = [int(s) for s in sizes_t.tolist()] if sizes_t is not None else []
    if not (scales or sizes) or (scales and scales[:2] != [1.0, 1.0]):
        raise node.refuse("has no scales or sizes, or resizes the batch or channel axis")
    k = len(scales or sizes) - 2
    # ONNX coordinate modes → torch's: nearest with asymmetric/floor is torch's 'nearest',
    # half_pixel/round_prefer_ceil its 'nearest-exact'; linear half_pixel is
    # align_corners=False (both clamp at the edges), align_corners is align_corners=True.
    align: bool | None = None
    if mode == "nearest" and (coords, nearest) == ("asymmetric", "floor"):
        how = "nearest"
    elif mode == "nearest" and (coords, nearest) == ("half_pixel", "round_prefer_ceil"):
        how = "nearest-exact"
    elif mode == "linear" and coords in ("half_pixel", "align_corners") and 1 <= k <= 3:
        how, align = ("linear", "bilinear", "trilinear")[k - 1], coords == "align_corners"
    else:
        raise node.refuse(f"resizes in mode {mode} with {coords}/{nearest}")
    if scales and all(s == 1.0 for s in scales):
        return Op(lambda x: x)
    factor, size = (scales[2:] or None), (None if scales else sizes[2:])
    return Op(lambda x: F.interpolate(x, size=size, scale_factor=factor, mode=how,
                                      align_corners=align))


# -- int8 quantisation ----------------------------------------------------------------------


def _flat(t: Tensor) -> Tensor:
    return t.reshape(()) if t.numel() == 1 else t.reshape(-1)


@op("QuantizeLinear", "DequantizeLinear")
def _quantize(node: Node) -> Op:
    scale = _flat(node.const(1, "scale"))
    zero = node.optional(2, "zero point")
    zero = _flat(zero) if zero is not None else torch.zeros((), dtype=torch.uint8)
    axis = int(node.attrs.get("axis", 1))
    if node.op == "DequantizeLinear":
        return Scaled(lambda x, s, z: (x.float() - z) * s, scale, zero, axis)
    if zero.dtype not in QRANGE:
        raise node.refuse(f"quantises to {zero.dtype}")
    low, high = QRANGE[zero.dtype]
    return Scaled(lambda x, s, z: torch.clamp(torch.round(x.float() / s) + z, low, high),
                  scale, zero, axis)


# -- the graph ------------------------------------------------------------------------------


class OnnxGraph(nn.Module):
    """An ONNX graph as torch ops: `forward(*inputs)` in the model's input order → its
    outputs, in order. Slots: inputs, then the constants steps read, then step outputs."""

    def __init__(self, ops: list[Op], wiring: list[tuple[list[int], int, list[int]]],
                 constants: list[Tensor], n_inputs: int, results: list[int]) -> None:
        super().__init__()
        self.ops = nn.ModuleList(ops)
        self.wiring = wiring  # per op: slots read, slot written, slots freed after it
        self.n_inputs, self.results = n_inputs, results
        self.n_slots = n_inputs + len(constants) + len(ops)
        self.constant_names = [f"constant{i}" for i in range(len(constants))]
        for name, value in zip(self.constant_names, constants, strict=True):
            self.register_buffer(name, value)

    def forward(self, *inputs: Tensor) -> list[Tensor]:
        env: list[Any] = [*inputs, *(getattr(self, n) for n in self.constant_names)]
        env.extend([None] * (self.n_slots - len(env)))
        for step, (reads, writes, frees) in zip(self.ops, self.wiring, strict=True):
            env[writes] = step(*[env[i] for i in reads])
            for i in frees:  # its last reader has run: the memory can go
                env[i] = None
        return [env[i] for i in self.results]

    def convs(self) -> list[Conv]:
        return [s for s in self.ops if isinstance(s, Conv)]

    def compute_in(self, dtype: torch.dtype) -> None:
        """Convolutions in `dtype` (bf16, fp16) from now on, their weights cast once; but
        those of an int8 model, whose products would leave the integer grid."""
        for conv in self.convs():
            if conv.int8:
                continue
            conv.weight = conv.weight.to(dtype)
            conv.bias = None if conv.bias is None else conv.bias.to(dtype)

    def channels_last(self) -> None:
        """2-D convolution weights channels-last: their outputs follow (oneDNN's and cuDNN's
        fastest layout; reflect-padding keeps it, see `_mirror_nhwc`)."""
        for conv in self.convs():
            if conv.weight.dim() == 4:
                conv.weight = conv.weight.contiguous(memory_format=torch.channels_last)


def unsupported(model: onnx.ModelProto) -> list[str]:
    """The graph's op types this converter lacks (domain-qualified outside ai.onnx)."""
    return sorted({n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
                   for n in model.graph.node
                   if n.domain not in ("", "ai.onnx") or n.op_type not in OPS})


def _needed(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The nodes the outputs depend on, in the file's (topological) order."""
    wanted = {o.name for o in model.graph.output}
    kept: list[onnx.NodeProto] = []
    for node in reversed(model.graph.node):
        if any(o in wanted for o in node.output):
            kept.append(node)
            wanted.update(i for i in node.input if i)
    return kept[::-1]


def build(model: onnx.ModelProto, where: str) -> OnnxGraph:
    """The graph of `model` as an OnnxGraph on the CPU in float32, constants folded.
    ModelError (one line, naming `where`) for an op, or a use of one, it cannot run."""
    missing = unsupported(model)
    if missing:
        raise ModelError(f"model {where} uses ONNX ops the torch engine does not support: "
                         f"{', '.join(missing)}")
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for n in model.graph.node for a in n.attribute):
        raise ModelError(f"model {where} has subgraphs, which the torch engine does not run")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    consts: dict[str, Tensor] = {i.name: tensor(i) for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in consts]
    steps: list[tuple[Op, list[str], str]] = []
    dequantized: set[str] = set()
    with torch.no_grad():
        for proto in _needed(model):
            out = proto.output[0]
            if len([o for o in proto.output if o]) != 1 or not out:
                raise ModelError(f"model {where}: {proto.op_type} node '{proto.name}' has "
                                 f"{len(proto.output)} outputs; the torch engine takes one")
            node = Node(proto.op_type, proto.name, list(proto.input),
                        {a.name: onnx.helper.get_attribute_value(a) for a in proto.attribute},
                        [consts.get(i) if i else None for i in proto.input], opset, where)
            step = OPS[proto.op_type](node)
            if proto.op_type == "DequantizeLinear":
                dequantized.add(out)
            if isinstance(step, Conv):
                step.int8 = proto.input[0] in dequantized
            takes = range(len(proto.input)) if step.takes is None else step.takes
            reads = [proto.input[i] for i in takes if i < len(proto.input) and proto.input[i]]
            if all(r in consts for r in reads):  # folded, once, here
                consts[out] = step(*[consts[r] for r in reads])
            else:
                steps.append((step, reads, out))
    return _wire(steps, inputs, [o.name for o in model.graph.output], consts, where)


def _wire(steps: Sequence[tuple[Op, list[str], str]], inputs: list[str], outputs: list[str],
          consts: dict[str, Tensor], where: str) -> OnnxGraph:
    """Slot numbers for every value; each slot freed after its last reader."""
    slot = {name: i for i, name in enumerate(inputs)}
    used = [n for n in dict.fromkeys([r for _, reads, _ in steps for r in reads] + outputs)
            if n in consts and n not in slot]
    for name in used:
        slot[name] = len(slot)
    for _, _, out in steps:
        slot[out] = len(slot)
    unknown = [n for _, reads, _ in steps for n in reads if n not in slot]
    unknown += [n for n in outputs if n not in slot]
    if unknown:
        raise ModelError(f"model {where}: value '{unknown[0]}' is read but never computed")
    last = {slot[name]: k for k, (_, reads, _) in enumerate(steps) for name in reads}
    kept = {slot[n] for n in outputs} | {slot[n] for n in used}  # buffers stay
    wiring = [([slot[r] for r in reads], slot[out],
               sorted({slot[r] for r in reads if last[slot[r]] == k} - kept))
              for k, (_, reads, out) in enumerate(steps)]
    return OnnxGraph([s for s, _, _ in steps], wiring, [consts[n] for n in used], len(inputs),
                     [slot[n] for n in outputs])


def load(path: str) -> onnx.ModelProto:
    """The model file at `path` (ModelError, one line, when it cannot be read)."""
    try:
        return onnx.load(path)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"model {path} cannot be read ({first[:160]}); "
                         "run `python main.py models pull` to restore it") from None
