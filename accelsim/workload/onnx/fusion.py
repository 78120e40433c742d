"""Operators that exporters write out in pieces, put back together before import.

- The exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)), has no ONNX operator before opset 20, so
  PyTorch writes it as Div, Erf, Add, Mul and Mul (ViT, BERT, Swin, ConvNeXt).
- GPT-2's tanh approximation, x * 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))), is
  Pow, three Mul, Add, Tanh, Add and two Mul.
- SiLU, x * sigmoid(x) (EfficientNet, YOLO, SwiGLU), is Sigmoid and Mul before opset 24's
  Swish.
- The RMS norm of T5 and LLaMA, x / sqrt(mean(x^2) + epsilon) * scale, is Pow, ReduceMean,
  Add, Sqrt, Div and two Mul before opset 23's RMSNormalization.

Imported piece by piece, each is several digital passes over the tensor beside a layer that
could apply it as its activation; on a chip whose buffer does not hold the tensor each pass
is a DRAM round trip (torchvision's ViT-B/16 cost 2.2 times the energy of the same network
built by hand on ania-like). Fused into one Gelu (approximate="tanh" for GPT-2's) or Swish
node, the importer applies it as the activation of the layer that computes x
(NodeOps.activation), as a hand-built model and inference compilers (onnxruntime's GELU
fusion, TensorRT) do; an RMSNormalization node becomes one `layer_norm` with
``center=False``.

A pattern is fused only when its intermediate tensors have no other reader and are not graph
outputs, so the fused graph computes exactly what the pieces did.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.workload.onnx.reading import onnx_module

_TOLERANCE = 1e-4     # relative, on the constants (exporters write float32)
_SUFFIX = {"Gelu": "gelu", "Swish": "silu", "RMSNormalization": "rms"}   # of fused node names


def fused(nodes: list, constants: dict[str, np.ndarray], outputs: set[str]) -> list:
    """``nodes`` (topologically ordered) with each GELU (exact or tanh), SiLU or RMS norm
    written in pieces replaced by one Gelu, Swish or RMSNormalization node, placed where its
    last piece was. ``constants``: initializers by name (Constant nodes are read here);
    ``outputs``: the graph's output names."""
    graph = _Graph(nodes, constants, outputs)
    matchers = {"Erf": _gelu, "Tanh": _gelu, "Sigmoid": _silu, "ReduceMean": _rms_norm}
    replaced: dict[int, object] = {}      # id of a piece -> the fused node (last piece) or None
    for node in nodes:
        matcher = matchers.get(node.op_type)
        match = matcher(graph, node) if matcher and id(node) not in replaced else None
        if match is None:
            continue
        pieces, inputs, out, op_type, attrs = match
        for piece in pieces:
            replaced[id(piece)] = None
        replaced[id(graph.producer[out])] = onnx_module().helper.make_node(
            op_type, inputs, [out], name=f"{node.name or out}#{_SUFFIX[op_type]}", **attrs)
    if not replaced:
        return nodes
    return [replaced[id(node)] if id(node) in replaced else node for node in nodes
            if replaced.get(id(node), node) is not None]


class _Graph:
    """Who produces and who reads each tensor, and the scalar constants, for the matchers."""

    def __init__(self, nodes: list, constants: dict, outputs: set[str]) -> None:
        self.constants, self.outputs = constants, outputs
        self.scalars = {name: float(np.asarray(value).reshape(-1)[0])
                        for name, value in constants.items()
                        if np.size(value) == 1 and np.asarray(value).dtype.kind in "biuf"}
        numpy_helper = onnx_module().numpy_helper
        self.producer, self.readers = {}, {}
        for node in nodes:
            if node.op_type == "Constant" and len(node.attribute) == 1 \
                    and node.attribute[0].name == "value":
                value = numpy_helper.to_array(node.attribute[0].t)
                if value.size == 1 and value.dtype.kind in "biuf":
                    self.scalars[node.output[0]] = float(value.reshape(-1)[0])
            for name in node.output:
                self.producer[name] = node
            for name in node.input:
                self.readers.setdefault(name, []).append(node)

    def only_reader(self, name: str):
        """The one node that reads ``name`` (not a graph output), else None."""
        found = self.readers.get(name, [])
        return found[0] if len(found) == 1 and name not in self.outputs else None

    def near(self, name: str, value: float) -> bool:
        return name in self.scalars and math.isclose(self.scalars[name], value,
                                                     rel_tol=_TOLERANCE)

    @staticmethod
    def other(node, name: str) -> str:
        """The input of a two-input ``node`` that is not ``name``."""
        a, b = node.input
        return b if a == name else a

    def scaled_by(self, name: str, op: str, value: float):
        """(node, operand) when ``name`` is op(operand, value) read only once, else None."""
        node = self.producer.get(name)
        if (node is None or node.op_type != op or len(node.input) != 2
                or self.only_reader(name) is None):
            return None
        a, b = node.input
        if self.near(b, value):
            return node, a
        return (node, b) if op == "Mul" and self.near(a, value) else None


def _gelu(g: _Graph, erf):
    """The GELU around ``erf`` (an Erf, or the Tanh of the tanh approximation) as fused()
    takes it, or None when it is not one."""
    if erf.op_type == "Erf":          # erf(x / sqrt 2)
        found = (g.scaled_by(erf.input[0], "Div", math.sqrt(2.0))
                 or g.scaled_by(erf.input[0], "Mul", math.sqrt(0.5)))
        if found is None:
            return None
        inner, x = [found[0]], found[1]
    else:                             # tanh(sqrt(2 / pi) * (x + 0.044715 x^3))
        found = g.scaled_by(erf.input[0], "Mul", math.sqrt(2.0 / math.pi))
        total = g.producer.get(found[1]) if found else None
        if total is None or total.op_type != "Add" or g.only_reader(found[1]) is None:
            return None
        inner = [found[0], total]
        for x, term in (total.input, tuple(reversed(total.input))):
            cubic = g.scaled_by(term, "Mul", 0.044715)
            power = g.producer.get(cubic[1]) if cubic else None
            if (power is not None and power.op_type == "Pow" and power.input[0] == x
                    and g.near(power.input[1], 3.0) and g.only_reader(cubic[1]) is not None):
                inner += [cubic[0], power]
                break
        else:
            return None
    one = g.only_reader(erf.output[0])
    if one is None or one.op_type != "Add" or not g.near(g.other(one, erf.output[0]), 1.0):
        return None
    pieces = [*inner, erf, one]
    need = {"x", "half"}
    current = one.output[0]
    while need:
        mul = g.only_reader(current)
        if mul is None or mul.op_type != "Mul" or len(mul.input) != 2:
            return None
        factor = g.other(mul, current)
        half_x = g.producer.get(factor)
        if factor == x and "x" in need:
            need.discard("x")
        elif g.near(factor, 0.5) and "half" in need:
            need.discard("half")
        elif (need == {"x", "half"} and half_x is not None and half_x.op_type == "Mul"
              and g.only_reader(factor) is mul and x in half_x.input
              and g.near(g.other(half_x, x), 0.5)):
            need.clear()
            pieces.append(half_x)
        else:
            return None
        pieces.append(mul)
        current = mul.output[0]
    attrs = {"approximate": "tanh"} if erf.op_type == "Tanh" else {}
    return pieces, [x], current, "Gelu", attrs


def _silu(g: _Graph, sigmoid):
    """x * sigmoid(x) (SiLU) as fused() takes it, or None: the sigmoid read by the Mul alone."""
    mul = g.only_reader(sigmoid.output[0])
    if (mul is None or mul.op_type != "Mul" or len(mul.input) != 2
            or sigmoid.input[0] not in mul.input):
        return None
    return [sigmoid, mul], [sigmoid.input[0]], mul.output[0], "Swish", {}


def _rms_norm(g: _Graph, mean):
    """An RMS norm over the last axis around ``mean`` as fused() takes it: ReduceMean(Pow(x,
    2)), Add(epsilon), Sqrt, then Div(1, .) or Reciprocal and Mul(x, .), or Div(x, .); then a
    Mul by a constant scale when there is one. None when it is not one."""
    attrs = {a.name: a for a in mean.attribute}
    axes = list(attrs["axes"].ints) if "axes" in attrs else (
        np.asarray(g.constants[mean.input[1]]).reshape(-1).tolist()
        if len(mean.input) > 1 and mean.input[1] in g.constants else None)
    if axes != [-1] or ("keepdims" in attrs and attrs["keepdims"].i != 1):
        return None
    square = g.producer.get(mean.input[0])
    if (square is None or g.only_reader(mean.input[0]) is not mean
            or square.op_type != "Pow" or not g.near(square.input[1], 2.0)):
        return None
    x = square.input[0]
    if x in g.constants or x in g.scalars:
        return None
    add = g.only_reader(mean.output[0])
    if add is None or add.op_type != "Add" or g.other(add, mean.output[0]) not in g.scalars:
        return None
    epsilon = g.scalars[g.other(add, mean.output[0])]
    root = g.only_reader(add.output[0])
    if root is None or root.op_type != "Sqrt":
        return None
    pieces = [square, mean, add, root]
    step = g.only_reader(root.output[0])
    if step is not None and step.op_type == "Div" and list(step.input) == [x, root.output[0]]:
        scaled = step
    elif step is not None and (step.op_type == "Reciprocal" or (
            step.op_type == "Div" and step.input[1] == root.output[0]
            and g.near(step.input[0], 1.0))):
        scaled = g.only_reader(step.output[0])
        if (scaled is None or scaled.op_type != "Mul"
                or g.other(scaled, step.output[0]) != x):
            return None
        pieces.append(step)
    else:
        return None
    pieces.append(scaled)
    out, inputs = scaled.output[0], [x]
    weight = g.only_reader(out)
    if weight is not None and weight.op_type == "Mul" and len(weight.input) == 2:
        scale = g.other(weight, out)
        if scale in g.constants and np.ndim(g.constants[scale]) == 1:
            pieces.append(weight)
            out, inputs = weight.output[0], [x, scale]
    return pieces, inputs, out, "RMSNormalization", {"axis": -1, "epsilon": epsilon}
