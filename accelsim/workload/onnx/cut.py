"""Cutting an ONNX graph at chosen tensors: ``load_onnx(..., inputs=[...], outputs=[...])``.

A detector's exported graph ends in post-processing (box decoding, non-maximum suppression,
``If`` branches on how many boxes survived) that depends on the data and that an accelerator
hands to a host; a sequence-to-sequence model begins with host work on token ids (mBART
shifts its decoder's ids to the position of each sentence's end). Cutting the graph keeps the
network the accelerator runs: the nodes the chosen outputs need, in the file's order, stopping
at the chosen inputs, which become graph inputs of their inferred type and shape; and only the
inputs and initializers those nodes read. The cut model is what the importer then reads; the
file is not changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from accelsim.errors import AccelsimError, SpecError
from accelsim.workload.onnx.reading import (
    apply_input_shapes,
    check_graph_form,
    checked_input_shapes,
    inferred,
    read_model,
)

MAX_SUGGESTIONS = 3


def prepared(path, *, inputs=None, outputs=None, input_shapes=None):
    """The ONNX file ``path`` as the importer reads it: its graph checked, cut at ``inputs``
    and ``outputs`` when given, and its inputs of the shapes ``input_shapes`` gives."""
    source = str(path)
    inputs = checked_names(inputs, "inputs", source)
    outputs = checked_names(outputs, "outputs", source)
    model = read_model(Path(path))
    check_graph_form(model, source)
    if inputs is not None or outputs is not None:
        model = cut_at(model, source, inputs=inputs, outputs=outputs)
    apply_input_shapes(model, source, checked_input_shapes(model, source, input_shapes))
    return model


def checked_names(names, what: str, source: str) -> list[str] | None:
    """``names`` (``inputs`` or ``outputs``) as a list of distinct tensor names, or one
    SpecError naming the argument."""
    if names is None:
        return None
    if isinstance(names, str):
        names = [names]
    if isinstance(names, bytes) or not isinstance(names, Iterable):
        raise SpecError(source, what, f"must be a list of tensor names, got {names!r}")
    names = list(names)
    if not names:
        raise SpecError(source, what, "is empty: name at least one tensor to cut at")
    for name in names:
        if not isinstance(name, str) or not name:
            raise SpecError(source, what, f"{name!r} is not a tensor name")
    if len(set(names)) != len(names):
        raise SpecError(source, what, f"names a tensor twice: {names}")
    return names


def cut_at(model, source: str, *, inputs: list[str] | None = None,
           outputs: list[str] | None = None):
    """A copy of ``model`` whose outputs are ``outputs`` (default: its own) and which starts
    at ``inputs`` (default: its own): the nodes the outputs need (in order) up to the inputs,
    and the graph inputs and initializers those nodes read. Refuses a name that no node
    gives (suggesting the closest names), an input the outputs do not need, and an input whose
    node the cut needs for another of its outputs."""
    import onnx

    graph = model.graph
    producer = {}
    for index, node in enumerate(graph.node):
        for out in node.output:
            if out:
                producer.setdefault(out, index)
    given = {info.name for info in graph.input}
    outputs = outputs or [info.name for info in graph.output]
    starts = [name for name in inputs or () if name not in given]
    for what, names in (("outputs", outputs), ("inputs", starts)):
        for name in names:
            if name not in producer and name not in given:
                close = difflib.get_close_matches(name, list(producer), n=MAX_SUGGESTIONS)
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                raise SpecError(source, f"{what}: '{name}'",
                                f"no node of the graph gives this tensor{hint}")
    needed, keep = set(outputs), [False] * len(graph.node)
    for index in range(len(graph.node) - 1, -1, -1):
        node = graph.node[index]
        if not any(out in needed and out not in starts for out in node.output if out):
            continue
        if clash := [out for out in node.output if out in starts]:
            raise SpecError(source, f"inputs: '{clash[0]}'", f"comes from node "
                            f"'{node.name or node.op_type}', which the cut also needs for "
                            "its other outputs")
        keep[index] = True
        needed.update(_reads(node))
    if unused := [name for name in starts if name not in needed]:
        raise SpecError(source, f"inputs: '{unused[0]}'", "is not needed by the outputs")
    cut = onnx.ModelProto()
    cut.CopyFrom(model)
    nodes = [node for node, kept in zip(graph.node, keep) if kept]
    del cut.graph.node[:]
    cut.graph.node.extend(nodes)
    kept_inputs = [info for info in graph.input if info.name in needed]
    kept_inputs += _typed(model, starts, source)
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


def _typed(model, names: list[str], source: str) -> list:
    """Value infos of the tensors ``names`` with their element type and shape: as the file
    declares them, else as ONNX's shape inference finds them (without the weights' values)."""
    if not names:
        return []
    import onnx

    known = {info.name: info for info in model.graph.value_info}
    if any(not _has_type(known.get(name)) for name in names):
        try:
            typed = inferred(model)
        except Exception as exc:
            raise SpecError(source, "inputs", "the inputs' types need ONNX's shape "
                            f"inference, which failed: {str(exc)[:300]}") from None
        known.update((info.name, info) for info in typed.graph.value_info if _has_type(info))
    infos = []
    for name in names:
        if not _has_type(known.get(name)):
            raise SpecError(source, f"inputs: '{name}'", "ONNX's shape inference gives no "
                            "type for this tensor, so it cannot become an input")
        info = onnx.ValueInfoProto()
        info.CopyFrom(known[name])
        infos.append(info)
    return infos


def _has_type(info) -> bool:
    return (info is not None and info.type.HasField("tensor_type")
            and info.type.tensor_type.elem_type != 0)


def _reads(node) -> set[str]:
    """Every tensor ``node`` reads, including names its subgraphs take from the graph
    around them."""
    names = {name for name in node.input if name}
    for attribute in node.attribute:
        for sub in (*([attribute.g] if attribute.HasField("g") else []), *attribute.graphs):
            for inner in sub.node:
                names.update(_reads(inner))
    return names


def graph_tensors(path) -> list[tuple[str, str, str, str]]:
    """Every tensor a node of the ONNX file ``path`` gives, as (operator, node name, tensor
    name, shape as ONNX's shape inference finds it, '?' where it finds none): the names that
    ``inputs=`` and ``outputs=`` take."""
    model = read_model(Path(path))
    check_graph_form(model, str(path))
    try:
        infos = inferred(model).graph.value_info
    except Exception:                   # no shapes, but the names still help
        infos = []
    shapes = {}
    for info in (*infos, *model.graph.output):
        if info.type.tensor_type.HasField("shape"):
            dims = [str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                    for d in info.type.tensor_type.shape.dim]
            shapes[info.name] = f"[{', '.join(dims)}]"
    return [(node.op_type, node.name, out, shapes.get(out, "?"))
            for node in model.graph.node for out in node.output if out]


PROTOBUF_LIMIT = 2 ** 31 - 1            # bytes: larger models keep their weights beside them


def write_cut(path, target, *, inputs: list[str] | None = None,
              outputs: list[str] | None = None, input_shapes=None) -> int:
    """Write the part of the ONNX file ``path`` between ``inputs`` and ``outputs`` (as
    ``load_onnx`` would import it), its inputs of the shapes ``input_shapes`` gives, to
    ``target``, a .onnx Path the caller has checked it may write (results.files.output_path);
    weights beyond protobuf's 2 GB go to ``target``.data beside it. Returns the number of
    nodes kept."""
    import onnx

    if target.suffix != ".onnx":
        raise AccelsimError(f"{target}: a cut model is written as ONNX (.onnx)")
    if inputs is None and outputs is None and not input_shapes:
        raise SpecError(str(path), "", "give the tensors to cut at (inputs, outputs) or the "
                        "inputs' shapes")
    cut = prepared(path, inputs=inputs, outputs=outputs, input_shapes=input_shapes)
    if not cut.graph.node:
        raise SpecError(str(path), "", "the cut keeps no node (its outputs are graph inputs "
                        "or among its inputs)")
    large = cut.ByteSize() > PROTOBUF_LIMIT
    try:
        onnx.save_model(cut, str(target), save_as_external_data=large,
                        all_tensors_to_one_file=True, location=f"{target.name}.data")
    except OSError as exc:
        raise AccelsimError(f"{target}: cannot write: {exc.strerror or exc}") from None
    return len(cut.graph.node)
