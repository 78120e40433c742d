"""Reading an ONNX file safely: external data only from inside the model's folder, tensor
sizes checked against their dimensions before anything is read."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

from accelsim.errors import SpecError
from accelsim.spec.yamlfile import check_regular_file, path_kind

MAX_ELEMENTS = 1 << 31          # per tensor: anything larger is refused as absurd
MAX_RANK = 32                   # axes per tensor (numpy's limit is 64; models use up to ~8)


def onnx_module():
    """The onnx package, or a clear error saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise SpecError("onnx", "", "ONNX import needs the onnx package: "
                        "pip install 'accelsim[onnx]'") from None
    return onnx


# Floating-point element types (FLOAT, FLOAT16, DOUBLE, BFLOAT16): weights may be left out
# of a graph-only model, and a Cast between them changes no value accelsim models
# (activations are quantized to the chip's widths anyway), so it is free.
FLOAT_TYPES = (1, 10, 11, 16)
# ONNX element types of integers (UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64):
# a Cast to one truncates toward zero.
INTEGER_TYPES = (2, 3, 4, 5, 6, 7, 12, 13)


def read_model(path: Path):
    onnx = onnx_module()
    source = str(path)
    if path_kind(path) == "missing":
        raise SpecError(source, "", "no such file")
    check_regular_file(path, 2 ** 32)
    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:         # protobuf raises its own DecodeError types
        raise SpecError(source, "", f"not a valid ONNX model ({type(exc).__name__}: "
                        f"{str(exc)[:200] or 'could not be parsed'})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise SpecError(source, "", "the model has no graph nodes (truncated or empty file?)")
    load_external_data(model, path)
    return model


# Floating-point initializers larger than this are weights to shape inference, which needs
# only their dimensions (it reads the values of small and integer tensors: shapes, axes).
LEAN_ELEMENTS = 64


def without_weights(model):
    """A copy of ``model`` for shape inference: large floating-point initializers keep their
    name, type and dimensions but not their values. Inferring shapes serializes the whole
    model; a VGG-11's 0.5 GB of weights made that most of its import."""
    lean = type(model)()
    for field, value in model.ListFields():
        if field.name != "graph":
            _copy_field(lean, field, value)
    for field, value in model.graph.ListFields():
        if field.name != "initializer":
            _copy_field(lean.graph, field, value)
    for tensor in model.graph.initializer:
        if tensor.data_type in FLOAT_TYPES and math.prod(tensor.dims) > LEAN_ELEMENTS:
            kept = lean.graph.initializer.add()
            kept.name, kept.data_type = tensor.name, tensor.data_type
            kept.dims.extend(tensor.dims)
        else:
            lean.graph.initializer.add().CopyFrom(tensor)
    return lean


def _copy_field(target, field, value) -> None:
    if hasattr(value, "extend"):                  # a repeated field
        getattr(target, field.name).extend(value)
    elif field.message_type is not None:
        getattr(target, field.name).CopyFrom(value)
    else:
        setattr(target, field.name, value)


def has_no_data(tensor) -> bool:
    """An initializer whose values are not in the file: its external data file is absent
    (left EXTERNAL by load_external_data) or it was stripped (dimensions but no values)."""
    onnx = onnx_module()
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        return True
    fields = ("raw_data", "float_data", "double_data", "int32_data", "int64_data",
              "uint64_data", "string_data")
    return (math.prod(tensor.dims) > 0 and not any(len(getattr(tensor, f)) for f in fields))


def all_tensors(model):
    graph = model.graph
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t


def load_external_data(model, path: Path) -> None:
    """Read external tensor data, refusing any location outside the model's folder. A data
    file that is not there leaves its tensors external: the model imports graph-only."""
    onnx = onnx_module()
    folder = path.resolve().parent
    for tensor in all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        where = f"initializer '{tensor.name}'"
        location = info.get("location", "")
        relative = Path(location)
        if not location or relative.is_absolute() or ".." in relative.parts:
            raise SpecError(str(path), where, f"external data location {location!r} is not a "
                            "plain path inside the model's folder; refused")
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder):
            raise SpecError(str(path), where, f"external data {location!r} leads outside the "
                            "model's folder (a symlink?); refused")
        kind = path_kind(target)
        if kind == "missing":
            continue        # not shipped: imported graph-only (see has_no_data)
        if kind != "file":
            raise SpecError(str(path), where, f"external data {location!r} is not a file")
        offset = int(info.get("offset", 0))
        size = target.stat().st_size
        length = int(info.get("length", size - offset))
        if offset < 0 or length < 0 or offset + length > size:
            raise SpecError(str(path), where, f"external data {location!r} is shorter than "
                            f"the tensor (offset {offset}, length {length}, file {size} bytes)")
        expected = element_count(tensor.dims, str(path), where) * itemsize(tensor, str(path), where)
        if length != expected:
            raise SpecError(str(path), where, f"external data holds {length} bytes, the "
                            f"tensor's dimensions need {expected}")
        with open(target, "rb") as handle:
            handle.seek(offset)
            tensor.raw_data = handle.read(length)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT


def element_count(dims, source: str, where: str) -> int:
    if any(d < 0 for d in dims):
        raise SpecError(source, where, f"negative dimension in {list(dims)}")
    total = math.prod(int(d) for d in dims)
    if total > MAX_ELEMENTS:
        raise SpecError(source, where, f"dimensions {list(dims)} give {total:,} elements, "
                        f"more than the {MAX_ELEMENTS:,} accelsim accepts")
    return total


def itemsize(tensor, source: str, where: str) -> int:
    from onnx import helper
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
    except Exception:
        raise SpecError(source, where, f"unsupported tensor data type {tensor.data_type}") \
            from None


def inferred(model):
    """``model`` as ONNX's shape inference types it (non-strict, propagating constant shape
    data), run on a copy without the weights' values; it raises what inference raises."""
    return onnx_module().shape_inference.infer_shapes(without_weights(model),
                                                      strict_mode=False, data_prop=True)


def model_opset(model) -> int:
    """The model's version of the default ONNX operator set (13 when it names none)."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)


def node_label(node) -> str:
    """How an error names a node: by its name, else by its operator."""
    return f"node '{node.name}' ({node.op_type})" if node.name else f"a {node.op_type} node"


def form_problem(node, opset: int) -> str | None:
    """What makes a node malformed by its operator's schema at the model's opset, before any
    of its values are read: too few or too many inputs or outputs, a required input left
    empty, an attribute given twice, a Constant without exactly one value. None if it is
    well formed or its operator has no schema here (unknown operators are reported by the
    importer)."""
    names = [attribute.name for attribute in node.attribute]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        return f"attribute {', '.join(map(repr, twice))} given more than once"
    if node.op_type == "Constant" and len(names) != 1:
        return (f"a Constant has exactly one value attribute, this one has {len(names)} "
                f"({', '.join(sorted(names)) or 'none'})")
    schema = _schema(node.op_type, node.domain, opset)
    if schema is None:
        return None
    inputs, outputs = len(node.input), len(node.output)
    if not schema.min_input <= inputs <= schema.max_input:
        return (f"{node.op_type} takes {_count(schema.min_input, schema.max_input)} inputs, "
                f"this one has {inputs}")
    if not schema.min_output <= outputs <= schema.max_output:
        return (f"{node.op_type} gives {_count(schema.min_output, schema.max_output)} "
                f"outputs, this one has {outputs}")
    for index, formal in enumerate(schema.inputs[:inputs]):
        if not node.input[index] and formal.option == formal.option.Single:
            return f"{node.op_type}'s required input {index} ('{formal.name}') is empty"
    from onnx import AttributeProto
    kind = AttributeProto.AttributeType.Name
    for attribute in node.attribute:
        formal = schema.attributes.get(attribute.name)
        if formal is not None and int(attribute.type) != int(formal.type):
            return (f"attribute '{attribute.name}' is {kind(attribute.type)}, "
                    f"{node.op_type} takes {kind(int(formal.type))}")
    missing = [name for name, formal in schema.attributes.items()
               if formal.required and name not in names]
    if missing:
        return f"missing required attribute {', '.join(map(repr, missing))}"
    return None


def _count(low: int, high: int) -> str:
    return str(low) if low == high else (f"at least {low}" if high > 1_000 else
                                         f"{low} to {high}")


@cache
def _schema(op: str, domain: str, opset: int):
    from onnx import defs
    try:
        return defs.get_schema(op, opset, "" if domain == "ai.onnx" else domain)
    except defs.SchemaError:
        return None


def checked_input_shapes(model, source: str, input_shapes) -> dict[str, list[int]]:
    """``input_shapes`` ({graph input: full shape}) with each name a graph input and each
    dimension a whole number from 1 (no bool, no fraction), or one SpecError naming it."""
    if input_shapes is None:
        return {}
    if not isinstance(input_shapes, Mapping):
        raise SpecError(source, "input_shapes", "must be a dict {graph input name: shape}, "
                        f"got {type(input_shapes).__name__}")
    names = [info.name for info in model.graph.input]
    shapes = {}
    for name, shape in input_shapes.items():
        if name not in names:
            raise SpecError(source, f"input_shapes.{name}", "not a graph input; the inputs "
                            f"are {', '.join(names[:20]) or 'none'}")
        if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
            raise SpecError(source, f"input_shapes.{name}", f"must be a list of dimensions, "
                            f"got {shape!r}")
        shape = list(shape)
        if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                   and 1 <= d <= MAX_ELEMENTS for d in shape):
            raise SpecError(source, f"input_shapes.{name}", f"{shape}: each dimension must "
                            f"be a whole number from 1 to {MAX_ELEMENTS:,}")
        shapes[name] = [int(d) for d in shape]
    return shapes


def apply_input_shapes(model, source: str, input_shapes: dict[str, list[int]]) -> None:
    """Write each shape ``input_shapes`` gives (checked_input_shapes) into its graph input,
    which must have as many axes if it declares any; refuse an input that declares no shape
    at all (a tensor a cut made an input, whose shape inference found none) and is given
    none."""
    weights = {t.name for t in model.graph.initializer}
    for info in model.graph.input:
        if info.name in weights or not info.type.HasField("tensor_type"):
            continue
        tensor_type, given = info.type.tensor_type, input_shapes.get(info.name)
        if given is None:
            if not tensor_type.HasField("shape"):
                raise SpecError(source, f"input '{info.name}'", "has no known shape; give "
                                "input_shapes= (CLI: --input-shape NAME=D1,D2,...)")
            continue
        dims = tensor_type.shape.dim
        if tensor_type.HasField("shape") and len(given) != len(dims):
            raise SpecError(source, f"input '{info.name}'", f"input_shapes gives "
                            f"{len(given)} dimensions, the model has {len(dims)}")
        tensor_type.shape.Clear()
        for value in given:
            tensor_type.shape.dim.add().dim_value = int(value)


def check_graph_form(model, source: str) -> None:
    """Refuse, before ONNX's shape inference sees them, a node input that no node,
    initializer or graph input gives, a node its schema refuses (form_problem) and a
    negative dimension declared on a graph input, output or value_info (shape inference
    aborts the process on some: a C++ assertion)."""
    graph = model.graph
    given = ({t.name for t in graph.initializer} | {i.name for i in graph.input}
             | {out for node in graph.node for out in node.output})
    opset = model_opset(model)
    for node in graph.node:
        for name in node.input:
            if name and name not in given:
                raise SpecError(source, node_label(node), f"uses '{name}', which no node, "
                                "initializer or graph input gives")
        if node.domain in ("", "ai.onnx") and (problem := form_problem(node, opset)):
            raise SpecError(source, node_label(node), f"cannot be imported: {problem}")
    for info in (*graph.input, *graph.output, *graph.value_info):
        if len(info.type.tensor_type.shape.dim) > MAX_RANK:
            raise SpecError(source, f"tensor '{info.name}'", f"declared with "
                            f"{len(info.type.tensor_type.shape.dim)} axes, more than the "
                            f"{MAX_RANK} accelsim accepts")
        for dim in info.type.tensor_type.shape.dim:
            if dim.HasField("dim_value") and dim.dim_value < 0:
                raise SpecError(source, f"tensor '{info.name}'", "declared with a negative "
                                f"dimension ({dim.dim_value})")
