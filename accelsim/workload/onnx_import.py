"""ONNX import: a .onnx file to a Workload with shapes, weights and constants.

Needs the ``onnx`` package (``pip install 'accelsim[onnx]'``). The first axis of every
activation is the batch and must be 1 (or symbolic); the rest must be static.

How ONNX tensors become accelsim tensors. An accelsim tensor is (channels, height, width): each
of the height·width positions holds one vector of channels. Every ONNX tensor X (one image,
batch axis dropped) is kept as an accelsim layer plus a permutation P of its axes, meaning the
layer's data, read in row-major order, is ``X.transpose(P)`` in row-major order. So Transpose
and most Reshapes move no data: they only change P. Each operation asks for its inputs in the
layout it computes in (a matrix product wants the contracted axis as channels; a conv wants
(C, H, W)); when the data is not already in that order, a Reshape layer that really permutes
it is inserted, and is costed as a buffer read and write of the tensor.

Folded on import: BatchNormalization into the preceding conv or linear layer, a bias Add into
the preceding conv or linear layer, activations into the layer before them, and every node
whose inputs are all constants (with onnx's reference evaluator), such as shape arithmetic.

Safety: the model's external data must lie inside the model's folder (no absolute paths, no
"..", no symlinks leading out); tensor sizes are checked against their dimensions before any
is read; cycles, subgraphs and absurd dimensions are refused with an error naming the node.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from accelsim.errors import SpecError
from accelsim.workload.graph import Workload
from accelsim.workload.layers import (Activation, Affine, Concat, Conv2d, Elementwise, GenericOp,
                                      GlobalAvgPool, Input, Layer, LayerNorm, Linear, MatMul,
                                      Pool2d, Reshape, Slice, Softmax)

MAX_ELEMENTS = 1 << 31          # per tensor: anything larger is refused as absurd
MAX_FOLDED_ELEMENTS = 1 << 24   # constant folding does not build tensors larger than this

ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Gelu": "gelu",
                  "HardSwish": "hardswish", "Erf": "erf"}
PASS_THROUGH = ("Identity", "Dropout")
SHAPE_OPS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")
SUPPORTED = (tuple(ACTIVATION_OPS) + PASS_THROUGH + SHAPE_OPS
             + ("Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Clip",
                "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool",
                "Transpose", "Concat", "Softmax", "LayerNormalization", "Gather", "Slice",
                "Constant", "Shape", "ReduceMean"))


def _onnx():
    try:
        import onnx
    except ImportError:
        raise SpecError("onnx", "", "ONNX import needs the onnx package: "
                        "pip install 'accelsim[onnx]'") from None
    return onnx


@dataclass(frozen=True)
class Tensor:
    """An ONNX activation as accelsim holds it: layer, per-image ONNX shape, permutation."""

    layer: str
    shape: tuple[int, ...]
    perm: tuple[int, ...]


def load_onnx(path: str | Path, *, unsupported: str = "error",
              input_shapes: dict[str, list[int]] | None = None) -> Workload:
    """A Workload from an ONNX file.

    unsupported: "error" (default) refuses an operation accelsim does not model, naming it;
    "digital" counts it as one digital operation per output element (value mode then cannot
    run the network). input_shapes: {graph input: full shape} for inputs with symbolic axes.
    """
    if unsupported not in ("error", "digital"):
        raise SpecError(str(path), "", f"unsupported must be 'error' or 'digital', got "
                        f"{unsupported!r}")
    path = Path(path)
    model = _read(path)
    return _Importer(model, path, unsupported, input_shapes or {}).run()


def to_onnx_layout(workload: Workload, layer: str, array: np.ndarray) -> np.ndarray:
    """An accelsim output [batch, C, H, W] of ``layer`` in its ONNX tensor's shape."""
    onnx_name, shape, perm = workload.layouts[layer]
    batch = array.shape[0]
    moved = np.asarray(array).reshape(batch, *(shape[p] for p in perm))
    return moved.transpose(0, *(int(i) + 1 for i in np.argsort(perm)))


def from_onnx_layout(workload: Workload, layer: str, array: np.ndarray) -> np.ndarray:
    """An ONNX input tensor (batch first) as accelsim input [batch, C, H, W] for ``layer``."""
    _, shape, perm = workload.layouts[layer]
    array = np.asarray(array)
    moved = array.reshape(array.shape[0], *shape).transpose(0, *(p + 1 for p in perm))
    return moved.reshape(array.shape[0], *workload.shapes[layer])


# -- reading, with the safety checks -------------------------------------------------------
def _read(path: Path):
    from accelsim.spec.yamlfile import check_regular_file
    onnx = _onnx()
    source = str(path)
    if not path.exists():
        raise SpecError(source, "", "no such file")
    check_regular_file(path, 2 ** 32)
    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:         # protobuf raises its own DecodeError types
        raise SpecError(source, "", f"not a valid ONNX model ({type(exc).__name__}: "
                        f"{str(exc)[:200] or 'could not be parsed'})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise SpecError(source, "", "the model has no graph nodes (truncated or empty file?)")
    _load_external_data(model, path)
    return model


def _all_tensors(model):
    graph = model.graph
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t


def _load_external_data(model, path: Path) -> None:
    """Read external tensor data, refusing any location outside the model's folder."""
    onnx = _onnx()
    folder = path.resolve().parent
    for tensor in _all_tensors(model):
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
        if not target.is_file():
            raise SpecError(str(path), where, f"external data file {location!r} is missing")
        offset = int(info.get("offset", 0))
        size = target.stat().st_size
        length = int(info.get("length", size - offset))
        if offset < 0 or length < 0 or offset + length > size:
            raise SpecError(str(path), where, f"external data {location!r} is shorter than "
                            f"the tensor (offset {offset}, length {length}, file {size} bytes)")
        expected = _count(tensor.dims, str(path), where) * _itemsize(tensor, str(path), where)
        if length != expected:
            raise SpecError(str(path), where, f"external data holds {length} bytes, the "
                            f"tensor's dimensions need {expected}")
        with open(target, "rb") as handle:
            handle.seek(offset)
            tensor.raw_data = handle.read(length)
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT


def _count(dims, source: str, where: str) -> int:
    if any(d < 0 for d in dims):
        raise SpecError(source, where, f"negative dimension in {list(dims)}")
    total = math.prod(int(d) for d in dims)
    if total > MAX_ELEMENTS:
        raise SpecError(source, where, f"dimensions {list(dims)} give {total:,} elements, "
                        f"more than the {MAX_ELEMENTS:,} accelsim accepts")
    return total


def _itemsize(tensor, source: str, where: str) -> int:
    from onnx import helper
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
    except Exception:
        raise SpecError(source, where, f"unsupported tensor data type {tensor.data_type}") \
            from None


# -- the importer ----------------------------------------------------------------------------
class _Importer:
    def __init__(self, model, path: Path, unsupported: str, input_shapes: dict):
        self.model, self.source, self.unsupported = model, str(path), unsupported
        self.input_shapes = input_shapes
        self.name = model.graph.name or path.stem
        self.layers: dict[str, Layer] = {}      # in the order they were added
        self.shape_of: dict[str, tuple[int, int, int]] = {}
        self.weights: dict[str, np.ndarray] = {}
        self.biases: dict[str, np.ndarray] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.tensors: dict[str, Tensor] = {}
        self.uses: dict[str, int] = {}
        self.graph_outputs = {o.name for o in model.graph.output}
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                          13)

    def error(self, node, message: str) -> SpecError:
        label = f"node '{node.name}' ({node.op_type})" if node.name else f"a {node.op_type} node"
        return SpecError(self.source, label, message)

    # -- set-up ------------------------------------------------------------------------------
    def run(self) -> Workload:
        onnx = _onnx()
        graph = self.model.graph
        self.check_graph()
        for tensor in graph.initializer:
            self.consts[tensor.name] = self.array(tensor, f"initializer '{tensor.name}'")
        self.set_input_shapes()
        try:
            inferred = onnx.shape_inference.infer_shapes(self.model, strict_mode=False,
                                                         data_prop=True)
        except Exception as exc:
            raise SpecError(self.source, "", f"shape inference failed: {str(exc)[:300]}") \
                from None
        self.inferred = {}
        for info in (*inferred.graph.value_info, *inferred.graph.output, *graph.input):
            dims = self.static_dims(info)
            if dims is not None:
                self.inferred[info.name] = dims
        for node in graph.node:
            for name in node.input:
                self.uses[name] = self.uses.get(name, 0) + 1
        for info in graph.input:
            if info.name not in self.consts:
                self.add_input(info)
        for node in graph.node:
            try:
                self.node(node)
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                # A malformed node (a missing attribute, shapes that do not fit the layer)
                raise self.error(node, f"cannot be imported: {type(exc).__name__}: "
                                 f"{str(exc)[:200]}") from None
        if not any(layer.kind != "input" for layer in self.layers.values()):
            raise SpecError(self.source, "", "the model computes nothing accelsim can simulate")
        missing = [o for o in self.graph_outputs if o not in self.tensors]
        if missing:
            raise SpecError(self.source, f"output '{missing[0]}'", "is a constant, not "
                            "computed from the inputs")
        self.prune_unused()
        workload = Workload.from_layers(self.name, list(self.layers.values()),
                                        source=self.source)
        layouts = {}
        for name in (*(i.name for i in graph.input if i.name not in self.consts),
                     *(o.name for o in graph.output)):
            tensor = self.tensors[name]
            if tensor.layer in workload.layers:
                layouts[tensor.layer] = (name, tensor.shape, tensor.perm)
        workload = replace(workload, layouts=layouts)
        return workload.with_weights(self.weights, self.biases)

    def check_graph(self) -> None:
        """Refuse cycles (or nodes out of order) and subgraphs, naming the node."""
        import networkx as nx
        graph = self.model.graph
        producer = {}
        for index, node in enumerate(graph.node):
            for attribute in node.attribute:
                if attribute.HasField("g") or len(attribute.graphs):
                    raise self.error(node, "subgraphs (If, Loop, Scan) are not supported")
            for out in node.output:
                if out in producer:
                    raise self.error(node, f"tensor '{out}' is produced twice")
                producer[out] = index
        dependencies = nx.DiGraph()
        dependencies.add_nodes_from(range(len(graph.node)))
        for index, node in enumerate(graph.node):
            for name in node.input:
                if name in producer:
                    dependencies.add_edge(producer[name], index)
        if not nx.is_directed_acyclic_graph(dependencies):
            cycle = nx.find_cycle(dependencies)
            names = [graph.node[a].name or graph.node[a].op_type for a, _ in cycle]
            raise SpecError(self.source, "graph", "the graph has a cycle: "
                            + " -> ".join([*names, names[0]]))
        for index, node in enumerate(graph.node):
            for name in node.input:
                if name in producer and producer[name] > index:
                    raise self.error(node, f"uses '{name}' before the node that produces it "
                                     "(the graph is not in topological order)")

    def array(self, tensor, where: str) -> np.ndarray:
        from onnx import numpy_helper
        count = _count(tensor.dims, self.source, where)
        if tensor.raw_data:
            expected = count * _itemsize(tensor, self.source, where)
            if len(tensor.raw_data) != expected:
                raise SpecError(self.source, where, f"holds {len(tensor.raw_data)} bytes, its "
                                f"dimensions {list(tensor.dims)} need {expected} (truncated?)")
        try:
            value = numpy_helper.to_array(tensor)
        except Exception as exc:
            raise SpecError(self.source, where, f"cannot be read: {str(exc)[:200]}") from None
        if value.size != count:
            raise SpecError(self.source, where, f"holds {value.size} values, its dimensions "
                            f"{list(tensor.dims)} need {count}")
        return value.astype(np.float64) if value.dtype.kind == "f" else value

    def static_dims(self, info) -> tuple[int, ...] | None:
        kind = info.type.WhichOneof("value")
        if kind != "tensor_type" or not info.type.tensor_type.HasField("shape"):
            return None
        dims = []
        for dim in info.type.tensor_type.shape.dim:
            if not dim.HasField("dim_value"):
                return None
            dims.append(int(dim.dim_value))
        _count(dims, self.source, f"tensor '{info.name}'")
        return tuple(dims)

    def set_input_shapes(self) -> None:
        for info in self.model.graph.input:
            if info.name in self.consts:
                continue
            dims = info.type.tensor_type.shape.dim
            given = self.input_shapes.get(info.name)
            if given is not None:
                if len(given) != len(dims):
                    raise SpecError(self.source, f"input '{info.name}'", f"input_shapes gives "
                                    f"{len(given)} dimensions, the model has {len(dims)}")
                for dim, value in zip(dims, given):
                    dim.Clear()
                    dim.dim_value = int(value)
                continue
            for position, dim in enumerate(dims):
                if not dim.HasField("dim_value"):
                    if position == 0:
                        dim.Clear()
                        dim.dim_value = 1          # a symbolic batch axis: one image
                    else:
                        raise SpecError(self.source, f"input '{info.name}'", f"dimension "
                                        f"{position} ('{dim.dim_param}') is symbolic; export "
                                        "with static shapes or give input_shapes=")

    # -- helpers -----------------------------------------------------------------------------
    def unique(self, name: str) -> str:
        name = name or "layer"
        candidate, n = name, 1
        while candidate in self.layers:
            n += 1
            candidate = f"{name}_{n}"
        return candidate

    def add(self, layer: Layer) -> str:
        shape = layer.output_shape([self.shape_of[s] for s in layer.inputs])
        self.layers[layer.name] = layer
        self.shape_of[layer.name] = tuple(int(s) for s in shape)
        return layer.name

    def replace_layer(self, name: str, **changes) -> None:
        self.layers[name] = replace(self.layers[name], **changes)

    def full_shape(self, name: str, node) -> tuple[int, ...]:
        if name in self.inferred:
            return self.inferred[name]
        raise self.error(node, f"the shape of '{name}' could not be inferred")

    def per_image(self, name: str, node) -> tuple[int, ...]:
        full = self.full_shape(name, node)
        if not full or full[0] != 1:
            raise self.error(node, f"'{name}' has shape {list(full)}; accelsim needs the batch "
                             "axis first, of size 1")
        return full[1:]

    def axis(self, node, axis: int, rank: int) -> int:
        """An ONNX axis (with batch) as a per-image axis; the batch axis is refused."""
        full = axis + rank + 1 if axis < 0 else axis
        if not 1 <= full <= rank:
            raise self.error(node, f"axis {axis} is the batch axis or out of range")
        return full - 1

    def attrs(self, node) -> dict:
        """Attribute values by name; strings decoded from bytes."""
        from onnx import helper
        values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}

    def const(self, node, index: int) -> np.ndarray | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        return self.consts.get(node.input[index])

    def act(self, node, index: int = 0) -> Tensor:
        name = node.input[index]
        if name not in self.tensors:
            raise self.error(node, f"input '{name}' is neither an activation nor a constant")
        return self.tensors[name]

    def single_use(self, tensor_name: str) -> bool:
        return self.uses.get(tensor_name, 0) == 1 and tensor_name not in self.graph_outputs

    def materialize(self, tensor: Tensor, perm: tuple[int, ...], channel_axes: int,
                    name: str) -> str:
        """A layer holding ``tensor`` in layout ``perm`` with the first ``channel_axes`` axes
        of it as channels: the tensor's own layer, a view of it, or a real permutation."""
        shape = accelsim_shape(tensor.shape, perm, channel_axes)
        same_order = _same_order(tensor, perm)
        if same_order and self.shape_of[tensor.layer] == shape:
            return tensor.layer
        if same_order:
            layer = Reshape(self.unique(f"{name}.view"), (tensor.layer,),
                            source=(math.prod(shape),), perm=(0,), shape=shape)
        else:
            inverse = np.argsort(tensor.perm)
            layer = Reshape(self.unique(f"{name}.transpose"), (tensor.layer,),
                            source=tuple(tensor.shape[p] for p in tensor.perm),
                            perm=tuple(int(inverse[p]) for p in perm), shape=shape)
        return self.add(layer)

    def add_input(self, info) -> None:
        shape = self.per_image(info.name, _Named(info.name, "input"))
        rank = len(shape)
        if rank == 0:
            raise SpecError(self.source, f"input '{info.name}'", "a scalar input is not "
                            "supported")
        perm = tuple(range(rank)) if rank == 3 else (rank - 1, *range(rank - 1))
        acc = accelsim_shape(shape, perm, 1)
        name = self.add(Input(self.unique(info.name), (), shape=acc))
        self.tensors[info.name] = Tensor(name, shape, perm)

    def prune_unused(self) -> None:
        """Drop layers nothing reads (folded remains, shape-only branches)."""
        keep = {self.tensors[o].layer for o in self.graph_outputs}
        for layer in reversed(self.layers.values()):
            if layer.name in keep:
                keep.update(layer.inputs)
        self.layers = {name: layer for name, layer in self.layers.items() if name in keep}
        self.weights = {k: v for k, v in self.weights.items() if k in keep}
        self.biases = {k: v for k, v in self.biases.items() if k in keep}

    # -- nodes -------------------------------------------------------------------------------
    def node(self, node) -> None:
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            return self.unknown(node, f"operator domain '{node.domain}' is not supported")
        if op == "Constant":
            (key, attr), = self.attrs(node).items()
            self.consts[node.output[0]] = (self.array(attr, f"constant '{node.output[0]}'")
                                           if key == "value" else np.asarray(attr))
            return None
        if all((not name) or name in self.consts for name in node.input) and node.input:
            return self.fold(node)
        if op == "Shape":
            full = self.full_shape(node.input[0], node)
            attrs = self.attrs(node)
            chosen = full[attrs.get("start", 0):attrs.get("end", len(full))]
            self.consts[node.output[0]] = np.asarray(chosen, dtype=np.int64)
            return None
        handler = getattr(self, f"op_{op}", None)
        if op in ACTIVATION_OPS:
            handler = self.op_activation
        elif op in PASS_THROUGH:
            handler = self.op_pass
        elif op in SHAPE_OPS:
            handler = self.op_reshape
        if handler is None:
            return self.unknown(node, f"operator {op} is not supported (supported: "
                                f"{', '.join(sorted(SUPPORTED))}); pass "
                                "unsupported='digital' to count it as a generic digital op")
        return handler(node)

    def label(self, node) -> str:
        return self.unique(node.name or node.output[0])

    def fold(self, node) -> None:
        from onnx.reference import ReferenceEvaluator
        inputs = [self.consts[name] if name else None for name in node.input]
        self.check_fold_size(node, inputs)
        try:
            results = ReferenceEvaluator(node).run(
                None, {name: value for name, value in zip(node.input, inputs) if name})
        except Exception as exc:
            raise self.error(node, f"could not fold this constant expression: "
                             f"{str(exc)[:200]}") from None
        for name, value in zip(node.output, results):
            value = np.asarray(value)
            if value.size > MAX_FOLDED_ELEMENTS:
                raise self.error(node, f"folds to {value.size:,} elements; refused")
            self.consts[name] = value.astype(np.float64) if value.dtype.kind == "f" else value

    def check_fold_size(self, node, inputs: list) -> None:
        """Refuse, before evaluating, a constant expression whose result would be larger
        than MAX_FOLDED_ELEMENTS: its inferred shape, or for the operators that build tensors
        from a shape (a 300-byte model can ask for gigabytes) the size their inputs ask for."""
        def refuse(size) -> None:
            raise self.error(node, f"folds to {size:,} elements, more than the "
                             f"{MAX_FOLDED_ELEMENTS:,} accelsim builds; refused")

        for name in node.output:
            if name in self.inferred and math.prod(self.inferred[name]) > MAX_FOLDED_ELEMENTS:
                refuse(math.prod(self.inferred[name]))
        op = node.op_type
        values = [np.asarray(v) if v is not None else None for v in inputs]
        try:
            if op == "ConstantOfShape" and values:
                size = math.prod(int(d) for d in values[0].reshape(-1))
            elif op == "Expand" and len(values) > 1:
                size = math.prod(np.broadcast_shapes(values[0].shape,
                                                     tuple(int(d) for d in values[1].reshape(-1))))
            elif op == "Tile" and len(values) > 1:
                size = values[0].size * math.prod(int(r) for r in values[1].reshape(-1))
            elif op == "Range" and len(values) > 2:
                start, limit, delta = (float(v.reshape(-1)[0]) for v in values[:3])
                size = math.ceil((limit - start) / delta) if delta else math.inf
            elif op in ("Resize", "Upsample", "Pad", "OneHot", "EyeLike", "RandomNormal",
                        "RandomUniform") and not all(n in self.inferred for n in node.output):
                raise self.error(node, f"cannot bound the size of this constant {op}; "
                                 "refused")
            else:
                return
        except (ValueError, TypeError, OverflowError):
            raise self.error(node, "has inputs that do not describe a valid shape") from None
        if not math.isfinite(size) or size > MAX_FOLDED_ELEMENTS or size < 0:
            refuse(size)

    def unknown(self, node, message: str) -> None:
        if self.unsupported == "error":
            raise self.error(node, message)
        if len(node.output) != 1:
            raise self.error(node, "cannot count an unsupported op with several outputs")
        shape = self.per_image(node.output[0], node)
        perm = tuple(range(len(shape)))
        sources = [self.materialize(self.tensors[n], tuple(range(len(self.tensors[n].shape))),
                                    1, node.name or n)
                   for n in node.input if n in self.tensors]
        if not sources:
            raise self.error(node, "has no activation input")
        name = self.add(GenericOp(self.label(node), tuple(sources), op_type=node.op_type,
                                  shape=accelsim_shape(shape, perm, 1)))
        self.tensors[node.output[0]] = Tensor(name, shape, perm)

    def op_pass(self, node) -> None:
        self.tensors[node.output[0]] = self.act(node)

    def op_reshape(self, node) -> None:
        x = self.act(node)
        target = self.const(node, 1)
        if (node.output[0] not in self.inferred and node.op_type == "Reshape"
                and target is not None):
            self.inferred[node.output[0]] = _reshape_target((1, *x.shape), target)
        out = self.per_image(node.output[0], node)
        if math.prod(out) != math.prod(x.shape):
            raise self.error(node, f"reshapes {list(x.shape)} to {list(out)}")
        perm = _reshaped_perm(x.shape, x.perm, out)
        if perm is None:                      # the data order must become row-major first
            layer = self.materialize(x, tuple(range(len(x.shape))), 1, node.name or "reshape")
            x, perm = Tensor(layer, x.shape, tuple(range(len(x.shape)))), tuple(range(len(out)))
        self.tensors[node.output[0]] = Tensor(x.layer, out, perm)

    def op_Transpose(self, node) -> None:
        x = self.act(node)
        rank = len(x.shape)
        order = list(self.attrs(node).get("perm", range(rank, -1, -1)))
        if order[0] != 0:
            raise self.error(node, f"perm {order} moves the batch axis")
        p = [a - 1 for a in order[1:]]
        inverse = np.argsort(p)
        self.tensors[node.output[0]] = Tensor(x.layer, tuple(x.shape[a] for a in p),
                                              tuple(int(inverse[a]) for a in x.perm))

    def image(self, node, x: Tensor) -> str:
        if len(x.shape) != 3:
            raise self.error(node, f"needs an image (N, C, H, W), got per-image shape "
                             f"{list(x.shape)}")
        return self.materialize(x, (0, 1, 2), 1, node.name or node.op_type)

    def window(self, node, attrs: dict, kernel) -> tuple:
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        auto = attrs.get("auto_pad", "NOTSET")
        if auto not in ("NOTSET", "VALID"):
            x = self.act(node).shape
            out = self.per_image(node.output[0], node)
            strides = attrs.get("strides", [1, 1])
            pads = []
            for size, o, k, s in zip(x[1:], out[1:], kernel, strides):
                total = max(0, (o - 1) * s + k - size)
                pads.append((total // 2, total - total // 2))
            pads = [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]
        if len(pads) != 4 or pads[0] != pads[2] or pads[1] != pads[3]:
            raise self.error(node, f"asymmetric padding {pads} is not supported")
        return (int(pads[0]), int(pads[1]))

    def op_Conv(self, node) -> None:
        x, weight, bias = self.act(node), self.const(node, 1), self.const(node, 2)
        if weight is None:
            raise self.error(node, "the weights must be a constant (initializer)")
        if weight.ndim != 4:
            raise self.error(node, f"only 2-D convolutions are supported (weight "
                             f"{list(weight.shape)})")
        attrs = self.attrs(node)
        kernel = tuple(int(k) for k in attrs.get("kernel_shape", weight.shape[2:]))
        layer = Conv2d(self.label(node), (self.image(node, x),), out_channels=weight.shape[0],
                       kernel=kernel, stride=tuple(attrs.get("strides", (1, 1))),
                       padding=self.window(node, attrs, kernel),
                       dilation=tuple(attrs.get("dilations", (1, 1))),
                       groups=int(attrs.get("group", 1)))
        name = self.add(layer)
        self.weights[name] = weight
        if bias is not None:
            self.biases[name] = bias.reshape(-1)
        out = self.shape_of[name]
        self.tensors[node.output[0]] = Tensor(name, out, (0, 1, 2))

    def linear(self, node, x: Tensor, weight: np.ndarray, bias) -> None:
        """y = x @ weight.T + bias over the last axis."""
        rank = len(x.shape)
        if rank == 0 or x.shape[-1] != weight.shape[1]:
            raise self.error(node, f"multiplies {list(x.shape)} by a {weight.shape[1]}-row "
                             "matrix")
        perm = (rank - 1, *range(rank - 1))
        source = self.materialize(x, perm, 1, node.name or "linear")
        name = self.add(Linear(self.label(node), (source,), out_features=weight.shape[0]))
        self.weights[name] = weight
        if bias is not None:
            self.biases[name] = np.broadcast_to(bias.reshape(-1) if bias.size > 1 else bias,
                                                (weight.shape[0],)).astype(np.float64)
        self.tensors[node.output[0]] = Tensor(name, (*x.shape[:-1], weight.shape[0]), perm)

    def op_Gemm(self, node) -> None:
        attrs = self.attrs(node)
        x, b, c = self.act(node), self.const(node, 1), self.const(node, 2)
        if b is None or attrs.get("transA", 0):
            raise self.error(node, "needs a constant B and transA=0")
        weight = attrs.get("alpha", 1.0) * (b if attrs.get("transB", 0) else b.T)
        bias = None if c is None else attrs.get("beta", 1.0) * c
        if bias is not None and bias.size not in (1, weight.shape[0]):
            raise self.error(node, f"bias of shape {list(c.shape)} is not per output")
        self.linear(node, x, weight, bias)

    def op_MatMul(self, node) -> None:
        b = self.const(node, 1)
        if b is not None:
            if b.ndim != 2:
                raise self.error(node, "a constant right operand must be a matrix")
            return self.linear(node, self.act(node), b.T, None)
        if self.const(node, 0) is not None:
            raise self.error(node, "a constant left operand times an activation is not "
                             "supported")
        a, b = self.act(node, 0), self.act(node, 1)
        ra, rb = len(a.shape), len(b.shape)
        if ra < 2 or ra != rb or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
            raise self.error(node, f"product of {list(a.shape)} and {list(b.shape)}: needs "
                             "equal batch axes and matching inner sizes")
        batch = tuple(range(ra - 2))
        heads = math.prod(a.shape[:-2])
        left = self.materialize(a, (*batch, ra - 1, ra - 2), len(batch) + 1,
                                node.name or "matmul")
        keys = (*batch, rb - 2, rb - 1)            # B held as N vectors of K (transpose_b)
        values = (*batch, rb - 1, rb - 2)          # B held as K vectors of N
        transpose_b = not _same_order(b, values) or _same_order(b, keys)
        right = self.materialize(b, keys if transpose_b else values, len(batch) + 1,
                                 node.name or "matmul")
        name = self.add(MatMul(self.label(node), (left, right), heads=heads,
                               transpose_b=transpose_b))
        out = (*a.shape[:-1], b.shape[-1])
        self.tensors[node.output[0]] = Tensor(name, out, (*batch, ra - 1, ra - 2))
        return None

    def op_BatchNormalization(self, node) -> None:
        x = self.act(node)
        gamma, beta, mean, var = (self.const(node, i) for i in range(1, 5))
        if any(v is None for v in (gamma, beta, mean, var)):
            raise self.error(node, "scale, bias, mean and variance must be constants")
        scale = gamma / np.sqrt(var + self.attrs(node).get("epsilon", 1e-5))
        shift = beta - mean * scale
        producer = self.layers[x.layer]
        if (isinstance(producer, (Conv2d, Linear)) and producer.activation is None
                and self.single_use(node.input[0]) and x.perm[0] == 0):
            weight = self.weights[x.layer]
            self.weights[x.layer] = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
            self.biases[x.layer] = self.biases.get(x.layer, 0.0) * scale + shift
            self.tensors[node.output[0]] = x
            return
        self.channel_affine(node, x, scale, shift)

    def channel_affine(self, node, x: Tensor, scale, shift) -> None:
        """Per-channel (axis 0 of the image) scale and shift."""
        rank = len(x.shape)
        source = self.materialize(x, tuple(range(rank)), 1, node.name or "affine")
        shape = self.shape_of[source]
        layer = Affine(self.label(node), (source,), scale="channel", shift="channel")
        name = self.add(layer)
        self.weights[name] = np.asarray(scale, dtype=np.float64).reshape(shape[0], 1, 1)
        self.biases[name] = np.asarray(shift, dtype=np.float64).reshape(shape[0], 1, 1)
        self.tensors[node.output[0]] = Tensor(name, x.shape, tuple(range(rank)))

    def op_activation(self, node) -> None:
        self.activation(node, ACTIVATION_OPS[node.op_type])

    def op_Clip(self, node) -> None:
        attrs = self.attrs(node)
        low = self.const(node, 1)
        high = self.const(node, 2)
        low = float(low) if low is not None else attrs.get("min", -np.inf)
        high = float(high) if high is not None else attrs.get("max", np.inf)
        if low == 0 and high == 6:
            return self.activation(node, "relu6")
        if low == 0 and high == np.inf:
            return self.activation(node, "relu")
        return self.unknown(node, f"Clip to [{low}, {high}] is not supported (only relu and "
                            "relu6 ranges)")

    def activation(self, node, function: str) -> None:
        if node.op_type == "Gelu":
            if self.attrs(node).get("approximate", "none") != "none":
                return self.unknown(node, "Gelu with the tanh approximation is not supported")
        x = self.act(node)
        producer = self.layers[x.layer]
        if (hasattr(producer, "activation") and producer.activation is None
                and self.single_use(node.input[0]) and producer.kind != "input"):
            self.replace_layer(x.layer, activation=function)
            self.tensors[node.output[0]] = x
            return None
        name = self.add(Activation(self.label(node), (x.layer,), function=function))
        self.tensors[node.output[0]] = Tensor(name, x.shape, x.perm)
        return None

    def op_Add(self, node) -> None:
        self.arithmetic(node, "add")

    def op_Sub(self, node) -> None:
        self.arithmetic(node, "sub")

    def op_Mul(self, node) -> None:
        self.arithmetic(node, "mul")

    def op_Div(self, node) -> None:
        self.arithmetic(node, "div")

    def arithmetic(self, node, op: str) -> None:
        constants = [self.const(node, i) for i in range(2)]
        if constants[0] is None and constants[1] is None:
            if op in ("sub", "div"):
                return self.unknown(node, f"{node.op_type} of two activations is not "
                                    "supported")
            a, b = self.act(node, 0), self.act(node, 1)
            if a.shape != b.shape:
                raise self.error(node, f"broadcasting between activations {list(a.shape)} and "
                                 f"{list(b.shape)} is not supported")
            channels = _channel_axes(self.shape_of[a.layer], a)
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
        per_output = _per_output(c, x)
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

    def op_Softmax(self, node) -> None:
        x = self.act(node)
        rank = len(x.shape)
        axis = self.axis(node, self.attrs(node).get("axis", -1 if self.opset >= 13 else 1),
                         rank)
        if self.opset < 13 and axis != rank - 1:
            raise self.error(node, "Softmax before opset 13 flattens its input; only the last "
                             "axis is supported")
        perm, channels, groups = _grouped_layout(x.shape, [axis])
        source = self.materialize(x, perm, channels, node.name or "softmax")
        name = self.add(Softmax(self.label(node), (source,), groups=groups))
        self.tensors[node.output[0]] = Tensor(name, x.shape, perm)

    def op_LayerNormalization(self, node) -> None:
        x = self.act(node)
        rank = len(x.shape)
        attrs = self.attrs(node)
        axis = self.axis(node, attrs.get("axis", -1), rank)
        perm, channels, groups = _grouped_layout(x.shape, list(range(axis, rank)))
        source = self.materialize(x, perm, channels, node.name or "layer_norm")
        name = self.add(LayerNorm(self.label(node), (source,), groups=groups,
                                  epsilon=float(attrs.get("epsilon", 1e-5))))
        gamma, beta = self.const(node, 1), self.const(node, 2)
        if gamma is not None:
            self.weights[name] = np.tile(gamma.reshape(-1), groups)
        if beta is not None:
            self.biases[name] = np.tile(beta.reshape(-1), groups)
        self.tensors[node.output[0]] = Tensor(name, x.shape, perm)

    def op_GlobalAveragePool(self, node) -> None:
        x = self.act(node)
        name = self.add(GlobalAvgPool(self.label(node), (self.image(node, x),)))
        self.tensors[node.output[0]] = Tensor(name, self.shape_of[name], (0, 1, 2))

    def op_ReduceMean(self, node) -> None:
        """The mean over an image's height and width (PyTorch's adaptive pool to 1x1)."""
        x = self.act(node)
        attrs = self.attrs(node)
        axes = self.const(node, 1)
        axes = list(axes.reshape(-1)) if axes is not None else list(attrs.get("axes", []))
        rank = len(x.shape)
        per_image = sorted(self.axis(node, int(a), rank) for a in axes)
        if rank != 3 or per_image != [1, 2]:
            return self.unknown(node, "ReduceMean is supported over an image's height and "
                                "width only")
        name = self.add(GlobalAvgPool(self.label(node), (self.image(node, x),)))
        keep = attrs.get("keepdims", 1)
        self.tensors[node.output[0]] = Tensor(name, self.shape_of[name] if keep
                                              else (self.shape_of[name][0],),
                                              (0, 1, 2) if keep else (0,))
        return None

    def op_MaxPool(self, node) -> None:
        self.pool(node, "max")

    def op_AveragePool(self, node) -> None:
        self.pool(node, "avg")

    def pool(self, node, function: str) -> None:
        x = self.act(node)
        attrs = self.attrs(node)
        if len(node.output) > 1 and node.output[1]:
            raise self.error(node, "MaxPool indices are not supported")
        if attrs.get("ceil_mode", 0) or any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise self.error(node, "ceil_mode and dilations are not supported")
        kernel = tuple(int(k) for k in attrs["kernel_shape"])
        padding = self.window(node, attrs, kernel)
        if function == "avg" and any(padding) and not attrs.get("count_include_pad", 0):
            raise self.error(node, "average pooling with padding must count the padding "
                             "(count_include_pad=1)")
        name = self.add(Pool2d(self.label(node), (self.image(node, x),), function=function,
                               kernel=kernel, stride=tuple(attrs.get("strides", (1, 1))),
                               padding=padding))
        self.tensors[node.output[0]] = Tensor(name, self.shape_of[name], (0, 1, 2))

    def op_Concat(self, node) -> None:
        if any(name in self.consts for name in node.input):
            return self.unknown(node, "Concat with a constant input is not supported")
        parts = [self.act(node, i) for i in range(len(node.input))]
        axis = self.axis(node, self.attrs(node)["axis"], len(parts[0].shape))
        perm, channels, kind = _axis_layout(parts[0], axis, prefer="channels")
        sources = tuple(self.materialize(p, perm, channels, node.name or "concat")
                        for p in parts)
        name = self.add(Concat(self.label(node), sources, axis=kind))
        shape = list(parts[0].shape)
        shape[axis] = sum(p.shape[axis] for p in parts)
        self.tensors[node.output[0]] = Tensor(name, tuple(shape), perm)
        return None

    def select(self, node, x: Tensor, axis: int, start: int, stop: int, keep: bool) -> None:
        perm, channels, kind = _axis_layout(x, axis, prefer="height")
        source = self.materialize(x, perm, channels, node.name or "slice")
        name = self.add(Slice(self.label(node), (source,), axis=kind, start=start, stop=stop))
        shape = list(x.shape)
        shape[axis] = stop - start
        if keep:
            self.tensors[node.output[0]] = Tensor(name, tuple(shape), perm)
            return
        del shape[axis]
        renumber = [a - (a > axis) for a in perm if a != axis]
        self.tensors[node.output[0]] = Tensor(name, tuple(shape), tuple(renumber))

    def op_Gather(self, node) -> None:
        x, index = self.act(node), self.const(node, 1)
        if index is None or index.ndim != 0:
            return self.unknown(node, "Gather is supported with one constant index only")
        axis = self.axis(node, self.attrs(node).get("axis", 0), len(x.shape))
        i = int(index) % x.shape[axis]
        self.select(node, x, axis, i, i + 1, keep=False)
        return None

    def op_Slice(self, node) -> None:
        x = self.act(node)
        starts, ends, axes, steps = (self.const(node, i) for i in range(1, 5))
        if starts is None or ends is None or starts.size != 1:
            return self.unknown(node, "Slice is supported on one axis with constant bounds")
        if steps is not None and int(steps.reshape(-1)[0]) != 1:
            return self.unknown(node, "Slice with a step other than 1 is not supported")
        axis = int(axes.reshape(-1)[0]) if axes is not None else 0
        axis = self.axis(node, axis, len(x.shape))
        size = x.shape[axis]
        start, stop, _ = slice(int(starts.reshape(-1)[0]),
                               int(min(ends.reshape(-1)[0], 2 ** 62))).indices(size)
        if stop <= start:
            raise self.error(node, "the slice is empty")
        self.select(node, x, axis, start, stop, keep=True)
        return None


@dataclass(frozen=True)
class _Named:
    name: str
    op_type: str


# -- layout arithmetic ------------------------------------------------------------------------
def accelsim_shape(shape: tuple[int, ...], perm: tuple[int, ...],
                   channel_axes: int) -> tuple[int, int, int]:
    """(C, H, W) of a tensor laid out in ``perm`` order with its first ``channel_axes`` axes
    as channels; of the other axes the last is the width when there are two, else all are
    positions along the height."""
    channels = math.prod(shape[a] for a in perm[:channel_axes])
    rest = [shape[a] for a in perm[channel_axes:]]
    if len(rest) == 2:
        return (channels, rest[0], rest[1])
    return (channels, math.prod(rest), 1)


def _same_order(tensor: Tensor, perm: tuple[int, ...]) -> bool:
    return ([a for a in tensor.perm if tensor.shape[a] > 1]
            == [a for a in perm if tensor.shape[a] > 1])


def _axis_layout(tensor: Tensor, axis: int, prefer: str) -> tuple[tuple, int, str]:
    """(perm, channel axes, "channels" or "height") that put ``axis`` outermost in the
    channels or alone along the height: the one the tensor already has, else ``prefer``."""
    rank = len(tensor.shape)
    others = tuple(a for a in range(rank) if a != axis)
    layouts = {"channels": ((axis, *others), 1), "height": ((*others, axis), rank - 1)}
    other = "height" if prefer == "channels" else "channels"
    kind = other if (_same_order(tensor, layouts[other][0])
                     and not _same_order(tensor, layouts[prefer][0])) else prefer
    return (*layouts[kind], kind)


def _channel_axes(held: tuple[int, int, int], tensor: Tensor) -> int:
    """How many leading axes of the tensor's layout make up its layer's channels."""
    product = 1
    for count, axis in enumerate(tensor.perm, start=1):
        product *= tensor.shape[axis]
        if product == held[0]:
            return count
    return 1


def _grouped_layout(shape: tuple[int, ...], reduced: list[int]) -> tuple[tuple, int, int]:
    """Layout for an operation over the ``reduced`` axes of each vector: (perm, channel axes,
    groups). The last other axis gives the positions; the rest become groups of channels."""
    others = [a for a in range(len(shape)) if a not in reduced]
    if not others:
        return tuple(reduced), len(reduced), 1
    groups_axes = others[:-1]
    perm = (*groups_axes, *reduced, others[-1])
    return perm, len(groups_axes) + len(reduced), math.prod(shape[a] for a in groups_axes)


def _per_output(constant: np.ndarray, x: Tensor) -> np.ndarray | None:
    """The constant (per image, broadcastable to ``x``) as one value per output channel of a
    conv (axis 0) or linear layer (last axis), or None when it varies along other axes."""
    rank = len(x.shape)
    c = constant.reshape((1,) * (rank - constant.ndim) + constant.shape)
    axis = x.perm[0]
    if any(size != 1 for a, size in enumerate(c.shape) if a != axis):
        return None
    return np.broadcast_to(c.reshape(-1), (x.shape[axis],)).astype(np.float64)


def _reshape_target(shape: tuple[int, ...], target: np.ndarray) -> tuple[int, ...]:
    """ONNX Reshape's output shape: 0 copies the input's size, -1 takes the rest."""
    dims = [shape[i] if d == 0 else int(d) for i, d in enumerate(target.reshape(-1))]
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = math.prod(shape) // max(known, 1)
    return tuple(dims)


def _reshaped_perm(shape: tuple[int, ...], perm: tuple[int, ...],
                   out: tuple[int, ...]) -> tuple[int, ...] | None:
    """A layout of the reshaped tensor that reads the same data order, or None."""
    if all(a < b for a, b in itertools.pairwise([a for a in perm if shape[a] > 1])):
        return tuple(range(len(out)))
    if len(out) > 6:
        return None
    size = math.prod(shape)
    index = np.arange(size).reshape(shape)
    held = index.transpose(perm).ravel()
    reshaped = index.reshape(out)
    for candidate in itertools.permutations(range(len(out))):
        if np.array_equal(reshaped.transpose(candidate).ravel(), held):
            return candidate
    return None
