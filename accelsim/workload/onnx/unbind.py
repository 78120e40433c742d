"""A transpose that moves the batch inwards only to unbind another axis, rewritten so that the
batch stays first (exported at a batch above 1).

Attention in timm and many other models computes q, k and v in one projection and splits
them as ``qkv.reshape(B, N, 3, heads, d).permute(2, 0, 3, 1, 4).unbind(0)``. The permuted
tensor [3, B, heads, N, d] holds the batch second, which the importer does not follow (each
image's data must stay a block of its own). Every reader of it, though, picks one entry of
its first axis (Slice then Squeeze, Gather of one index, or Split into ones then Squeeze),
after which the batch is first again. Picking the entry before the transpose gives the same
tensors: Gather(x, i, axis=perm[0]), then Transpose by the rest of the permutation.
"""

from __future__ import annotations

import numpy as np

from accelsim.workload.onnx.fusion import _Graph
from accelsim.workload.onnx.reading import onnx_module


def unbound(nodes: list, constants: dict[str, np.ndarray], outputs: set[str],
            opset: int) -> list:
    """``nodes`` with each such transpose and its readers' picks replaced by a Gather and a
    Transpose per entry picked (``constants`` gains the indices)."""
    onnx = onnx_module()
    helper = onnx.helper
    graph = _Graph(nodes, constants, outputs)
    values = dict(constants)                 # initializers and Constant nodes, as arrays
    for node in nodes:
        if node.op_type == "Constant" and _attr(node, "value") is not None:
            values[node.output[0]] = onnx.numpy_helper.to_array(_attr(node, "value"))
    replaced: dict[int, list | None] = {}
    for node in nodes:
        perm = list(_attr(node, "perm", [])) if node.op_type == "Transpose" else []
        if len(perm) < 3 or perm[0] == 0 or perm[1] != 0 or node.output[0] in outputs:
            continue
        picks = [_picks(graph, values, reader, node.output[0], opset)
                 for reader in graph.readers.get(node.output[0], [])]
        if not picks or any(p is None for p in picks):
            continue
        rest = [a - (a > perm[0]) for a in perm[1:]]
        replaced[id(node)] = None
        for chains in picks:
            for index, out, pieces in chains:
                for piece in pieces:
                    replaced[id(piece)] = None
                constants[f"{out}#entry"] = np.array(index, dtype=np.int64)
                picked = helper.make_node("Gather", [node.input[0], f"{out}#entry"],
                                          [f"{out}#picked"], axis=perm[0],
                                          name=f"{pieces[-1].name or out}#pick")
                moved = helper.make_node("Transpose", [f"{out}#picked"], [out], perm=rest,
                                         name=f"{pieces[-1].name or out}#transpose")
                replaced[id(pieces[-1])] = [picked, moved]
    if not replaced:
        return nodes
    result = []
    for node in nodes:
        if id(node) not in replaced:
            result.append(node)
        elif replaced[id(node)] is not None:
            result.extend(replaced[id(node)])
    return result


def _ints(values: dict, name: str) -> list[int] | None:
    """A small constant input as integers (None if absent or computed)."""
    value = values.get(name) if name else None
    return None if value is None else [int(v) for v in np.asarray(value).reshape(-1)]


def _attr(node, name: str, default=None):
    for attr in node.attribute:
        if attr.name == name:
            return onnx_module().helper.get_attribute_value(attr)
    return default


def _squeezed(graph: _Graph, values: dict, name: str, opset: int):
    """The Squeeze of axis 0 that is the only reader of ``name``, or None."""
    reader = graph.only_reader(name)
    if reader is None or reader.op_type != "Squeeze":
        return None
    axes = (_ints(values, reader.input[1]) if opset >= 13 and len(reader.input) > 1
            else _attr(reader, "axes"))
    return reader if axes is not None and list(axes) == [0] else None


def _picks(graph: _Graph, values: dict, reader, name: str, opset: int) -> list | None:
    """[(index, output, pieces)] of the entries of axis 0 that ``reader`` picks from
    ``name``, or None when it does anything else."""
    if reader.input[0] != name or any(i == name for i in reader.input[1:]):
        return None
    if reader.op_type == "Gather":
        index = _ints(values, reader.input[1])
        if (_attr(reader, "axis", 0) != 0 or index is None or len(index) != 1
                or index[0] < 0 or np.ndim(values[reader.input[1]]) != 0):
            return None
        return [(index[0], reader.output[0], [reader])]
    if reader.op_type == "Slice" and opset >= 10:
        starts, ends = _ints(values, reader.input[1]), _ints(values, reader.input[2])
        axes = _ints(values, reader.input[3]) if len(reader.input) > 3 else [0]
        steps = _ints(values, reader.input[4]) if len(reader.input) > 4 else [1]
        squeeze = _squeezed(graph, values, reader.output[0], opset)
        if (starts is None or ends is None or len(starts) != 1 or axes != [0]
                or steps != [1] or starts[0] < 0 or ends[0] != starts[0] + 1
                or squeeze is None):
            return None
        return [(starts[0], squeeze.output[0], [reader, squeeze])]
    if reader.op_type == "Split" and _attr(reader, "axis", 0) == 0:
        sizes = (_ints(values, reader.input[1]) if len(reader.input) > 1
                 else _attr(reader, "split"))
        squeezes = [_squeezed(graph, values, out, opset) for out in reader.output]
        if (sizes is not None and any(s != 1 for s in sizes)) or any(
                s is None for s in squeezes):
            return None
        return [(i, squeeze.output[0], [reader, squeeze] if i == len(squeezes) - 1
                 else [squeeze]) for i, squeeze in enumerate(squeezes)]
    return None
