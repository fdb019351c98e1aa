"""Convolutions, batch normalisation, resizing, and int8 (de)quantisation of weights and
activations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from installation.runtime.onnx_torch.node import QRANGE, Node, Op, op


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
