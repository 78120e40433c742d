"""Transposes that move the batch inwards, carried past per-row work until the batch is first
again (models exported at a batch above 1), as a mixin of the importer.

PyTorch's ``nn.MultiheadAttention`` (and so ``nn.TransformerEncoderLayer``, torchvision's ViT,
DETR and CLIP's text tower) works sequence-first: it transposes [B, N, D] to [N, B, D],
projects q, k and v, splits the heads into [N, B·h, d] and transposes that to [B·h, N, d].
Its output goes the other way: [B·h, N, d] to [N, B·h, d], merged to [N·B, D] for the output
projection, split to [N, B, D] and transposed back. Between the transposes each image's
rows lie interleaved with the other images', which accelsim's layers (one image each) cannot
hold. Every operation in between, though, works along the last axes of each row, so the
same result comes from doing it on the untransposed tensor and transposing afterwards.

The importer therefore holds such a transpose *pending* (its source, batch first, and the
permutation) instead of refusing it, and rewrites each reader onto the source:
elementwise operations (constants transposed to match), a MatMul by a constant matrix, a
Softmax or LayerNormalization along unmoved axes, Gather, Slice, Split, Squeeze, Unsqueeze,
a Reshape (by a transpose of the source that keeps the batch first, then a reshape), and a
further Transpose (composed). A row-wise chain ``Reshape to [rows, D] → Gemm/MatMul → … →
Reshape`` back to the same leading axes, whose merge would interleave the images' rows, is
done on the unmerged axes instead. As soon as the permutation keeps the batch first, the
rewritten node writes the original output. A reader no rule covers is refused, as before,
naming the transpose.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.workload.onnx.fusion import _Graph
from accelsim.workload.onnx.layouts import reshape_target
from accelsim.workload.onnx.reading import onnx_module
from accelsim.workload.ops import ONNX_ACTIVATIONS

# One activation input (input 0); any other input is a setting kept as it is.
UNARY = frozenset(ONNX_ACTIVATIONS) | {"Identity", "Dropout", "Cast", "Clip", "LeakyRelu",
                                       "HardSigmoid", "CastLike"}
# Every input broadcast against the others.
ELEMENTWISE = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean",
                         "Where", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
                         "And", "Or", "Xor", "PRelu"})


def refined(shape, out) -> tuple[list[int], list[list[int]], list[list[int]]] | None:
    """The finest factors that both ``shape`` and ``out`` (a row-major reshape of it) are
    made of: (factor sizes, the factors of each axis of shape, of each axis of out), or
    None when the reshape moves data across axes in a way no factoring describes ([6, 4] to
    [4, 6]). Axes of size 1 have no factors."""
    def cuts(dims):
        found, size = {1}, 1
        for d in reversed(dims):
            size *= d
            found.add(size)
        return found
    if 0 in shape or 0 in out:
        return None
    points = sorted(cuts(shape) | cuts(out))
    if any(b % a for a, b in zip(points, points[1:])):
        return None
    sizes = [b // a for a, b in zip(points, points[1:])][::-1]     # outermost first
    index = {a: len(points) - 2 - n for n, a in enumerate(points[:-1])}   # by inner stride

    def owned(dims):
        axes, stride = [None] * len(dims), 1
        for i in range(len(dims) - 1, -1, -1):
            inner, stride = stride, stride * dims[i]
            axes[i] = [index[c] for c in points if inner <= c < stride][::-1]
        return axes
    return sizes, owned(shape), owned(out)


def _renumbered(axes) -> list[int]:
    """Distinct axes renumbered 0, 1, … in their order of size."""
    ranks = {a: n for n, a in enumerate(sorted(axes))}
    return [ranks[a] for a in axes]


class Sinking:
    """The importer provides batch, consts, tensors, inferred, uses, opset, graph_outputs,
    nodes, node(), check_shapes(), full_shape(), attrs() and error()."""

    def move_batch(self, node, order: list[int]) -> None:
        """A Transpose whose ``order`` moves the batch inwards (batch above 1): held pending
        until its readers bring the batch first again (a graph output is refused). The
        transpose and its order (given, or the default reversal) are kept as the held
        tensor's origin, for the error if a reader cannot be rewritten."""
        origin = (node, list(order))
        if node.output[0] in self.graph_outputs:
            raise self.moved_error(origin, None)
        self.hold(node.output[0], node.input[0], list(order), origin)

    def moved_error(self, origin, reader):
        transpose, order = origin
        where = "" if reader is None else (
            f". accelsim follows such a transpose through per-row work until the batch is "
            f"first again, but '{reader.name or reader.output[0]}' ({reader.op_type}) reads "
            "it before that")
        return self.error(transpose, f"perm {list(order)} moves the batch of {self.batch} "
                          "images inwards; export with batch 1 (the batch is then given to "
                          f"simulate){where}")

    def hold(self, name: str, source: str, perm: list[int], origin) -> None:
        """``name`` = Transpose(``source``, ``perm``), not imported: each of its readers
        becomes a node that reads ``source`` in place of that transpose's one read, and the
        reads are counted now, before any of them is imported (so that an activation is
        not applied in place to a layer that another reader still needs unchanged). Nodes
        made here add no reads: each name made here is read once (fresh())."""
        self.pending[name] = (source, perm, origin)
        self.uses[source] = self.uses.get(source, 0) + self.uses.get(name, 0) - 1

    def shape_held(self, name: str) -> tuple[int, ...]:
        """The ONNX shape of a pending tensor (its source is imported by the time a reader
        asks)."""
        if name not in self.inferred:
            source, perm, origin = self.pending[name]
            shape = self.full_shape(source, origin[0])
            self.inferred[name] = tuple(shape[a] for a in perm)
        return self.inferred[name]

    def redirect(self, node) -> bool:
        """Import ``node`` as rewritten (True) when it reads a pending transpose or is part
        of a row-wise chain already rewritten; else False (imported as it is)."""
        if id(node) in self.substitutes:
            for new in self.substitutes.pop(id(node))():
                self.emit(new)
            return True
        held = [n for n in node.input if n in self.pending]
        for name in held:
            self.shape_held(name)
        if node.op_type == "Shape" or not held:
            return False
        new_nodes = self.sunk(node)
        if new_nodes is None:
            raise self.moved_error(self.pending[held[0]][2], node)
        for new in new_nodes:
            self.emit(new)
        return True

    def emit(self, new) -> None:
        """Import a node made here, as the node being imported (its shapes are inferred from
        it, not from the node it replaces)."""
        replaced, self.current = self.current, new
        try:
            self.node(new)
            self.check_shapes(new)
        finally:
            self.current = replaced

    # -- making nodes ------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        """A new tensor name, counted as read once: by the next node made here, or by the
        transpose that hold() replaces with its readers."""
        self.fresh_count = getattr(self, "fresh_count", 0) + 1
        name = f"{base}#batch-first{self.fresh_count}"
        self.uses[name] = 1
        return name

    def constant(self, base: str, value) -> str:
        name = self.fresh(base)
        self.consts[name] = np.asarray(value)
        return name

    def copied(self, node, inputs, outputs, **attrs):
        onnx = onnx_module()
        new = onnx.NodeProto()
        new.CopyFrom(node)
        del new.input[:], new.output[:]
        new.input.extend(inputs)
        new.output.extend(outputs)
        for key, value in attrs.items():
            for i, attr in enumerate(new.attribute):
                if attr.name == key:
                    del new.attribute[i]
                    break
            new.attribute.append(onnx.helper.make_attribute(key, value))
        return new

    def made(self, op: str, inputs, output: str, base: str, **attrs):
        return onnx_module().helper.make_node(op, list(inputs), [output],
                                              name=f"{base}#batch-first", **attrs)

    def result(self, out: str, source: str, perm: list[int], origin, base: str) -> list:
        """``out`` = Transpose(``source``, ``perm``): written now when the batch stays first,
        else held pending."""
        if perm == sorted(perm):
            return [self.made("Identity", [source], out, base)]
        if perm[0] == 0:
            return [self.made("Transpose", [source], out, base, perm=perm)]
        self.hold(out, source, perm, origin)
        return []

    def axes_input(self, node, index: int, attr: str):
        """Axes given as an input (newer opsets) or an attribute; None if absent."""
        if index < len(node.input) and node.input[index]:
            value = self.consts.get(node.input[index])
            return None if value is None else [int(a) for a in np.asarray(value).ravel()]
        value = self.attrs(node).get(attr)
        return None if value is None else [int(a) for a in value]

    def with_axes(self, node, source: str, out: str, axes):
        """A Squeeze or Unsqueeze ``node`` on ``source`` with these axes (an input from
        opset 13, an attribute before)."""
        if self.opset >= 13:
            return self.copied(node, [source, self.constant(node.output[0], np.array(
                list(axes), dtype=np.int64))], [out])
        return self.copied(node, [source], [out], axes=list(axes))

    # -- the rules ---------------------------------------------------------------------------
    def sunk(self, node) -> list | None:
        """The nodes that compute ``node`` from the sources of its pending inputs, or None."""
        op = node.op_type
        source, perm, origin = next(self.pending[n] for n in node.input if n in self.pending)
        rank, out = len(perm), node.output[0]
        if len(node.output) != 1 and op != "Split":
            if op not in ("Dropout", "LayerNormalization") or any(
                    self.uses.get(o, 0) or o in self.graph_outputs for o in node.output[1:]):
                return None
        if op == "Transpose":
            order = self.attrs(node).get("perm", range(rank - 1, -1, -1))
            moved = [perm[int(a)] for a in order]
            return self.result(out, source, moved, origin, out)
        if op in UNARY or op in ELEMENTWISE:
            return self.elementwise(node, perm, origin)
        if any(n in self.pending for n in node.input[1:]):
            return None
        new = self.fresh(out)
        if op == "MatMul":
            weight = self.consts.get(node.input[1])
            if weight is None or np.ndim(weight) != 2 or rank < 2:
                return None
            made, source, perm = self.in_order(source, perm, perm[-1] != rank - 1, out)
            if perm[-1] != rank - 1:              # the product would run over the batch
                return None
            return [*made, self.copied(node, [source, node.input[1]], [new]),
                    *self.result(out, new, perm, origin, out)]
        if op in ("Softmax", "LogSoftmax", "LayerNormalization"):
            axis = int(self.attrs(node).get("axis", -1)) % rank
            if op == "LayerNormalization":
                made, source, perm = self.in_order(
                    source, perm, any(perm[a] != a for a in range(axis, rank)), out)
                if any(perm[a] != a for a in range(axis, rank)):
                    return None
                return [*made, self.copied(node, [source, *node.input[1:]], [new]),
                        *self.result(out, new, perm, origin, out)]
            if self.opset < 13:
                return None
            return [self.copied(node, [source], [new], axis=perm[axis]),
                    *self.result(out, new, perm, origin, out)]
        if op == "Unsqueeze":
            axes = self.axes_input(node, 1, "axes")
            if axes is None:
                return None
            size = rank + len(axes)
            axes = sorted(a % size for a in axes)
            added, kept, moved = iter(range(rank, size)), iter(perm), []
            for position in range(size):
                moved.append(next(added) if position in axes else next(kept))
            return [self.with_axes(node, source, new, range(rank, size)),
                    *self.result(out, new, moved, origin, out)]
        if op == "Squeeze":
            shape = self.inferred[node.input[0]]
            axes = self.axes_input(node, 1, "axes")
            axes = ({a % rank for a in axes} if axes is not None
                    else {a for a in range(rank) if shape[a] == 1})
            kept = _renumbered([perm[a] for a in range(rank) if a not in axes])
            return [self.with_axes(node, source, new, sorted(perm[a] for a in axes)),
                    *self.result(out, new, kept, origin, out)]
        if op == "Gather":
            indices = self.consts.get(node.input[1])
            axis = int(self.attrs(node).get("axis", 0)) % rank
            if indices is None or np.ndim(indices) > 1:
                return None
            moved = perm if np.ndim(indices) == 1 else _renumbered(
                [p for a, p in enumerate(perm) if a != axis])
            return [self.copied(node, [source, node.input[1]], [new], axis=perm[axis]),
                    *self.result(out, new, moved, origin, out)]
        if op == "Slice" and self.opset >= 10:
            starts = self.consts.get(node.input[1])
            axes = self.axes_input(node, 3, "")
            if starts is None or (len(node.input) > 3 and node.input[3] and axes is None):
                return None
            axes = axes if axes is not None else list(range(np.size(starts)))
            inputs = [source, *node.input[1:]] + [""] * (4 - len(node.input))
            inputs[3] = self.constant(out, np.array([perm[a % rank] for a in axes]))
            return [self.copied(node, inputs, [new]), *self.result(out, new, perm, origin,
                                                                   out)]
        if op == "Split":
            axis = int(self.attrs(node).get("axis", 0)) % rank
            news = [self.fresh(o) for o in node.output]
            made = [self.copied(node, [source, *node.input[1:]], news, axis=perm[axis])]
            for o, n in zip(node.output, news):
                made += self.result(o, n, perm, origin, o)
            return made
        if op == "Reshape":
            return self.reshaped(node, source, perm, origin)
        return None

    def in_order(self, source: str, perm: list[int], needed: bool, base: str):
        """(nodes, source, perm) with the source's axes after its first in the order the held
        tensor has them, when ``needed`` (DETR's [B, C, HW] moved to [HW, B, C] has C last
        for a MatMul): a transpose of the source that keeps its first axis first."""
        order = [0] + [a for a in perm if a != 0]
        if not needed or order == sorted(order):
            return [], source, perm
        name = self.fresh(base)
        position = {a: n for n, a in enumerate(order)}
        return ([self.made("Transpose", [source], name, base, perm=order)], name,
                [position[a] for a in perm])

    def elementwise(self, node, perm: list[int], origin) -> list | None:
        """Held inputs with different permutations (a residual add of a moved input and a
        projection of it) are first brought to one order, the source's axes in the held
        tensors' order (in_order())."""
        rank, unary = len(perm), node.op_type in UNARY
        held = {n: self.pending[n] for n in node.input if n in self.pending}
        made = []
        if any(p != perm for _, p, _ in held.values()):
            if any(len(p) != rank for _, p, _ in held.values()):
                return None
            for name, (source, other, first) in held.items():
                steps, source, other = self.in_order(source, other, True, node.output[0])
                made += steps
                held[name] = (source, other, first)
            perm = next(iter(held.values()))[1]
            if any(p != perm for _, p, _ in held.values()):
                return None
        inputs = []
        for i, name in enumerate(node.input):
            if not name or (unary and i > 0 and name in self.consts):
                inputs.append(name)
            elif name in held:
                inputs.append(held[name][0])
            elif name in self.consts and not unary:
                value = np.asarray(self.consts[name])
                if value.ndim > rank:
                    return None
                if value.ndim == 0:
                    inputs.append(name)
                    continue
                full = value.reshape((1,) * (rank - value.ndim) + value.shape)
                inputs.append(self.constant(name, full.transpose(np.argsort(perm))))
            else:
                return None
        new = self.fresh(node.output[0])
        return [*made, self.copied(node, inputs, [new]),
                *self.result(node.output[0], new, perm, origin, node.output[0])]

    def reshaped(self, node, source: str, perm: list[int], origin) -> list | None:
        """A Reshape of Transpose(source, perm), from the finest factors of both shapes: the
        source split into them, a transpose that keeps its first factor (the batch's)
        first and brings each output axis's factors together, a reshape that merges them,
        and what is left of the permutation."""
        target = self.consts.get(node.input[1])
        if target is None or (self.attrs(node).get("allowzero", 0) and 0 in target):
            return None
        shape = self.inferred[node.input[0]]
        out = reshape_target(shape, np.asarray(target))
        factoring = refined(shape, out)
        if factoring is None:
            return None
        sizes, of_input, of_output = factoring
        by_source = [None] * len(perm)           # the source's axes, split into factors
        for axis, factors in enumerate(of_input):
            by_source[perm[axis]] = factors
        split = [f for factors in by_source for f in factors]
        if not by_source[0]:
            return None
        first = by_source[0][0]                  # the batch is its outermost part
        batch = next(j for j, factors in enumerate(of_output) if first in factors)
        if of_output[batch][0] != first:
            return self.rows_apart(node, shape, out, perm, origin)
        order = [batch] + [j for j in range(len(out)) if j != batch]
        arranged = [f for j in order for f in of_output[j]]
        written = [out[j] for j in order]
        made, name, base = [], source, node.output[0]
        steps = (("Reshape", [sizes[f] for f in split]),
                 ("Transpose", [split.index(f) for f in arranged]),
                 ("Reshape", written))
        current = list(self.full_shape(source, origin[0]))
        for op, value in steps:
            if (op == "Transpose" and value == sorted(value)) or (
                    op == "Reshape" and value == current):
                continue
            new = self.fresh(base)
            if op == "Transpose":
                made.append(self.made(op, [name], new, base, perm=value))
                current = [current[a] for a in value]
            else:
                made.append(self.made(op, [name, self.constant(base, np.array(
                    value, dtype=np.int64))], new, base))
                current = list(value)
            name = new
        position = {j: n for n, j in enumerate(order)}
        return made + self.result(base, name, [position[j] for j in range(len(out))],
                                  origin, base)

    # -- a row-wise chain, done on the unmerged axes -----------------------------------------
    def rows_apart(self, node, shape, out, perm, origin) -> list | None:
        """Reshape to [rows, D] of leading axes that hold the batch inside → row-wise nodes →
        Reshape whose leading axes are those axes again: the first reshape keeps the leading
        axes apart, the row-wise nodes work on them as they are, the last restores the
        shape."""
        count = next((k for k in range(1, len(shape) + 1)
                      if math.prod(shape[:k]) == out[0]), 0)
        if len(out) != 2 or count < 2 or perm.index(0) >= count:
            return None
        if getattr(self, "graph", None) is None:      # who reads what, built once
            self.graph = _Graph(self.nodes, self.consts, self.graph_outputs)
        chain, name = [], node.output[0]
        while True:
            reader = self.graph.only_reader(name)
            if reader is None or reader.input[0] != name:
                return None
            if reader.op_type == "Reshape":
                break
            if not self.row_wise(reader):
                return None
            chain.append(reader)
            name = reader.output[0]
        lead, rest = tuple(shape[:count]), math.prod(shape[count:])
        renamed = {node.output[0]: self.fresh(node.output[0])}
        for step in chain:
            renamed[step.output[0]] = self.fresh(step.output[0])
            self.substitutes[id(step)] = self.row_step(step, renamed)
        self.substitutes[id(reader)] = self.row_end(reader, renamed, lead, origin)
        target = self.constant(node.output[0], np.array([*lead, rest], dtype=np.int64))
        return [self.made("Reshape", [node.input[0], target], renamed[node.output[0]],
                          node.output[0])]

    def row_wise(self, node) -> bool:
        """Works on each row of a [rows, D] tensor alone: a Gemm or MatMul by a constant
        matrix, or an elementwise node whose constants broadcast along the last axis."""
        op, inputs = node.op_type, node.input[1:]
        if len(node.output) != 1:
            return False
        if op in ("Gemm", "MatMul"):
            attrs = self.attrs(node)
            weight = self.consts.get(inputs[0]) if inputs else None
            bias = self.consts.get(inputs[1]) if len(inputs) > 1 and inputs[1] else None
            return (weight is not None and np.ndim(weight) == 2 and not attrs.get("transA", 0)
                    and (len(inputs) < 2 or not inputs[1] or (
                        bias is not None and np.ndim(bias) <= 1)))
        if op not in UNARY and op not in ELEMENTWISE:
            return False
        return all(not name or (name in self.consts and (np.ndim(self.consts[name]) <= 1))
                   for name in inputs)

    def row_step(self, node, renamed: dict):
        def make():
            x, out = renamed[node.input[0]], renamed[node.output[0]]
            if node.op_type != "Gemm":
                return [self.copied(node, [x, *node.input[1:]], [out])]
            attrs = self.attrs(node)
            weight = np.asarray(self.consts[node.input[1]])
            weight = (weight.T if attrs.get("transB", 0) else weight) * attrs.get("alpha", 1.0)
            bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
            product = self.fresh(node.output[0]) if bias else out
            made = [self.made("MatMul", [x, self.constant(node.output[0], weight.astype(
                np.float32))], product, node.output[0])]
            if bias:
                scaled = np.asarray(self.consts[bias]) * attrs.get("beta", 1.0)
                made.append(self.made("Add", [product, self.constant(bias, scaled.astype(
                    np.float32))], out, node.output[0]))
            made[0].name = node.name               # the layer keeps the Gemm's name
            return made
        return make

    def row_end(self, node, renamed: dict, lead: tuple, origin):
        def make():
            target = self.consts.get(node.input[1]) if len(node.input) > 1 else None
            rows = self.inferred.get(node.input[0])
            if target is None or rows is None or (self.attrs(node).get("allowzero", 0)
                                                   and 0 in np.asarray(target)):
                raise self.moved_error(origin, node)
            out = reshape_target(tuple(rows), np.asarray(target))
            if tuple(out[:len(lead)]) != lead:
                raise self.moved_error(origin, node)
            return [self.made("Reshape", [renamed[node.input[0]], self.constant(
                node.output[0], np.array(out, dtype=np.int64))], node.output[0],
                node.output[0])]
        return make
