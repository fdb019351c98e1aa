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

Modules: node.py (a node as a factory sees it, the op registry), elementwise.py, shapes.py,
layers.py (convolution, normalisation, resizing, quantisation), graph.py (folding, wiring,
loading). Importing the package registers every op.
"""

from installation.runtime.onnx_torch import elementwise, layers, shapes  # noqa: F401 (the ops)
from installation.runtime.onnx_torch.graph import OnnxGraph, build, load, unsupported
from installation.runtime.onnx_torch.node import DTYPES, OPS

__all__ = ["DTYPES", "OPS", "OnnxGraph", "build", "load", "unsupported"]
