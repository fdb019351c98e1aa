"""One network call for a whole batch of requests, where the network allows it.

The shipped ONNX files fix a batch of 1. A copy with a free batch axis is made when every
input and output starts with an axis of 1, and each Reshape whose constant target starts
with 1 is told to keep the input's first axis instead (ONNX's 0); the copy must then give,
for two different requests run together, exactly what the file gives for each alone
(`check`), or the network is served request by request. A network with an input that has
no batch axis (the style weights of multistyle26, shared by the whole picture) is never
batched: two screens may ask for different styles.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from installation.models import sha256_file
from installation.runtime.network import Network

log = logging.getLogger(__name__)

BATCH = "batch"  # the free axis's name in the copy
TOLERANCE = 1e-4  # of the output's span: the same engine on the same numbers


def _leading_one(value: onnx.ValueInfoProto) -> bool:
    dims = value.type.tensor_type.shape.dim
    return len(dims) > 1 and dims[0].HasField("dim_value") and dims[0].dim_value == 1


def batch_free(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """A copy of `model` with a free batch axis (None when it has an input or output
    without a leading axis of 1)."""
    weights = {t.name: t for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in weights]
    if not all(_leading_one(v) for v in [*inputs, *model.graph.output]):
        return None
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    weights = {t.name: t for t in copy.graph.initializer}
    constants = {n.output[0]: n for n in copy.graph.node if n.op_type == "Constant"}
    for v in [*(v for v in copy.graph.input if v.name not in weights), *copy.graph.output]:
        dim = v.type.tensor_type.shape.dim[0]
        dim.Clear()
        dim.dim_param = BATCH
    del copy.graph.value_info[:]  # inner shapes named batch 1: let the engines infer them
    for node in copy.graph.node:
        if node.op_type != "Reshape" or len(node.input) < 2:
            continue
        if any(a.name == "allowzero" and a.i for a in node.attribute):
            continue  # 0 would mean a zero-sized axis there
        shape = node.input[1]
        if shape in weights:
            _keep_first_axis(weights[shape])
        elif shape in constants:
            for attr in constants[shape].attribute:
                if attr.name == "value":
                    _keep_first_axis(attr.t)
    return copy


def _keep_first_axis(tensor: onnx.TensorProto) -> None:
    target = numpy_helper.to_array(tensor).copy()
    if target.ndim == 1 and target.size > 0 and target[0] == 1:
        target[0] = 0  # Reshape: 0 keeps the input's size on that axis (the batch)
        tensor.CopyFrom(numpy_helper.from_array(target, tensor.name))


def batched_file(path: Path, cache_dir: Path) -> Path | None:
    """The batch-free copy of the model at `path`, written once under `cache_dir`
    (None when the network cannot have one)."""
    target = cache_dir / "batched" / f"{path.stem}-{sha256_file(path)[:16]}.onnx"
    if target.is_file():
        return target
    copy = batch_free(onnx.load(str(path)))
    if copy is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    # A file of its own, then renamed: two servers sharing the cache never mix writes.
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(fd)
    try:
        onnx.save(copy, partial)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(partial)
    return target


def check(single: Network, many: Network, feeds: Mapping[str, np.ndarray]) -> str:
    """Why `many` may not stand in for `single` ("" when it may): two different requests
    (the feeds, and the feeds reversed along their last axis) run together must each
    give what `single` gives alone."""
    other = {k: np.ascontiguousarray(v[..., ::-1]) for k, v in feeds.items()}
    alone = [[np.array(o) for o in single.run(f)] for f in (feeds, other)]
    together = many.run({k: np.concatenate([feeds[k], other[k]]) for k in feeds})
    for i, expected in enumerate(alone):
        for want, got in zip(expected, together, strict=True):
            part = got[i:i + 1]
            if part.shape != want.shape:
                return f"output shape {got.shape} for a batch of 2"
            span = float(want.max() - want.min()) or 1.0
            off = float(np.abs(part - want).max()) / span
            if off > TOLERANCE:
                return f"a batch of 2 is {off:.2g} of the span off"
    return ""
