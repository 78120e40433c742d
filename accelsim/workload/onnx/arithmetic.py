"""The ONNX arithmetic operators (Add, Sub, Mul, Div with constants or between activations,
broadcasting, and Sum, Max, Mean over n inputs), as a mixin of the importer's node
handlers (see onnx.ops)."""

from __future__ import annotations

import numpy as np

from accelsim.workload.layers import Affine, Conv2d, Elementwise, Linear
from accelsim.workload.onnx.layouts import (
    Tensor,
    accelsim_shape,
    channel_axes,
    per_output_values,
)


class ArithmeticOps:
    """Arithmetic handlers; the importer provides error(), act(), const(), materialize() and
    the tensor tables they use."""

    def op_Add(self, node) -> None:
        self.arithmetic(node, "add")

    def op_Sub(self, node) -> None:
        self.arithmetic(node, "sub")

    def op_Mul(self, node) -> None:
        self.arithmetic(node, "mul")

    def op_Div(self, node) -> None:
        self.arithmetic(node, "div")

    def op_Sum(self, node) -> None:
        self.variadic(node, "add")

    def op_Max(self, node) -> None:
        self.variadic(node, "max")

    def op_Mean(self, node) -> None:
        """The sum, then a scalar scale of 1/n."""
        self.variadic(node, "add", scale=1.0 / len([n for n in node.input if n]))

    def variadic(self, node, op: str, scale: float | None = None) -> None:
        """Sum, Max or Mean of n activations of one shape (a single input passes through)."""
        if any(name in self.consts for name in node.input if name):
            return self.unknown(node, f"{node.op_type} with a constant input is not "
                                "supported")
        parts = [self.act(node, i) for i in range(len(node.input)) if node.input[i]]
        if any(p.shape != parts[0].shape for p in parts):
            return self.unknown(node, f"{node.op_type} of activations of different shapes "
                                f"({', '.join(str(list(p.shape)) for p in parts)}) is not "
                                "supported")
        first = parts[0]
        if len(parts) == 1:
            name = first.layer
        else:
            channels = channel_axes(self.shape_of[first.layer], first)
            sources = tuple(self.materialize(p, first.perm, channels, node.name or op)
                            for p in parts)
            name = self.add(Elementwise(self.label(node), sources, function=op))
        if scale is not None and len(parts) > 1:
            name = self.add(Affine(self.unique(f"{self.label(node)}.mean"), (name,),
                                   scale="scalar"))
            self.weights[name] = np.full((1, 1, 1), scale)
        self.tensors[node.output[0]] = Tensor(name, first.shape, first.perm)
        return None

    def broadcast(self, node, op: str, a: Tensor, b: Tensor) -> None:
        """Two activations of the same rank, one of which has size 1 where the other does
        not (a squeeze-excite scale, [C, 1, 1] times [C, H, W]): both laid out as the full
        one, so that the smaller one broadcasts in (C, H, W) as well."""
        if len(a.shape) != len(b.shape):
            raise self.error(node, f"broadcasting between activations of different ranks "
                             f"({list(a.shape)} and {list(b.shape)}) is not supported")
        try:
            out = tuple(int(d) for d in np.broadcast_shapes(a.shape, b.shape))
        except ValueError:
            raise self.error(node, f"activations {list(a.shape)} and {list(b.shape)} do not "
                             "broadcast") from None
        full, small = (a, b) if a.shape == out else (b, a)
        if full.shape != out:
            raise self.error(node, f"neither activation ({list(a.shape)}, {list(b.shape)}) "
                             "has the output's shape; this broadcast is not supported")
        channels = channel_axes(self.shape_of[full.layer], full)
        held = accelsim_shape(full.shape, full.perm, channels)
        small_shape = accelsim_shape(small.shape, full.perm, channels)
        if any(s not in (1, f) for s, f in zip(small_shape, held)):
            raise self.error(node, f"broadcasting {list(small.shape)} to {list(out)} splits "
                             "the channels of its layout; this broadcast is not supported")
        left = self.materialize(full, full.perm, channels, node.name or op)
        right = self.materialize(small, full.perm, channels, node.name or op)
        name = self.add(Elementwise(self.label(node), (left, right), function=op))
        self.tensors[node.output[0]] = Tensor(name, out, full.perm)
        return None

    def arithmetic(self, node, op: str) -> None:
        constants = [self.const(node, i) for i in range(2)]
        if constants[0] is None and constants[1] is None:
            if op in ("sub", "div"):
                return self.unknown(node, f"{node.op_type} of two activations is not "
                                    "supported")
            a, b = self.act(node, 0), self.act(node, 1)
            if a.shape != b.shape:
                return self.broadcast(node, op, a, b)
            channels = channel_axes(self.shape_of[a.layer], a)
            left = self.materialize(a, a.perm, channels, node.name or op)
            right = self.materialize(b, a.perm, channels, node.name or op)
            name = self.add(Elementwise(self.label(node), (left, right), function=op))
            self.tensors[node.output[0]] = Tensor(name, a.shape, a.perm)
            return None
        index = 0 if constants[0] is None else 1
        x, c = self.act(node, index), np.asarray(constants[1 - index], dtype=np.float64)
        if op == "div" and index == 1:
            return self.unknown(node, "a constant divided by an activation is not supported")
        full = self.per_image(node.output[0], node)
        if full != x.shape:
            raise self.error(node, f"the constant broadcasts {list(x.shape)} to {list(full)}")
        if c.ndim > len(x.shape):                      # its batch axis (of size 1, as checked)
            c = c.reshape(c.shape[1:])
        producer = self.layers[x.layer]
        per_output = per_output_values(c, x)
        if (op == "add" and per_output is not None and self.single_use(node.input[index])
                and isinstance(producer, (Conv2d, Linear)) and producer.activation is None):
            self.biases[x.layer] = self.biases.get(x.layer, 0.0) + per_output
            self.tensors[node.output[0]] = x
            return None
        value = np.broadcast_to(c, x.shape)
        scale = shift = None
        if op == "add":
            shift = value
        elif op == "mul":
            scale = value
        elif op == "div":
            if np.any(value == 0):
                raise self.error(node, "divides by zero")
            scale = 1.0 / value
        elif index == 0:                               # x - c
            shift = -value
        else:                                          # c - x
            scale, shift = np.full(x.shape, -1.0), value
        self.affine(node, x, node.input[index], scale, shift)
        return None

    def affine(self, node, x: Tensor, x_name: str, scale, shift) -> None:
        source = x.layer
        shape = self.shape_of[source]
        kinds, arrays = {}, {}
        for which, value in (("scale", scale), ("shift", shift)):
            if value is None:
                kinds[which] = "none"
                continue
            held = np.ascontiguousarray(value.transpose(x.perm)).reshape(shape)
            if np.all(held == held.flat[0]):
                kinds[which], arrays[which] = "scalar", held.reshape(-1)[:1].reshape(1, 1, 1)
            elif np.all(held == held[:, :1, :1]):
                kinds[which], arrays[which] = "channel", held[:, :1, :1].copy()
            else:
                kinds[which], arrays[which] = "full", held.copy()
        producer = self.layers[source]
        if (isinstance(producer, Affine) and producer.shift == "none"
                and producer.activation is None and kinds["scale"] == "none"
                and self.single_use(x_name)):
            self.replace_layer(source, shift=kinds["shift"])   # x * a + b in one layer
            self.biases[source] = arrays["shift"]
            self.tensors[node.output[0]] = x
            return
        name = self.add(Affine(self.label(node), (source,), scale=kinds["scale"],
                               shift=kinds["shift"]))
        if "scale" in arrays:
            self.weights[name] = arrays["scale"]
        if "shift" in arrays:
            self.biases[name] = arrays["shift"]
        self.tensors[node.output[0]] = Tensor(name, x.shape, x.perm)
