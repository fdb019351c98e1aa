"""The graph: the needed nodes, constants folded once at build, the rest wired by slot
into an `OnnxGraph` module; loading a model file in one line of error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import onnx
import torch
from torch import Tensor, nn

from installation.errors import ModelError
from installation.runtime.onnx_torch.layers import Conv
from installation.runtime.onnx_torch.node import OPS, Node, Op, tensor


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
