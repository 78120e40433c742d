"""ONNX operators defined as functions of other operators (GroupNormalization, Celu, Shrink,
ThresholdedRelu, ...): where the importer has no handler of its own for such a node, the node
is replaced by the function's body from the ONNX operator schema, at the model's opset, and
the importer sees the primitive operators (a body it cannot import is refused naming the node
it came from). ONNX's own inliner does the renaming and attribute binding (the bodies become
model-local functions in a private domain first)."""

from __future__ import annotations

from collections.abc import Callable

from accelsim.workload.onnx.reading import without_weights

DOMAIN = "accelsim.expanded"


# Operators ONNX gives no function body, written here as functions of others in ONNX's
# textual syntax at the model's opset (attributes given by the node, else the schema's
# defaults, as above).
def instance_normalization(opset: int, rank: int) -> str:
    """scale (x - mean) / sqrt(var + epsilon) + B, the statistics over each image's positions
    per channel (ONNX's definition; (N, C, D1, ...) inputs of ``rank`` axes, at least 3)."""
    spatial = list(range(2, rank))
    inner = list(range(1, rank - 1))

    def ints(values: list[int]) -> str:
        return ", ".join(map(str, values))

    def mean(x: str) -> str:
        return (f"ReduceMean <keepdims = 1> ({x}, axes)" if opset >= 18
                else f"ReduceMean <keepdims = 1, axes = [{ints(spatial)}]> ({x})")

    def per_channel(x: str) -> str:
        return (f"Unsqueeze ({x}, channels)" if opset >= 13
                else f"Unsqueeze <axes = [{ints(inner)}]> ({x})")
    return f"""
<domain: "{DOMAIN}", opset_import: ["" : {opset}]>
InstanceNormalization <epsilon> (x, scale, B) => (y) {{
    axes = Constant <value = int64[{len(spatial)}] {{{ints(spatial)}}}> ()
    channels = Constant <value = int64[{len(inner)}] {{{ints(inner)}}}> ()
    mean = {mean("x")}
    centred = Sub (x, mean)
    squares = Mul (centred, centred)
    variance = {mean("squares")}
    eps = Constant <value_float: float = @epsilon> ()
    shifted = Add (variance, eps)
    deviation = Sqrt (shifted)
    normal = Div (centred, deviation)
    gamma = {per_channel("scale")}
    beta = {per_channel("B")}
    scaled = Mul (normal, gamma)
    y = Add (scaled, beta)
}}"""


OWN_BODIES = {"InstanceNormalization": instance_normalization}


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
        if (schema.has_function or schema.has_context_dependent_function
                or node.op_type in OWN_BODIES):
            candidates.append((index, schema))
    if not candidates:
        return model
    expanded = type(model)()        # the caller's model stays as it is
    expanded.CopyFrom(model)
    types = {}

    def typed(name: str):
        """The inferred type of a tensor (the input types a body is built for), or None."""
        if not types:
            inferred = shape_inference.infer_shapes(without_weights(model), strict_mode=False)
            types.update({v.name: v.type for v in (*inferred.graph.value_info,
                                                   *inferred.graph.input,
                                                   *inferred.graph.output)})
            types.update({t.name: helper.make_tensor_type_proto(t.data_type, list(t.dims))
                          for t in model.graph.initializer})
        return types.get(name)
    bodies = []
    for index, schema in candidates:
        node = expanded.graph.node[index]
        raw = None
        if node.op_type in OWN_BODIES:
            from onnx import parser
            given = typed(node.input[0])
            rank = (len(given.tensor_type.shape.dim) if given is not None
                    and given.tensor_type.HasField("shape") else 0)
            if rank < 3:        # (the importer then refuses the node, naming it)
                continue
            raw = parser.parse_function(OWN_BODIES[node.op_type](opset, rank)
                                        ).SerializeToString()
        elif schema.has_function:
            versions = [v for v in schema.function_opset_versions if v <= opset]
            raw = schema.get_function_with_opset_version(max(versions)) if versions else None
        else:
            if all(typed(name) is not None for name in node.input if name):
                versions = [v for v in schema.context_dependent_function_opset_versions
                            if v <= opset]
                if versions:
                    raw = schema.get_context_dependent_function_with_opset_version(
                        max(versions), node.SerializeToString(),
                        [(typed(name) if name else TypeProto()).SerializeToString()
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
        outer = f"{node.name} ({node.op_type})" if node.name else node.op_type
        for inner in body.node:        # errors then name the operator the model has
            inner.name = f"{outer}/{inner.op_type}"
        body.domain, body.name = DOMAIN, f"{node.op_type}_{index}"
        bodies.append(body)
        node.domain, node.op_type = DOMAIN, body.name
    if not bodies:
        return model
    expanded.functions.extend(bodies)
    expanded.opset_import.append(helper.make_opsetid(DOMAIN, 1))
    try:     # (converting a body to the model's opset needs the tensors' types)
        typed_copy = shape_inference.infer_shapes(without_weights(expanded), strict_mode=False)
        expanded.graph.value_info.extend(typed_copy.graph.value_info)
        return inliner.inline_local_functions(expanded, convert_version=True)
    except Exception:       # ONNX's inliner could not: the nodes stay as they are
        return model
