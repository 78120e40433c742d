"""Cutting an ONNX graph at chosen tensors: ``load_onnx(..., outputs=[...])``.

A detector's exported graph ends in post-processing (box decoding, non-maximum suppression,
``If`` branches on how many boxes survived) that depends on the data and that an accelerator
hands to a host. Cutting the graph at the heads' outputs keeps the network the accelerator
runs: the nodes those tensors need, in the file's order, and only the inputs and
initializers those nodes read. The cut model is what the importer then reads; the file is
not changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from accelsim.errors import SpecError

MAX_SUGGESTIONS = 3


def checked_outputs(outputs, source: str) -> list[str] | None:
    """``outputs`` as a list of distinct tensor names, or one SpecError naming the argument."""
    if outputs is None:
        return None
    if isinstance(outputs, str):
        outputs = [outputs]
    if isinstance(outputs, bytes) or not isinstance(outputs, Iterable):
        raise SpecError(source, "outputs", f"must be a list of tensor names, got {outputs!r}")
    names = list(outputs)
    if not names:
        raise SpecError(source, "outputs", "is empty: name at least one tensor to cut at")
    for name in names:
        if not isinstance(name, str) or not name:
            raise SpecError(source, "outputs", f"{name!r} is not a tensor name")
    if len(set(names)) != len(names):
        raise SpecError(source, "outputs", f"names a tensor twice: {names}")
    return names


def cut_at(model, outputs: list[str], source: str):
    """A copy of ``model`` whose outputs are ``outputs``: the nodes they need (in order) and
    the graph inputs and initializers those nodes read. Refuses a name that no node gives,
    suggesting the closest names."""
    import onnx

    graph = model.graph
    producer = {}
    for index, node in enumerate(graph.node):
        for out in node.output:
            if out:
                producer.setdefault(out, index)
    inputs = {info.name for info in graph.input}
    for name in outputs:
        if name not in producer and name not in inputs:
            close = difflib.get_close_matches(name, list(producer), n=MAX_SUGGESTIONS)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise SpecError(source, f"outputs: '{name}'",
                            f"no node of the graph gives this tensor{hint}")
    needed = set(outputs)
    keep = [False] * len(graph.node)
    for index in range(len(graph.node) - 1, -1, -1):
        node = graph.node[index]
        if not any(out in needed for out in node.output if out):
            continue
        keep[index] = True
        needed.update(_reads(node))
    cut = onnx.ModelProto()
    cut.CopyFrom(model)
    nodes = [node for node, kept in zip(graph.node, keep) if kept]
    del cut.graph.node[:]
    cut.graph.node.extend(nodes)
    kept_inputs = [info for info in graph.input if info.name in needed]
    del cut.graph.input[:]
    cut.graph.input.extend(kept_inputs)
    kept_weights = [t for t in graph.initializer if t.name in needed]
    del cut.graph.initializer[:]
    cut.graph.initializer.extend(kept_weights)
    known = {info.name: info for info in (*graph.output, *graph.value_info, *graph.input)}
    del cut.graph.output[:]
    for name in outputs:
        info = onnx.ValueInfoProto()
        if name in known:
            info.CopyFrom(known[name])
        else:
            info.name = name
        cut.graph.output.append(info)
    return cut


def _reads(node) -> set[str]:
    """Every tensor ``node`` reads, including names its subgraphs take from the graph
    around them."""
    names = {name for name in node.input if name}
    for attribute in node.attribute:
        for sub in (*([attribute.g] if attribute.HasField("g") else []), *attribute.graphs):
            for inner in sub.node:
                names.update(_reads(inner))
    return names
