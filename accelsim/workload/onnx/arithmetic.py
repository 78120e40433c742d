"""The ONNX arithmetic operators (Add, Sub, Mul, Div with constants or between activations,
broadcasting, Sum, Max, Mean over n inputs, and the product of two activations), as a
mixin of the importer's node handlers (see onnx.ops)."""

from __future__ import annotations

import math

import numpy as np

from accelsim.workload.layers import (
    Activation,
    Affine,
    Constant,
    Conv2d,
    Elementwise,
    Linear,
    MatMul,
)
from accelsim.workload.onnx.layouts import (
    Tensor,
    accelsim_shape,
    channel_axes,
    in_same_order,
    per_output_values,
    transposed,
)
from accelsim.workload.onnx.reading import INTEGER_TYPES


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
        """Division; between integers ONNX truncates the quotient toward zero."""
        self.arithmetic(node, "div")
        if self.element_types.get(node.output[0]) in INTEGER_TYPES:
            self.truncate(node)

    def truncate(self, node) -> None:
        """The node's output truncated toward zero (integer arithmetic): fused into the
        layer that computes it, else an activation layer of its own."""
        x = self.tensors[node.output[0]]
        producer = self.layers[x.layer]
        if getattr(producer, "activation", "") is None and producer.kind != "input":
            self.replace_layer(x.layer, activation="to_int")
            return
        name = self.add(Activation(self.unique(f"{self.label(node)}.truncate"), (x.layer,),
                                   function="to_int"))
        self.tensors[node.output[0]] = Tensor(name, x.shape, x.perm, x.batched)

    def matmul(self, node, a: Tensor, b: Tensor) -> None:
        """a @ b of two activations over their last two axes (attention's products), their
        batch axes broadcast: a ``b`` shared by every matrix of ``a`` (LambdaNet's keys) is
        one product over all of a's rows; any other broadcast copies the smaller operand to
        the full batch (a take) first."""
        rank = max(len(a.shape), len(b.shape))
        if min(len(a.shape), len(b.shape)) < 2 or a.shape[-1] != b.shape[-2]:
            raise self.error(node, f"product of {list(a.shape)} and {list(b.shape)}: needs "
                             "matching inner sizes")
        a, b = self.widen(a, rank), self.widen(b, rank)
        try:
            batch_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise self.error(node, f"product of {list(a.shape)} and {list(b.shape)}: the "
                             "batch axes do not broadcast") from None
        shared = (math.prod(b.shape[:-2]) == 1 < math.prod(a.shape[:-2])
                  and a.shape[:-2] == batch_shape)
        if not shared:                            # each operand copied to the full batch
            a, b = (t if t.shape[:-2] == batch_shape else self.expand(
                node, t, (*batch_shape, *t.shape[-2:]), output=f"{node.output[0]}#{which}")
                for which, t in (("a", a), ("b", b)))
        batch = tuple(range(rank - 2))
        heads = 1 if shared else math.prod(a.shape[:-2])
        out_perm = (rank - 1, *batch, rank - 2) if shared else (*batch, rank - 1, rank - 2)
        left = self.materialize(a, out_perm, 1 if shared else len(batch) + 1,
                                node.name or "matmul")
        keys = (*batch, rank - 2, rank - 1)        # B held as N vectors of K (transpose_b)
        values = (*batch, rank - 1, rank - 2)      # B held as K vectors of N
        transpose_b = not in_same_order(b, values) or in_same_order(b, keys)
        right = self.materialize(b, keys if transpose_b else values, len(batch) + 1,
                                 node.name or "matmul")
        name = self.add(MatMul(self.label(node), (left, right), heads=heads,
                               transpose_b=transpose_b))
        self.put(node.output[0], name, (*a.shape[:-1], b.shape[-1]), out_perm)
        return None

    def constant_times(self, node, c: np.ndarray, x: Tensor) -> None:
        """C @ X of a constant and an activation (learned queries against the keys of an
        image: DETR's first decoder layer, Perceiver's latents): a linear map of each
        column of X. One matrix C for all of X's matrices is a linear layer over X's rows as
        channels; one per matrix (per head) a 1 x 1 convolution grouped by them."""
        extra = c.ndim - len(x.shape) - x.batched       # C's leading ones broadcast X up
        if extra > 0 and all(d == 1 for d in c.shape[:extra]):
            x = self.widen(x, len(x.shape) + extra)
        rank = len(x.shape)
        if rank < 2 or c.ndim < 2 or c.shape[-1] != x.shape[-2] or c.ndim > rank + x.batched:
            raise self.error(node, f"product of a constant of shape {list(c.shape)} and an "
                             f"activation of per-image shape {list(x.shape)} is not supported")
        groups, (m, k) = math.prod(x.shape[:-2]), c.shape[-2:]
        matrices = c.reshape(-1, m, k)
        if self.batch > 1 and len(matrices) == self.batch * groups and groups > 1:
            # folded with the batch (DETR's learned queries repeated over it, at batch 2)
            matrices = self.one_image(node, matrices, "the constant")
        if len(matrices) == 1 or np.all(matrices == matrices[:1]):
            perm = (rank - 2, *range(rank - 2), rank - 1)
            source = self.materialize(x, perm, 1, node.name or "matmul")
            name = self.add(Linear(self.label(node), (source,), out_features=m))
            self.weights[name] = matrices[0]
        elif len(matrices) == groups:
            perm = tuple(range(rank))
            source = self.materialize(x, perm, rank - 1, node.name or "matmul")
            name = self.add(Conv2d(self.label(node), (source,), out_channels=groups * m,
                                   kernel=(1, 1), groups=groups))
            self.weights[name] = matrices.reshape(groups * m, k, 1, 1)
        else:
            raise self.error(node, f"a constant of {len(matrices)} matrices times an "
                             f"activation of {groups}: not supported")
        self.put(node.output[0], name, (*x.shape[:-2], m, x.shape[-1]), perm, like=x)
        return None

    def times_constant(self, node, x: Tensor, b: np.ndarray) -> None:
        """X @ B of an activation and a stack of constant matrices (attention whose keys
        come from a constant, as a decoder's over a learned memory): (Bᵀ Xᵀ)ᵀ, a constant
        times an activation, the two transposes views of the layout. A stack folded with
        the batch in it is taken as one image's when every image's is the same."""
        rank = len(x.shape)
        if b.ndim == rank + 1 and x.batched and b.shape[0] == self.batch:
            b = self.one_image(node, b, "the constant right operand")[0]
        if rank < 2:
            raise self.error(node, f"product of an activation of per-image shape "
                             f"{list(x.shape)} and a constant of shape {list(b.shape)} is "
                             "not supported")
        swap = (*range(rank - 2), rank - 1, rank - 2)
        self.constant_times(node, np.swapaxes(b, -1, -2), transposed(x, swap))
        y = self.tensors[node.output[0]]
        order = (*range(len(y.shape) - 2), len(y.shape) - 1, len(y.shape) - 2)
        self.tensors[node.output[0]] = transposed(y, order)

    def one_image(self, node, value: np.ndarray, what: str) -> np.ndarray:
        """One image's part of a constant whose first axis holds the batch as its outermost
        factor (an exporter folded a repeat over the batch into it); refused when the
        images' parts differ."""
        parts = value.reshape(self.batch, len(value) // self.batch, *value.shape[1:])
        if np.any(parts != parts[:1]):
            raise self.error(node, f"{what} differs between the images of the batch (a "
                             "constant that differs between the images of a batch is not "
                             "supported)")
        return parts[0]

    def op_Sum(self, node) -> None:
        self.variadic(node, "add")

    def op_Max(self, node) -> None:
        self.variadic(node, "max")

    def op_Mean(self, node) -> None:
        """The sum, then a scalar scale of 1/n."""
        self.variadic(node, "add", scale=1.0 / len([n for n in node.input if n]))

    def variadic(self, node, op: str, scale: float | None = None) -> None:
        """Sum, Max, Min or Mean of n operands (a single input passes through). Activations
        of one shape are combined as they are laid out; constants or shapes that broadcast
        go through pointwise(); Mean's 1/n scale follows either."""
        given = [i for i, n in enumerate(node.input) if n]
        constant = any(node.input[i] in self.consts for i in given)
        parts = [self.act(node, i) for i in given if node.input[i] not in self.consts]
        if len(given) > 1 and (constant or any(p.shape != parts[0].shape for p in parts)):
            self.pointwise(node, op)
        else:
            first = parts[0]
            name = first.layer
            if len(parts) > 1:
                channels = channel_axes(self.shape_of[first.layer], first)
                sources = tuple(self.materialize(p, first.perm, channels, node.name or op)
                                for p in parts)
                name = self.add(Elementwise(self.label(node), sources, function=op))
            self.put(node.output[0], name, first.shape, first.perm)
        x = self.tensors.get(node.output[0])
        if scale is not None and len(given) > 1 and x is not None:
            name = self.add(Affine(self.unique(f"{self.label(node)}.mean"), (x.layer,),
                                   scale="scalar"))
            self.weights[name] = np.full((1, 1, 1), scale)
            self.tensors[node.output[0]] = Tensor(name, x.shape, x.perm, x.batched)
        return None

    def arithmetic(self, node, op: str) -> None:
        constants = [self.const(node, i) for i in range(2)]
        if constants[0] is None and constants[1] is None:
            if op in ("sub", "div"):
                return self.pointwise(node, op)
            a, b = self.act(node, 0), self.act(node, 1)
            if a.shape != b.shape:
                return self.pointwise(node, op)
            channels = channel_axes(self.shape_of[a.layer], a)
            left = self.materialize(a, a.perm, channels, node.name or op)
            right = self.materialize(b, a.perm, channels, node.name or op)
            name = self.add(Elementwise(self.label(node), (left, right), function=op))
            self.put(node.output[0], name, a.shape, a.perm)
            return None
        index = 0 if constants[0] is None else 1
        x, c = self.act(node, index), np.asarray(constants[1 - index], dtype=np.float64)
        full = self.per_image(node.output[0], node, x.batched)
        if (op == "div" and index == 1) or full != x.shape:
            # a constant over an activation, or a constant larger than the activation
            return self.pointwise(node, op)
        try:
            if c.ndim > len(x.shape) and np.all(c == c[:1]):   # its batch axis, one image's
                c = c[0]                                     # values repeated (an expand)
            value = np.broadcast_to(c, x.shape)
        except ValueError:
            raise self.error(node, f"a constant of shape {list(c.shape)} does not broadcast "
                             f"to one image's {list(x.shape)} (a constant that differs "
                             "between the images of a batch is not supported)") from None
        producer = self.layers[x.layer]
        per_output = per_output_values(c, x)
        if (op == "add" and per_output is not None and self.single_use(node.input[index])
                and isinstance(producer, (Conv2d, Linear)) and producer.activation is None):
            self.biases[x.layer] = self.biases.get(x.layer, 0.0) + per_output
            self.tensors[node.output[0]] = x
            return None
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
        if 0 in shape:                    # an empty tensor scaled or shifted is itself
            self.tensors[node.output[0]] = x
            return
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
        self.put(node.output[0], name, x.shape, x.perm)

    # -- any elementwise function, with broadcasting and constant operands ------------------
    def op_Equal(self, node) -> None:
        self.pointwise(node, "equal")

    def op_Greater(self, node) -> None:
        self.pointwise(node, "greater")

    def op_GreaterOrEqual(self, node) -> None:
        self.pointwise(node, "greater_equal")

    def op_Less(self, node) -> None:
        self.pointwise(node, "less")

    def op_LessOrEqual(self, node) -> None:
        self.pointwise(node, "less_equal")

    def op_And(self, node) -> None:
        self.pointwise(node, "and")

    def op_Or(self, node) -> None:
        self.pointwise(node, "or")

    def op_Xor(self, node) -> None:
        self.pointwise(node, "xor")

    def op_Pow(self, node) -> None:
        self.pointwise(node, "pow")

    def op_Mod(self, node) -> None:
        """The remainder (CANINE's hashed character embeddings: ids times a prime, modulo
        the buckets): with the divisor's sign, or the dividend's when fmod=1."""
        self.pointwise(node, "fmod" if int(self.attrs(node).get("fmod", 0)) else "mod")

    def op_Min(self, node) -> None:
        self.variadic(node, "min")

    def op_Where(self, node) -> None:
        self.pointwise(node, "where")

    def op_Expand(self, node) -> None:
        """An activation broadcast to a larger shape: a copy of each entry per place it is
        repeated (a ``take`` of the input's channels, the grown axes among them; exact), or a
        pass-through when the shape does not grow."""
        x = self.act(node)
        if self.full_shape(node.output[0], node) == self.full_shape(node.input[0], node):
            self.tensors[node.output[0]] = x
            return None
        out = self.per_image(node.output[0], node, x.batched)
        if len(out) < len(x.shape):
            return self.unknown(node, f"Expand to {list(out)}: not supported")
        return self.expand(node, self.widen(x, len(out)), tuple(out))

    # -- QDQ models (INT8 networks as onnxruntime's and TensorRT's tools write them) ---------
    def op_QuantizeLinear(self, node) -> None:
        """An activation quantized for the DequantizeLinear after it. The chip holds its
        activations at its own widths (value mode quantizes them as the device does), so the
        pair moves and computes nothing, except where its range starts at zero: that is the
        ReLU the quantizer folded into it (onnxruntime removes a Relu or Clip before a uint8
        QuantizeLinear whose zero point is 0), imported as a relu. Quantized weights are
        folded to their values."""
        from onnx import helper
        scale, zero = self.const(node, 1), self.const(node, 2)
        if scale is None:
            raise self.error(node, "the scale must be a constant")
        target = self.attrs(node).get("output_dtype", 0)
        dtype = (np.asarray(zero).dtype if zero is not None else
                 helper.tensor_dtype_to_np_dtype(target) if target else np.dtype(np.uint8))
        if not np.issubdtype(dtype, np.integer):
            return self.unknown(node, f"QuantizeLinear to {dtype} is not supported (integer "
                                "types only)")
        lowest = (np.iinfo(dtype).min - np.asarray(0 if zero is None else zero, np.float64)
                  ) * np.asarray(scale, np.float64)
        at_zero = np.asarray(lowest == 0)
        signed = not self.nonnegative(self.act(node).layer)
        if at_zero.all() and signed:
            self.activation(node, "relu")
        elif at_zero.all() or not at_zero.any() or not signed:
            self.tensors[node.output[0]] = self.act(node)
        else:
            return self.unknown(node, "QuantizeLinear whose range starts at zero for some "
                                "channels and below it for others is not supported")
        self.quantized.add(node.output[0])
        return None

    def nonnegative(self, layer: str) -> bool:
        """Whether ``layer``'s values cannot be negative: a relu's or relu6's output, or
        pooled, gathered or viewed from such outputs only (a ReLU after them is a no-op)."""
        for _ in range(64):
            held = self.layers[layer]
            if getattr(held, "activation", None) in ("relu", "relu6") or (
                    held.kind == "activation" and held.function in ("relu", "relu6")):
                return True
            moves = held.kind in ("pool2d", "global_avg_pool", "flatten", "reshape", "slice",
                                  "take", "upsample", "concat") or (
                held.kind == "pad2d" and held.fill == "zero")
            if not moves or not held.inputs:
                return False
            if len(held.inputs) > 1:
                return all(self.nonnegative(source) for source in held.inputs)
            layer = held.inputs[0]
        return False

    def op_DequantizeLinear(self, node) -> None:
        if node.input[0] not in self.quantized:
            return self.unknown(node, "DequantizeLinear of an activation is supported after a "
                                "QuantizeLinear only (a QDQ pair); integer operators "
                                "(QLinearConv, MatMulInteger) are not")
        self.tensors[node.output[0]] = self.act(node)

    def pointwise(self, node, function: str, inputs: list[str] | None = None) -> None:
        """An elementwise function of activations and constants, numpy-broadcast to the
        output: every operand laid out as the largest activation, constants read like
        inputs (a scalar as one value)."""
        names = [n for n in (node.input if inputs is None else inputs) if n]
        acts = [self.tensors[n] for n in names if n in self.tensors]
        if not acts:
            raise self.error(node, "has no activation input")
        shapes = [self.full_shape(n, node) if n in self.tensors
                  else np.shape(self.consts[n]) for n in names]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise self.error(node, f"its inputs of shapes {', '.join(map(str, map(list, shapes)))}"
                             " do not broadcast") from None
        full = max(acts, key=lambda t: (math.prod(t.shape), len(t.shape)))
        out = self.per_image(node.output[0], node, full.batched)
        if len(out) < len(full.shape):
            return self.unknown(node, f"{node.op_type} to {list(out)}: not supported")
        if math.prod(out) != math.prod(full.shape):
            full, names = self.output_sized(node, function, names, full, out)
            if full is None:                  # an Expand: the expansion is the result
                return None
        full = self.widen(full, len(out))
        channels = channel_axes(self.shape_of[full.layer], full)
        held = accelsim_shape(out, full.perm, channels)
        sources = []
        for n in names:
            tensor = (self.operand_constant(node, self.consts[n], full, out)
                      if n in self.consts else self.tensors[n])
            tensor = self.widen(tensor, len(out))
            small = accelsim_shape(tensor.shape, full.perm, channels)
            inner = [tensor.shape[a] for a in full.perm[:channels]]
            outer = next((k for k in range(len(inner) + 1)
                          if all(d == 1 for d in inner[:k])
                          and inner[k:] == [out[a] for a in full.perm[k:channels]]), None)
            tiles = small[0] not in (1, held[0]) and outer is not None
            if any(a not in (1, b) for a, b in zip(small[1:], held[1:])) or (
                    small[0] not in (1, held[0]) and not tiles):
                # broadcast along an axis inside the layout's channels or positions: copied
                # to the output's shape first (a mask of [T, 1] against scores of [T, S])
                tensor = self.expand(node, tensor, tuple(out),
                                     output=f"{node.output[0]}#{len(sources)}")
            sources.append(self.materialize(tensor, full.perm, channels,
                                            node.name or function))
        name = self.add(Elementwise(self.label(node), tuple(sources), function=function))
        self.put(node.output[0], name, out, full.perm, like=full)
        return None

    def output_sized(self, node, function: str, names: list[str], full: Tensor,
                     out: tuple) -> tuple[Tensor | None, list[str]]:
        """When no activation has the output's size (a [T, 1] mask against a [1, T] one, or
        against a constant), an operand of the output's shape that sets the layout: a
        constant of that size, else the largest activation expanded by adding zeros (one
        extra read per element; exact). Returns it and the operand names to use; (None, _)
        when the node is an Expand, whose result the expansion already is."""
        big = next((n for n in names if n in self.consts
                    and np.asarray(self.consts[n]).size >= math.prod(out)), None)
        if big is not None:
            base = self.operand_constant(node, self.consts[big], full, out)
            self.tensors[big + "#operand"] = base
            return base, [big + "#operand" if n == big else n for n in names]
        zeros = self.operand_constant(node, np.zeros((1, *out) if full.batched else out),
                                      full, out)
        grown = self.materialize(self.widen(full, len(out)), zeros.perm, 1,
                                 node.name or function)
        expanded = self.add(Elementwise(self.unique(f"{self.label(node)}.expand"),
                                        (zeros.layer, grown), function="add"))
        if len(names) == 1:
            self.put(node.output[0], expanded, out, zeros.perm, like=full)
            return None, names
        tensor = Tensor(expanded, out, zeros.perm, full.batched)
        self.tensors[node.output[0] + "#expanded"] = tensor
        return tensor, [node.output[0] + "#expanded" if self.tensors.get(n) is full else n
                        for n in names]

    @staticmethod
    def widen(tensor: Tensor, rank: int) -> Tensor:
        """The tensor with leading size-1 axes up to ``rank`` (numpy broadcasting)."""
        extra = rank - len(tensor.shape)
        if extra <= 0:
            return tensor
        return Tensor(tensor.layer, (1,) * extra + tuple(tensor.shape),
                      (*range(extra), *(p + extra for p in tensor.perm)), tensor.batched)

    def operand_constant(self, node, value, like: Tensor, out: tuple) -> Tensor:
        """A constant operand as a Constant layer: one value when it is a scalar, else
        broadcast to the output (per image)."""
        value = np.asarray(value, dtype=np.float64)
        if value.size == 1:
            name = self.add(Constant(self.unique(f"{node.name or node.op_type}.constant"), (),
                                     shape=(1, 1, 1)))
            self.weights[name] = value.reshape(1, 1, 1)
            rank = len(out)
            return Tensor(name, (1,) * rank, tuple(range(rank)), like.batched)
        onnx_out = (1, *out) if like.batched else out
        try:
            shape = np.broadcast_shapes(value.shape, onnx_out)
        except ValueError:
            raise self.error(node, f"a constant of shape {list(value.shape)} does not "
                             f"broadcast to one image's output {list(onnx_out)} (a constant "
                             "that differs between the images of a batch is not supported)"
                             ) from None
        return self.constant_tensor(node, np.broadcast_to(value, shape), like)
