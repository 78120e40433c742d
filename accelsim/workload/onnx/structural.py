"""ONNX operators that look up, pad, reduce or rearrange (Gather on a constant table as an
embedding, Pad, ArgMax and the reductions over any axes, DepthToSpace, SpaceToDepth), as
a mixin of the importer's node handlers (see onnx.ops)."""

from __future__ import annotations

import math

import numpy as np

from accelsim.workload.layers import (
    LRN,
    Activation,
    Col2Im,
    Embedding,
    Linear,
    Pad2d,
    Reduce,
    Take,
)
from accelsim.workload.onnx.layouts import (
    Tensor,
    axis_layout,
    axis_size,
    grouped_layout,
    reshaped_perm,
    transposed,
)


class StructuralOps:
    """Handlers; the importer provides error(), act(), const(), attrs(), axis(), add(),
    put(), image(), materialize() and unknown()."""

    def embedding(self, node, table: np.ndarray) -> None:
        """Gather of rows of a constant (rows, dim) table by activation indices: a token
        embedding, costed as the reads of the rows fetched."""
        if int(self.attrs(node).get("axis", 0)) != 0 or table.ndim != 2:
            return self.unknown(node, "Gather on a constant is supported as an embedding "
                                "lookup only (rows of a 2-D table, axis 0)")
        name, ids = self.lookup(node, table)
        rank = len(ids.shape)
        self.put(node.output[0], name, (*ids.shape, table.shape[1]),
                 (rank, *range(rank)), like=ids)
        return None

    def lookup(self, node, table: np.ndarray) -> tuple[str, Tensor]:
        """An ``embedding`` layer looking the node's second input (activation indices) up in
        the rows of ``table``: its name, and the indices."""
        ids = self.act(node, 1)
        # (the indices are data: value mode checks them against the table's rows)
        source = self.materialize(ids, tuple(range(len(ids.shape))), 1, node.name or "ids")
        name = self.add(Embedding(self.label(node), (source,), rows=table.shape[0],
                                  dim=table.shape[1]))
        self.weights[name] = table
        return name, ids

    def op_GatherElements(self, node) -> None:
        """GatherElements from a constant that varies along the gathered axis only (Hugging
        Face's buffered token-type ids, picked by position ids): a lookup in that 1-D table,
        an ``embedding`` of one channel per index. From an activation at constant indices
        (DeBERTa's relative-position attention): see gather_elements."""
        table = self.const(node, 0)
        if table is None:
            return self.gather_elements(node)
        axis = int(self.attrs(node).get("axis", 0)) % max(table.ndim, 1)
        column = np.moveaxis(np.asarray(table), axis, 0).reshape(table.shape[axis], -1)
        if not np.all(column == column[:, :1]):        # (a buffer expanded to the batch
            return self.unknown(node, "GatherElements from a constant that varies along "
                                "other axes than the gathered one is not supported")
        name, ids = self.lookup(node, column[:, :1].astype(np.float64))
        self.put(node.output[0], name, ids.shape, tuple(range(len(ids.shape))), like=ids)
        return None

    def gather_elements(self, node) -> None:
        """GatherElements of an activation at constant indices: out[p] = x[p with its
        ``axis`` coordinate replaced by indices[p]]. The axes the indices vary along (and
        the gathered one, and any the output cuts short) become the channels of a copy of
        x, and one ``take`` copies each output entry from its source there; the other axes
        ride along as they are (DeBERTa's c2p scores, [heads, T, 2k] gathered along the
        last axis by relative positions of [T, T]: a take of T x T channels over (T, 2k),
        the same for every head). Indices that differ between images are refused."""
        x, index = self.act(node), self.const(node, 1)
        if index is None:
            return self.unknown(node, "GatherElements of an activation needs constant "
                                "indices")
        axis = self.axis(node, int(self.attrs(node).get("axis", 0)), x)
        index = np.asarray(index, dtype=np.int64)
        if x.batched:
            if index.ndim != len(x.shape) + 1 or np.any(index != index[:1]):
                return self.unknown(node, "GatherElements with indices that differ between "
                                    "the images is not supported")
            index = index[0]
        if index.ndim != len(x.shape) or any(i > s for d, (i, s) in enumerate(
                zip(index.shape, x.shape)) if d != axis):
            raise self.error(node, f"indices of shape {list(index.shape)} do not fit data of "
                             f"shape {list(x.shape)} (one image's)")
        size = x.shape[axis]
        if np.any(index < -size) or np.any(index >= size):
            raise self.error(node, f"indices go beyond the axis of {size} (ONNX allows "
                             f"-{size} to {size - 1})")
        varying = [d for d in range(index.ndim) if d == axis or index.shape[d] != x.shape[d]
                   or np.any(index != index.take([0], axis=d))]
        rest = [d for d in x.perm if d not in varying]
        perm = (*varying, *rest)
        source = self.materialize(x, perm, len(varying), node.name or "gather_elements")
        picked = index[tuple(slice(None) if d in varying else slice(0, 1)
                             for d in range(index.ndim))].reshape(
            [index.shape[d] for d in varying])
        grid = np.indices(picked.shape)
        grid[varying.index(axis)] = picked % size
        flat = np.ravel_multi_index(grid.reshape(len(varying), -1),
                                    [x.shape[d] for d in varying])
        name = self.add(Take(self.label(node), (source,), axis="channels", count=int(flat.size)))
        self.weights[name] = flat.astype(np.float64)
        self.put(node.output[0], name, index.shape, perm, like=x)
        return None

    def op_Tile(self, node) -> None:
        """An activation repeated along its axes (CANINE's upsampling of its downsampled
        characters) at constant repeats: along each repeated axis a gather of its entries in
        turn, index (0, 1, ..., n - 1) r times (a take, a copy); the batch is not repeated."""
        from onnx import helper
        x, repeats = self.act(node), self.setting(node, 1)
        if repeats is None:
            return self.unknown(node, "Tile needs constant repeats")
        repeats = [int(r) for r in np.reshape(repeats, -1)]
        if len(repeats) != len(x.shape) + x.batched or min(repeats) < 1:
            raise self.error(node, f"repeats {repeats} do not fit a tensor of rank "
                             f"{len(x.shape) + x.batched} (one whole number from 1 per axis)")
        if x.batched and repeats[0] != 1:
            return self.unknown(node, "Tile along the batch axis is not supported")
        current, out = node.input[0], node.output[0]
        steps = [a for a, r in enumerate(repeats) if r > 1]
        if not steps:
            self.tensors[out] = x
        for a in steps:
            size = self.tensors[current].shape[self.axis(node, a, self.tensors[current])]
            target = out if a == steps[-1] else self.unique(f"{out}#tile{a}")
            self.consts[f"{target}#index"] = np.tile(np.arange(size), repeats[a])
            self.op_Gather(helper.make_node("Gather", [current, f"{target}#index"], [target],
                                            name=f"{node.name or out}.tile{a}", axis=a))
            current = target
        return None

    def op_Pad(self, node) -> None:
        """Zero padding of an image's height and width: a view (pad2d). Any other padding of
        any axis but the batch: constant values concatenated on each side (a copy), and
        reflect, edge or wrap padding (or a crop, by negative pads) as a gather of the
        entries each position copies; padding nothing is a copy."""
        x, attrs = self.act(node), self.attrs(node)
        pads = self.setting(node, 1)
        pads = [int(p) for p in (pads.reshape(-1) if pads is not None
                                 else attrs.get("pads", []))]
        value = self.setting(node, 2)
        value = float(value.reshape(-1)[0]) if value is not None and value.size else 0.0
        axes = self.setting(node, 3)
        rank = len(x.shape) + x.batched
        if axes is not None:
            full = [0] * (2 * rank)
            for i, a in enumerate(int(a) % rank for a in axes.reshape(-1)):
                full[a], full[a + rank] = pads[i], pads[i + len(axes.reshape(-1))]
            pads = full
        if not any(pads):
            self.tensors[node.output[0]] = x
            return None
        mode = attrs.get("mode", "constant")
        if len(pads) != 2 * rank or mode not in ("constant", "reflect", "edge", "wrap") or (
                x.batched and (pads[0] or pads[rank])):
            return self.unknown(node, f"Pad {pads} in mode '{mode}' is not supported (constant, "
                                "reflect, edge or wrap, of any axis but the batch)")
        if (mode == "constant" and value == 0.0 and x.batched and rank == 4 and min(pads) >= 0
                and not any(pads[a] or pads[a + 4] for a in (0, 1))):
            name = self.add(Pad2d(self.label(node), (self.image(node, x),),
                                  pads=(pads[2], pads[3], pads[6], pads[7])))
            self.put(node.output[0], name, self.shape_of[name], (0, 1, 2), like=x)
            return None
        return self.padded(node, x, pads, mode, value)

    def padded(self, node, x: Tensor, pads: list[int], mode: str, value: float) -> None:
        """Pad one axis at a time, through Gather and Concat nodes made here."""
        from onnx import helper
        rank, current, out = len(pads) // 2, node.input[0], node.output[0]
        steps = [a for a in range(rank) if pads[a] or pads[a + rank]]
        for a in steps:
            axis = self.axis(node, a, self.tensors[current])     # the axis of one image
            size = self.tensors[current].shape[axis]
            before, after = pads[a], pads[a + rank]
            target = out if a == steps[-1] else self.unique(f"{out}#pad{a}")
            index = np.arange(size)
            if mode != "constant":
                if size + min(before, 0) + min(after, 0) < 1 or (
                        mode == "reflect" and max(before, after) >= size):
                    raise self.error(node, f"cannot pad an axis of {size} by {before} and "
                                     f"{after} in mode '{mode}'")
                index = np.pad(index, (max(before, 0), max(after, 0)),
                               mode={"edge": "edge", "reflect": "reflect", "wrap": "wrap"}[mode])
            index = index[max(-before, 0):len(index) - max(-after, 0)]
            fill = mode == "constant" and (before > 0 or after > 0)
            if index.size != size or not np.array_equal(index, np.arange(size)):
                cut = self.unique(f"{out}#cut{a}") if fill else target
                self.consts[f"{cut}#index"] = index
                self.op_Gather(helper.make_node("Gather", [current, f"{cut}#index"], [cut],
                                                name=f"{node.name or out}.pad{a}", axis=a))
                current = cut
            if fill:                              # constants of one image's shape
                shape = list(self.tensors[current].shape)
                parts = [current]
                for side, count in (("before", before), ("after", after)):
                    if count > 0:
                        shape[axis] = count
                        self.consts[f"{target}#{side}"] = np.full(shape, value)
                        parts.insert(0 if side == "before" else len(parts), f"{target}#{side}")
                self.op_Concat(helper.make_node("Concat", parts, [target],
                                                name=f"{node.name or out}.fill{a}", axis=a))
                current = target
        return None

    def reduction(self, node, function: str, before: str | None = None,
                  after: str | None = None) -> None:
        """A reduction over any axes (ArgMax's label, ReduceMax/Min/Sum/Mean): the
        reduced axes become each vector's channels; ReduceMean and ReduceMax over an image's
        height and width are whole-image pools (op_ReduceMean, op_ReduceMax). ``before`` and
        ``after`` are activations applied to each element and to each result (ReduceL2: the
        square root of a sum of squares)."""
        x, attrs = self.act(node), self.attrs(node)
        if node.op_type in ("ArgMax", "ArgMin"):
            axes = [int(attrs.get("axis", 0))]
            if attrs.get("select_last_index", 0):
                return self.unknown(node, f"{node.op_type} with select_last_index is not "
                                    "supported")
        else:
            given = self.setting(node, 1)
            axes = [int(a) for a in (given.reshape(-1) if given is not None
                                     else attrs.get("axes", []))]
        x = self.batch_as_axis(axes, x)
        axes = sorted({self.axis(node, a, x) for a in axes})
        if not axes:
            return self.unknown(node, f"{node.op_type} over no axes (all of them, or none) is "
                                "not supported")
        # the reduced axes as each vector's channels (in groups of the axes before them)
        if before is not None:
            first = self.add(Activation(self.unique(f"{self.label(node)}.{before}"),
                                        (x.layer,), function=before))
            x = Tensor(first, x.shape, x.perm, x.batched)
        perm, channels, groups = grouped_layout(x.shape, axes, x)
        source = self.materialize(x, perm, channels, node.name or "reduce")
        name = self.add(Reduce(self.label(node), (source,), function=function, groups=groups))
        if after is not None:
            name = self.add(Activation(self.unique(f"{self.label(node)}.{after}"), (name,),
                                       function=after))
        keep = attrs.get("keepdims", 1)
        if keep:
            shape = tuple(1 if a in axes else size for a, size in enumerate(x.shape))
            out_perm = perm
        else:
            shape = tuple(size for a, size in enumerate(x.shape) if a not in axes)
            out_perm = tuple(p - sum(a < p for a in axes) for p in perm if p not in axes)
        self.put(node.output[0], name, shape or (1,), out_perm or (0,), like=x)
        return None

    def op_ArgMax(self, node) -> None:
        self.reduction(node, "argmax")

    def op_ArgMin(self, node) -> None:
        self.reduction(node, "argmin")

    def op_ReduceMin(self, node) -> None:
        self.reduction(node, "min")

    def op_ReduceSum(self, node) -> None:
        self.reduction(node, "sum")

    def op_ReduceSumSquare(self, node) -> None:
        self.reduction(node, "sum", before="square")

    def op_ReduceL2(self, node) -> None:
        self.reduction(node, "sum", before="square", after="sqrt")

    def op_ReduceL1(self, node) -> None:
        self.reduction(node, "sum", before="abs")

    def op_CumSum(self, node) -> None:
        """A running sum along one axis (RoBERTa's position ids from its attention mask):
        the axis as each vector's channels, a prefix ``reduce``."""
        x, attrs = self.act(node), self.attrs(node)
        if attrs.get("exclusive", 0) or attrs.get("reverse", 0):
            return self.unknown(node, "CumSum with exclusive or reverse is not supported")
        given = self.setting(node, 1)
        if given is None or np.size(given) != 1:
            raise self.error(node, "the axis must be a constant scalar")
        axis = self.axis(node, int(np.reshape(given, -1)[0]), x)
        perm = (axis, *(a for a in x.perm if a != axis))
        source = self.materialize(x, perm, 1, node.name or "cumsum")
        name = self.add(Reduce(self.label(node), (source,), function="cumsum"))
        self.put(node.output[0], name, x.shape, perm, like=x)
        return None

    def op_Gather(self, node) -> None:
        table = self.const(node, 0)
        if table is not None:
            return self.embedding(node, table)
        x, index = self.act(node), self.const(node, 1)
        local = self.own_rows(node, x, index)
        if local is not None:
            return self.take(node, x, 0, local)
        at = self.attrs(node).get("axis", 0)
        if (index is not None and index.ndim == 0 and axis_size(x, at, self.batch) == 1
                and int(index) in (0, -1)):
            return self.op_reshape(node)      # the one entry of an axis: a Squeeze of it
        axis = self.axis(node, at, x)
        size = x.shape[axis]
        if index is not None and (np.any(index < -size) or np.any(index >= size)):
            raise self.error(node, f"indices {np.asarray(index).reshape(-1)[:8].tolist()} go "
                             f"beyond the axis of {size} (ONNX allows -{size} to {size - 1})")
        if index is not None and index.ndim == 1 and index.size:
            first = int(index[0]) % x.shape[axis]
            if np.array_equal(np.asarray(index) % x.shape[axis],
                              np.arange(first, first + index.size)):
                return self.select(node, x, axis, first, first + index.size, keep=True)
        if index is None:
            return self.unknown(node, "Gather of an activation needs constant indices")
        if index.ndim != 0:
            return self.take(node, x, axis, np.asarray(index) % x.shape[axis])
        i = int(index) % x.shape[axis]
        self.select(node, x, axis, i, i + 1, keep=False)
        return None

    def own_rows(self, node, x: Tensor, index) -> np.ndarray | None:
        """A gather along a first axis that merges the batch, whose constant indices pick for
        each image rows of its own block, the same ones (Hugging Face's attention masks at
        batch > 1: the mask flattened and indexed by b x tokens + position): those rows of
        each image's block, or None."""
        axis = int(self.attrs(node).get("axis", 0))
        if (x.batched or self.batch == 1 or index is None or np.ndim(index) < 1
                or axis not in (0, -len(x.shape)) or np.shape(index)[0] != self.batch):
            return None
        block = x.shape[0]
        index = np.asarray(index, dtype=np.int64) % (block * self.batch)
        local = index - np.arange(self.batch).reshape(-1, *[1] * (index.ndim - 1)) * block
        if np.any(local < 0) or np.any(local >= block) or np.any(local != local[:1]):
            return None
        return local[0]

    def take(self, node, x: Tensor, axis: int, index: np.ndarray) -> None:
        """Entries ``index`` (any shape; they may repeat) of ``axis``: a copy of each
        vector or channel indexed (a strided slice, a gather with constant indices)."""
        perm, channels, kind = axis_layout(x, axis, prefer="height")
        source = self.materialize(x, perm, channels, node.name or "take")
        name = self.add(Take(self.label(node), (source,), axis=kind, count=int(index.size)))
        self.weights[name] = np.asarray(index, dtype=np.float64).reshape(-1)
        k = index.ndim
        shape = (*x.shape[:axis], *index.shape, *x.shape[axis + 1:])
        out_perm = []
        for a in perm:
            if a == axis:
                out_perm.extend(range(axis, axis + k))
            else:
                out_perm.append(a if a < axis else a + k - 1)
        self.put(node.output[0], name, shape or (1,), tuple(out_perm) or (0,), like=x)

    def expand(self, node, x: Tensor, out: tuple, output: str | None = None) -> Tensor:
        """``x`` (widened to the rank of ``out``) broadcast to ``out``, into ``output`` (default:
        the node's first). Its grown axes have size 1, so they move without moving data:
        each joins the channels right after the axis before it (a grouped-query attention's
        repeated keys then read as their heads), and one ``take`` copies every input channel
        to each place it repeats."""
        grown = [a for a in range(len(out)) if x.shape[a] != out[a]]
        if any(x.shape[a] != 1 for a in grown):
            raise self.error(node, f"cannot broadcast {list(x.shape)} to {list(out)}")
        order = [a for a in x.perm if a not in grown]
        for a in grown:
            order.insert(order.index(a - 1) + 1 if a - 1 in order else 0, a)
        perm = tuple(order)
        channels = max(perm.index(a) for a in grown) + 1
        source = self.materialize(x, perm, channels, node.name or "expand")
        held = [out[a] for a in perm[:channels]]
        grid = np.indices(held).reshape(channels, -1)
        grid[[perm.index(a) for a in grown]] = 0
        index = np.ravel_multi_index(grid, [x.shape[a] for a in perm[:channels]])
        label = self.label(node) if output is None else self.unique(f"{output}.broadcast")
        name = self.add(Take(label, (source,), axis="channels", count=int(index.size)))
        self.weights[name] = index.astype(np.float64)
        return self.put(output or node.output[0], name, out, perm, like=x)

    def op_ConvTranspose(self, node) -> None:
        """A transposed convolution as its two halves: a ``linear`` layer taking each input
        vector to out_channels · kh · kw contributions (the crossbars' part, with the MACs
        PyTorch counts), and a ``col2im`` layer adding them into the output image (the
        digital unit's part)."""
        x, weight, bias = self.act(node), self.const(node, 1), self.setting(node, 2)
        attrs = self.attrs(node)
        if weight is None or weight.ndim != 4:
            raise self.error(node, "needs a constant 4-D weight (2-D transposed convolution)")
        if int(attrs.get("group", 1)) != 1:
            return self.unknown(node, "grouped ConvTranspose is not supported")
        cin, cout, kh, kw = weight.shape
        stride = tuple(int(s) for s in attrs.get("strides", (1, 1)))
        dilation = tuple(int(d) for d in attrs.get("dilations", (1, 1)))
        extra = tuple(int(p) for p in attrs.get("output_padding", (0, 0)))
        image = self.image(node, x)
        _, h, w = self.shape_of[image]
        full = [(size - 1) * s + d * (k - 1) + 1 + e for size, s, d, k, e in
                zip((h, w), stride, dilation, (kh, kw), extra)]
        if "output_shape" in attrs or attrs.get("auto_pad", "NOTSET") not in ("NOTSET",
                                                                                "VALID"):
            out = self.per_image(node.output[0], node)[1:]
            total = [f - o for f, o in zip(full, out)]
            upper = attrs.get("auto_pad") != "SAME_LOWER"
            pads = [t // 2 if upper else t - t // 2 for t in total]
            pads += [t - p for t, p in zip(total, pads)]
        else:
            pads = [int(p) for p in attrs.get("pads", (0, 0, 0, 0))]
        if len(pads) != 4 or min(pads) < 0:
            raise self.error(node, f"padding {pads} is not four sizes of at least 0")
        lifted = self.add(Linear(self.unique(f"{self.label(node)}.columns"), (image,),
                                 out_features=cout * kh * kw))
        self.weights[lifted] = weight.reshape(cin, cout * kh * kw).T
        name = self.add(Col2Im(self.label(node), (lifted,), out_channels=cout,
                               kernel=(kh, kw), stride=stride,
                               padding=(pads[0], pads[1], pads[2], pads[3]),
                               output_padding=extra, dilation=dilation))
        if bias is not None:
            self.biases[name] = np.asarray(bias, dtype=np.float64).reshape(cout, 1, 1)
        self.put(node.output[0], name, self.shape_of[name], (0, 1, 2), like=x)

    def op_ScatterND(self, node) -> None:
        """Entries of the leading k axes replaced by updates at constant indices (PyTorch's
        slice and index assignment: Conditional DETR's ``tmp[..., :2] += reference``,
        BART's ``shift_tokens_right``): the leading axes viewed as one, the data and the
        updates concatenated along it, a take of each entry's source (its own, or its
        update), viewed back. When the first axis is the batch's, each image must take
        the same entries from its own updates; the scatter is then one image's."""
        from onnx import helper
        index, full = self.const(node, 1), self.input_shape(node, 0)
        k = int(np.shape(index)[-1]) if index is not None and np.ndim(index) else 0
        if not 1 <= k <= len(full) or self.attrs(node).get("reduction", "none") != "none":
            return self.unknown(node, "ScatterND is supported with constant indices and no "
                                "reduction")
        index = np.asarray(index, dtype=np.int64)
        lead = np.asarray(full[:k])
        if np.any(index < -lead) or np.any(index >= lead):
            raise self.error(node, f"indices {index.reshape(-1, k)[:4].tolist()} go beyond "
                             f"the data's shape {list(full)}")
        expected = [*index.shape[:-1], *full[k:]]
        if list(self.input_shape(node, 2)) != expected:
            raise self.error(node, f"updates of shape {list(self.input_shape(node, 2))} do "
                             f"not fit indices {list(index.shape)} into data {list(full)}: "
                             f"ONNX needs {expected}")
        index = index % lead
        data, updates = (self.tensors.get(n) for n in (node.input[0], node.input[2]))
        batched = (data or updates).batched and full[0] == self.batch
        if batched:                           # each image's entries in turn, the same
            tuples = index.reshape(-1, k)
            m = len(tuples) // self.batch
            if len(tuples) % self.batch or np.any(tuples[:, 0] != np.repeat(
                    np.arange(self.batch), m)) or np.any(tuples[:, 1:].reshape(
                        self.batch, m, k - 1) != tuples[:m, 1:]):
                return self.unknown(node, "ScatterND along the batch axis is supported when "
                                    "every image takes the same entries from its own updates")
            index, k = tuples[:m, 1:], k - 1
        out, start = node.output[0], int(batched)
        count = math.prod(full[start:start + k])
        positions = np.ravel_multi_index(tuple(index.reshape(-1, k).T), full[start:start + k]
                                         ) if k else np.zeros(math.prod(index.shape[:-1]), int)
        if len(set(positions.tolist())) != len(positions):
            raise self.error(node, "ScatterND writes one entry twice")
        if len(positions) == 0 or k == 0:     # nothing written; each image's whole tensor
            whole = self.scatter_view(node, node.input[0 if len(positions) == 0 else 2], list(full),
                                      f"{out}#whole")
            if whole in self.consts:
                self.consts[out] = self.consts[whole]
            else:
                self.tensors[out] = self.tensors[whole]
            return None
        source = np.arange(count)
        source[positions] = count + np.arange(len(positions))
        head, rest = list(full[:start]), list(full[start + k:])
        flat = [self.scatter_view(node, name, [*head, size, *rest], f"{out}#{role}")
                for name, size, role in ((node.input[0], count, "data"),
                                         (node.input[2], len(positions), "updates"))]
        joined, picked = self.unique(f"{out}#joined"), self.unique(f"{out}#picked")
        self.op_Concat(helper.make_node("Concat", flat, [joined], axis=start,
                                        name=f"{node.name or out}.joined"))
        self.consts[f"{out}#source"] = source
        self.op_Gather(helper.make_node("Gather", [joined, f"{out}#source"],
                                        [picked if k > 1 else out], axis=start,
                                        name=f"{node.name or out}.scatter"))
        if k > 1:
            self.scatter_view(node, picked, list(full), out)
        return None

    def scatter_view(self, node, name: str, shape: list, output: str) -> str:
        """Tensor ``name`` (a constant or an activation) seen as ``shape``, as ``output``;
        ``name`` itself when it has that shape already."""
        from onnx import helper
        if name in self.consts:
            self.consts[output] = np.reshape(self.consts[name], shape)
            return output
        if list(self.full_shape(name, node)) == list(shape):
            return name
        self.consts[f"{output}#shape"] = np.asarray(shape, dtype=np.int64)
        self.op_reshape(helper.make_node("Reshape", [name, f"{output}#shape"], [output],
                                         name=f"{node.name or output}.view"))
        return output

    def input_shape(self, node, index: int) -> tuple[int, ...]:
        """The ONNX shape of the node's input ``index``, a constant or an activation."""
        name = node.input[index]
        return np.shape(self.consts[name]) if name in self.consts else self.full_shape(name,
                                                                                     node)

    def op_Col2Im(self, node) -> None:
        """ONNX's Col2Im (PyTorch's fold; VOLO's outlook attention): the (C·kh·kw, L) blocks
        viewed as (C·kh·kw, Lh, Lw) and added into the image, as a transposed conv's second
        half is (a col2im layer; the image's padding cropped)."""
        x, attrs = self.act(node), self.attrs(node)
        image, block = self.const(node, 1), self.const(node, 2)
        if image is None or block is None or np.size(image) != 2 or np.size(block) != 2:
            return self.unknown(node, "Col2Im needs constant 2-D image and block shapes")
        (h, w), (kh, kw) = (tuple(int(v) for v in np.reshape(a, -1)) for a in (image, block))
        dilation = tuple(int(d) for d in attrs.get("dilations", (1, 1)))
        stride = tuple(int(s) for s in attrs.get("strides", (1, 1)))
        pads = [int(p) for p in attrs.get("pads", (0, 0, 0, 0))]
        full = (h + pads[0] + pads[2], w + pads[1] + pads[3])
        blocks = [(f - d * (k - 1) - 1) // s + 1 for f, d, k, s in zip(full, dilation,
                                                                        (kh, kw), stride)]
        if len(x.shape) != 2 or x.shape[0] % (kh * kw) or min(blocks) < 1 or (
                x.shape[1] != blocks[0] * blocks[1]):
            raise self.error(node, f"input {list(x.shape)} is not C·{kh}·{kw} rows of "
                             f"{blocks[0]} x {blocks[1]} blocks of a {h} x {w} image")
        source = self.image(node, self.viewed(x, (x.shape[0], *blocks), x.batched,
                                              node.name or "col2im"))
        extra = tuple(f - ((b - 1) * s + d * (k - 1) + 1) for f, b, s, d, k in zip(
            full, blocks, stride, dilation, (kh, kw)))
        name = self.add(Col2Im(self.label(node), (source,), out_channels=x.shape[0] // (kh * kw),
                               kernel=(kh, kw), stride=stride, padding=tuple(pads),
                               output_padding=extra, dilation=dilation))
        self.put(node.output[0], name, self.shape_of[name], (0, 1, 2), like=x)

    def op_LRN(self, node) -> None:
        x, attrs = self.act(node), self.attrs(node)
        name = self.add(LRN(self.label(node), (self.image(node, x),),
                            size=int(self.required(node, "size")),
                            alpha=float(attrs.get("alpha", 1e-4)),
                            beta=float(attrs.get("beta", 0.75)),
                            bias=float(attrs.get("bias", 1.0))))
        self.put(node.output[0], name, self.shape_of[name], (0, 1, 2), like=x)

    def op_DepthToSpace(self, node) -> None:
        """Blocks of b x b channels spread over b x b positions (PyTorch's PixelShuffle):
        a view as (b, b, C', H, W) (DCR) or (C', b, b, H, W) (CRD), a transpose to
        (C', H, b, W, b), a view as (C', H·b, W·b). Only layouts move: the layer that next
        needs (C, H, W) order copies the tensor once (a permuting reshape)."""
        x, (b, dcr) = self.act(node), self.blocks(node)
        if not x.batched or len(x.shape) != 3 or x.shape[0] % (b * b):
            raise self.error(node, f"needs an image (N, C, H, W) with C a multiple of "
                             f"{b}², got per-image shape {list(x.shape)}")
        c, h, w = x.shape
        self.rearranged(node, x, (b, b, c // b ** 2, h, w) if dcr else (c // b ** 2, b, b, h, w),
                        (2, 3, 0, 4, 1) if dcr else (0, 3, 1, 4, 2), (c // b ** 2, h * b, w * b))

    def op_SpaceToDepth(self, node) -> None:
        """Each b x b block of positions gathered into channels: a view as
        (C, H/b, b, W/b, b), a transpose to (b, b, C, H/b, W/b) (DCR) or (C, b, b, H/b, W/b)
        (CRD), a view as (C·b², H/b, W/b)."""
        x, (b, dcr) = self.act(node), self.blocks(node)
        if not x.batched or len(x.shape) != 3 or x.shape[1] % b or x.shape[2] % b:
            raise self.error(node, f"needs an image (N, C, H, W) with H and W multiples of "
                             f"{b}, got per-image shape {list(x.shape)}")
        c, h, w = x.shape
        self.rearranged(node, x, (c, h // b, b, w // b, b),
                        (2, 4, 0, 1, 3) if dcr else (0, 2, 4, 1, 3), (c * b * b, h // b, w // b))

    def blocks(self, node) -> tuple[int, bool]:
        """DepthToSpace's and SpaceToDepth's block size, and whether the mode is DCR."""
        b, mode = int(self.required(node, "blocksize")), self.attrs(node).get("mode", "DCR")
        if mode not in ("DCR", "CRD"):
            raise self.error(node, f"mode {mode!r} is not DCR or CRD")
        if b < 1:
            raise self.error(node, f"blocksize {b} is not a positive integer")
        return b, mode == "DCR"

    def rearranged(self, node, x: Tensor, view: tuple, order: tuple, out: tuple) -> None:
        """``x`` viewed as ``view``, its axes put in ``order``, viewed as ``out``."""
        stem = node.name or node.op_type
        x = transposed(self.viewed(x, view, x.batched, stem), order)
        self.tensors[node.output[0]] = self.viewed(x, out, x.batched, stem)

    def viewed(self, x: Tensor, shape: tuple, batched: bool, stem: str) -> Tensor:
        """``x`` seen as ``shape`` (a reshape): a layout of the same data read in the same
        order, else, when there is none, after a copy into row-major order."""
        perm = reshaped_perm(x.shape, x.perm, shape)
        if perm is None:                      # the data order must become row-major first
            layer = self.materialize(x, tuple(range(len(x.shape))), 1, stem)
            x, perm = Tensor(layer, x.shape, tuple(range(len(x.shape)))), tuple(
                range(len(shape)))
        return Tensor(x.layer, shape, perm, batched)
