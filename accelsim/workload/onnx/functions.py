"""ONNX operators defined as functions of other operators (GroupNormalization, Shrink,
MeanVarianceNormalization, LogSoftmax, ReduceL2, ...): where the importer has no handler of
its own for such a node, the node is replaced by the function's body from the ONNX operator
schema, at the model's opset, and the importer sees the primitive operators. ONNX's own
inliner does the renaming and attribute binding (the bodies become model-local functions
in a private domain first)."""

from __future__ import annotations

from collections.abc import Callable

DOMAIN = "accelsim.expanded"


def expand_functions(model, opset: int, handled: Callable[[str], bool]):
    """``model`` with every default-domain node the importer does not handle (``handled``
    False) and whose operator has a function body at ``opset`` replaced by that body; the
    model itself when there is none."""
    from onnx import FunctionProto, TypeProto, defs, helper, shape_inference
    try:
        from onnx import inliner  # onnx >= 1.16
    except ImportError:
        return model
    if not hasattr(defs.OpSchema, "get_context_dependent_function_with_opset_version"):
        return model
    candidates = []
    for index, node in enumerate(model.graph.node):
        if node.domain not in ("", "ai.onnx") or handled(node.op_type):
            continue
        try:
            schema = defs.get_schema(node.op_type, opset)
        except Exception:       # an operator unknown at this opset: the importer says so
            continue
        if schema.has_function or schema.has_context_dependent_function:
            candidates.append((index, node, schema))
    if not candidates:
        return model
    original = type(model)()
    original.CopyFrom(model)
    types = None
    bodies = []
    for index, node, schema in candidates:
        raw = None
        if schema.has_function:
            versions = [v for v in schema.function_opset_versions if v <= opset]
            raw = schema.get_function_with_opset_version(max(versions)) if versions else None
        else:
            if types is None:     # the input types a context-dependent body is built for
                typed = shape_inference.infer_shapes(model, strict_mode=False)
                types = {v.name: v.type for v in (*typed.graph.value_info, *typed.graph.input,
                                                  *typed.graph.output)}
                types.update({t.name: helper.make_tensor_type_proto(t.data_type, list(t.dims))
                              for t in model.graph.initializer})
            if all(name in types for name in node.input if name):
                versions = [v for v in schema.context_dependent_function_opset_versions
                            if v <= opset]
                if versions:
                    raw = schema.get_context_dependent_function_with_opset_version(
                        max(versions), node.SerializeToString(),
                        [(types[name] if name else TypeProto()).SerializeToString()
                         for name in node.input])
        body = FunctionProto.FromString(raw) if raw else None
        if body is None or not body.node or not all(
                inner.domain in ("", "ai.onnx") and handled(inner.op_type)
                for inner in body.node):
            continue            # (a body with subgraphs or other unhandled nodes: as it is)
        given = {attribute.name for attribute in node.attribute}
        for name, attribute in schema.attributes.items():
            default = attribute.default_value
            if name not in given and default.type:      # the body may refer to it
                filled = type(default)()
                filled.CopyFrom(default)
                filled.name = name
                node.attribute.append(filled)
        for inner in body.node:        # errors then name the operator the model has
            outer = f"{node.name} ({node.op_type})" if node.name else node.op_type
            inner.name = f"{outer}/{inner.op_type}"
        body.domain, body.name = DOMAIN, f"{node.op_type}_{index}"
        bodies.append(body)
        node.domain, node.op_type = DOMAIN, body.name
    if not bodies:
        return original
    expanded = type(model)()
    expanded.CopyFrom(model)
    expanded.functions.extend(bodies)
    expanded.opset_import.append(helper.make_opsetid(DOMAIN, 1))
    try:
        return inliner.inline_local_functions(expanded, convert_version=True)
    except Exception:       # ONNX's inliner could not: the nodes stay as they are
        return original
