"""Shape ops (constants, reshape, transpose, (un)squeeze, concat, slice), padding with
mirroring that keeps channels-last, reductions and global pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from installation.runtime.onnx_torch.node import PAD_MODES, Node, Op, op, tensor, wide


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
