"""The importer: an ONNX graph walked node by node into accelsim layers, weights and constants.
The operators themselves are in ops.NodeOps."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from accelsim.errors import SpecError
from accelsim.workload.graph import Workload
from accelsim.workload.layers import GenericOp, Input, Layer, Reshape
from accelsim.workload.onnx.folding import Folding
from accelsim.workload.onnx.functions import expand_functions
from accelsim.workload.onnx.fusion import fused
from accelsim.workload.onnx.layouts import (
    Malformed,
    Named,
    Tensor,
    accelsim_shape,
    in_same_order,
    onnx_shape,
    rebatched,
    unbatched,
)
from accelsim.workload.onnx.ops import NodeOps
from accelsim.workload.onnx.reading import (
    FLOAT_TYPES,
    element_count,
    has_no_data,
    inferred,
    itemsize,
    model_opset,
    node_label,
)
from accelsim.workload.onnx.sinking import Sinking
from accelsim.workload.onnx.unbind import unbound
from accelsim.workload.ops import ONNX_ACTIVATIONS

PASS_THROUGH = ("Identity", "Dropout")
CUT_HINT = ("to leave it to the host, cut the graph before or after it: load_onnx(inputs=[...], "
            "outputs=[...]) (CLI: --onnx-input, --onnx-output)")
SHAPE_OPS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")
SUPPORTED = (tuple(ONNX_ACTIVATIONS) + PASS_THROUGH + SHAPE_OPS
             + ("Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Clip",
                "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool",
                "GlobalMaxPool", "Cast",
                "Split", "HardSigmoid", "LeakyRelu", "Sum", "Max", "Mean", "Resize",
                "Transpose", "Concat", "Softmax", "LayerNormalization", "RMSNormalization",
                "Gather", "Slice",
                "Constant", "Shape", "ReduceMean", "ReduceMax", "ReduceSum", "ArgMax", "Pad",
                "ReduceMin", "ArgMin",
                "LSTM", "GRU", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual",
                "And", "Or", "Xor", "Pow", "Mod", "Min", "Where", "Expand", "PRelu", "Einsum",
                "ConvTranspose", "LRN", "DepthToSpace", "SpaceToDepth", "CastLike",
                "ReduceSumSquare",
                "ReduceL2", "ReduceL1", "CumSum", "GatherElements", "QuantizeLinear",
                "DequantizeLinear", "Col2Im", "ScatterND", "Tile"))


# Operators that function bodies apply to shapes (constants, folded at import): a body that
# uses them can be inlined (the Attention operator's head arithmetic). On activations they
# stay unsupported, and the node is refused under the outer operator's name.
SHAPE_ARITHMETIC = ("ConstantOfShape", "Mod", "Range", "Size")


# Said where a batched export does what accelsim cannot split per image: the batch is one of
# simulate()'s arguments, so a batch-1 export loses nothing.
BATCH_HINT = ("(export the model at batch 1 and give the batch to simulate(), or --batch "
              "on the command line)")


class Importer(NodeOps, Folding, Sinking):
    def __init__(self, model, path: Path, unsupported: str, on_node=None):
        self.model, self.source, self.unsupported = model, str(path), unsupported
        self.on_node = on_node          # on_node(1, name) after each node (progress)
        self.name = model.graph.name or path.stem
        self.layers: dict[str, Layer] = {}      # in the order they were added
        self.shape_of: dict[str, tuple[int, int, int]] = {}
        self.weights: dict[str, np.ndarray] = {}
        self.biases: dict[str, np.ndarray] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.missing: list[str] = []            # initializers without data (graph-only)
        self.rescued: list[str] = []            # op types counted as generic digital ops
        self.unsized: list[str] = []            # their outputs of unknown shape (sized as
                                                # their first activation input)
        # ONNX element type of each initializer (what folding hands the evaluators)
        self.declared_types = {t.name: t.data_type for t in model.graph.initializer}
        self.tensors: dict[str, Tensor] = {}
        self.pending, self.substitutes = {}, {}     # sinking.py: transposes held, rewrites
        self.copies: dict[tuple, str] = {}      # materialize(): layouts made, by source
        self.empty: set[str] = set()            # empty slices: only a Concat may take one
        self.quantized: set[str] = set()        # QuantizeLinear outputs (for a Dequantize)
        self.current = None                     # the node being imported
        self.uses: dict[str, int] = {}
        self.graph_outputs = {o.name for o in model.graph.output}
        self.opset = model_opset(model)

    def error(self, node, message: str) -> SpecError:
        return SpecError(self.source, node_label(node), message)

    # -- set-up ------------------------------------------------------------------------------
    def run(self) -> Workload:
        graph = self.model.graph
        self.check_graph()
        for tensor in graph.initializer:
            self.consts[tensor.name] = self.array(tensor, f"initializer '{tensor.name}'")
        self.set_input_shapes()
        # operators defined as functions of others, where there is no handler of our own
        self.model = expand_functions(
            self.model, self.opset,
            lambda op: op in SUPPORTED or op in SHAPE_ARITHMETIC or hasattr(self, f"op_{op}"))
        graph = self.model.graph
        try:
            typed = inferred(self.model)
        except Exception as exc:
            raise SpecError(self.source, "", f"shape inference failed: {str(exc)[:300]}") \
                from None
        self.inferred, self.element_types = {}, {}
        for info in (*typed.graph.value_info, *typed.graph.output, *graph.input):
            if info.type.HasField("tensor_type") and info.type.tensor_type.elem_type:
                self.element_types[info.name] = info.type.tensor_type.elem_type
            dims = self.static_dims(info)
            if dims is not None:
                self.inferred[info.name] = dims
        # GELU and SiLU written in pieces, as one Gelu or Swish (fusion.fused)
        nodes = fused(list(graph.node), self.consts, {o.name for o in graph.output})
        if self.batch > 1:       # q, k and v unbound from a transpose that moves the batch
            nodes = unbound(nodes, self.consts, {o.name for o in graph.output}, self.opset)
        self.nodes = nodes
        for node in nodes:
            for name in node.input:
                self.uses[name] = self.uses.get(name, 0) + 1
        for info in graph.input:
            if info.name not in self.consts:
                self.add_input(info)
        for node in nodes:
            if self.on_node is not None:
                self.on_node(1, node.op_type)
            self.current = node
            try:
                self.node(node)
                if not any(output in self.unsized for output in node.output):
                    self.check_shapes(node)
            except (Malformed, SpecError) as exc:
                # A node accelsim cannot import as it is (a malformed one, or a case of an
                # operator it does not model); anything else is a bug of the importer and is
                # not disguised as one. With unsupported="digital", a node with activation
                # inputs and an output shape ONNX infers is counted as a generic op instead.
                if not self.rescue(node):
                    if isinstance(exc, Malformed):
                        raise self.error(node, f"cannot be imported: {exc}") from None
                    raise
            except MemoryError as exc:          # an index or fold over an absurd axis
                raise self.error(node, f"importing it needs more memory than there is "
                                 f"({str(exc)[:120]})") from None
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
                layouts[tensor.layer] = (name, tensor.shape, tensor.perm, tensor.batched)
        workload = replace(workload, layouts=layouts).with_weights(self.weights, self.biases)
        if self.rescued:
            import warnings
            from collections import Counter
            kinds = ", ".join(f"{op} x{n}" if n > 1 else op
                              for op, n in sorted(Counter(self.rescued).items()))
            warnings.warn(f"{self.source}: {len(self.rescued)} node(s) accelsim does not model "
                          f"are counted as one digital operation per output element ({kinds}); "
                          "value mode cannot run this workload"
                          + (f"; ONNX gives no shape for {', '.join(self.unsized)}, each "
                             "sized as its node's first input" if self.unsized else ""),
                          stacklevel=4)
        return replace(workload, missing_weights=tuple(self.missing), batch=self.batch)

    def check_graph(self) -> None:
        """Refuse cycles (or nodes out of order) and subgraphs, naming the node."""
        import networkx as nx
        graph = self.model.graph
        producer = {}
        for index, node in enumerate(graph.node):
            for attribute in node.attribute:
                if attribute.HasField("g") or len(attribute.graphs):
                    raise self.error(node, "subgraphs (If, Loop, Scan) are not supported; "
                                     f"{CUT_HINT}")
            for out in node.output:
                if not out:                   # an optional output left out
                    continue
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
        count = element_count(tensor.dims, self.source, where)
        if has_no_data(tensor):
            # Graph-only: floating-point tensors (weights) stand in as zeros, enough for
            # timing and energy; value mode refuses the workload (Workload.missing_weights).
            if tensor.data_type not in FLOAT_TYPES:
                raise SpecError(self.source, where, "has no data in the file (external data "
                                "missing, or stripped); weights may be left out, but "
                                "integer tensors (shapes, indices) must ship with the model")
            self.missing.append(tensor.name)
            return np.zeros(tuple(int(d) for d in tensor.dims))
        if tensor.raw_data:
            expected = count * itemsize(tensor, self.source, where)
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
        if value.dtype.kind == "V":               # bfloat16 and float8 (ml_dtypes)
            try:
                return value.astype(np.float64)
            except (TypeError, ValueError):
                pass
        if value.dtype.kind not in "biuf":
            raise SpecError(self.source, where, f"is not a tensor of numbers ({value.dtype}; "
                            "strings are not supported)")
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
        element_count(dims, self.source, f"tensor '{info.name}'")
        return tuple(dims)

    def set_input_shapes(self) -> None:
        for info in self.model.graph.input:
            if info.name in self.consts:
                continue
            dims = info.type.tensor_type.shape.dim     # (given shapes are in: load_onnx)
            for position, dim in enumerate(dims):
                if not dim.HasField("dim_value"):
                    if position == 0:
                        dim.Clear()
                        dim.dim_value = 1          # a symbolic batch axis: one image
                    else:
                        raise SpecError(self.source, f"input '{info.name}'", f"dimension "
                                        f"{position} ('{dim.dim_param}') is symbolic; export "
                                        "with static shapes or give input_shapes= (CLI: "
                                        "--input-shape NAME=D1,D2,...)")
        self.batch = self.file_batch()

    def file_batch(self) -> int:
        """The batch the file was exported with: the first axis of its activation inputs
        when they all agree (ResNet at [8, 3, 224, 224], BERT's ids and mask at [8, 128]);
        else 1, every input then being one image's."""
        firsts = set()
        for info in self.model.graph.input:
            if info.name in self.consts:
                continue
            dims = info.type.tensor_type.shape.dim
            if len(dims) >= 2:             # a vector input is one image's, not a batch
                firsts.add(int(dims[0].dim_value))
        return firsts.pop() if len(firsts) == 1 and 0 not in firsts else 1

    # -- helpers -----------------------------------------------------------------------------
    def unique(self, name: str) -> str:
        name = name or "layer"
        candidate, n = name, 1
        while candidate in self.layers:
            n += 1
            candidate = f"{name}_{n}"
        return candidate

    def add(self, layer: Layer) -> str:
        try:
            shape = layer.output_shape([self.shape_of[s] for s in layer.inputs])
        except ValueError as exc:         # the layer refuses the shapes the node gives it
            raise Malformed(f"ValueError: {str(exc)[:200]}") from None
        self.layers[layer.name] = layer
        self.shape_of[layer.name] = tuple(int(s) for s in shape)
        return layer.name

    def replace_layer(self, name: str, **changes) -> None:
        self.layers[name] = replace(self.layers[name], **changes)

    def full_shape(self, name: str, node) -> tuple[int, ...]:
        """The ONNX shape of tensor ``name`` (an input or output of ``node``): from shape
        inference over the whole model, from the activation accelsim holds, or, where whole-
        model inference gave up (shape arithmetic it could not follow), by inferring ``node``
        alone now that its constant inputs are folded."""
        if name in self.inferred:
            return self.inferred[name]
        if name in self.tensors:
            return onnx_shape(self.tensors[name], self.batch)
        if name in getattr(node, "output", ()):
            self.infer_node(node)
            if name in self.inferred:
                return self.inferred[name]
        raise self.error(node, f"the shape of '{name}' could not be inferred")

    def per_image(self, name: str, node, batched: bool = True) -> tuple[int, ...]:
        """The shape of one image's part of tensor ``name``: without its batch axis, or, for
        a tensor whose first axis merges the batch (``batched=False``), that axis divided by
        the batch."""
        full = self.full_shape(name, node)
        n = self.batch
        if batched:
            if not full or full[0] != n:
                raise self.error(node, f"'{name}' has shape {list(full)}; accelsim needs the "
                                 f"batch axis (of size {n}) first {BATCH_HINT}")
            return full[1:]
        if not full or full[0] % n:
            raise self.error(node, f"'{name}' has shape {list(full)}: its first axis does "
                             f"not hold the batch of {n} as its outermost factor, so images "
                             f"would mix; accelsim cannot split it per image {BATCH_HINT}")
        return (full[0] // n, *full[1:])

    def axis(self, node, axis: int, x: Tensor) -> int:
        """An ONNX axis of activation ``x`` as an axis of its per-image shape. The batch axis
        is refused; so is a first axis that merges a batch of several images."""
        rank = len(x.shape) + x.batched
        full = axis + rank if axis < 0 else axis
        if not 0 <= full < rank:
            raise self.error(node, f"axis {axis} is out of range for rank {rank}")
        if x.batched and full == 0:
            raise self.error(node, f"axis {axis} is the batch axis")
        if not x.batched and full == 0 and self.batch > 1:
            raise self.error(node, f"axis {axis} merges the batch of {self.batch} images "
                             "with another axis; an operation along it mixes images "
                             f"{BATCH_HINT}")
        return full - x.batched

    def batch_as_axis(self, axes, x: Tensor) -> Tensor:
        """``x``, unbatched (its batch an ordinary leading axis of 1) when the model runs one
        image and one of the ONNX ``axes`` is the batch's (CrossViT's stack of two heads'
        logits along a new first axis, then their mean)."""
        rank = len(x.shape) + x.batched
        if self.batch == 1 and x.batched and any(int(a) % max(rank, 1) == 0 for a in axes):
            return unbatched(x)
        return x

    def put(self, output: str, layer: str, shape: tuple, perm: tuple,
            like: Tensor | None = None) -> Tensor:
        """Record ``output`` as held by ``layer`` with this per-image shape and layout. It is
        batched when ONNX's shape for it has one axis more than ``shape`` (else like
        ``like``, when shape inference did not reach it)."""
        shape, perm = tuple(int(s) for s in shape), tuple(int(p) for p in perm)
        if output not in self.inferred and self.current is not None:
            self.infer_node(self.current)
        inferred = self.inferred.get(output)
        if inferred is not None and len(inferred) in (len(shape), len(shape) + 1):
            batched = len(inferred) == len(shape) + 1
        else:
            batched = like.batched if like is not None else True
        tensor = rebatched(Tensor(layer, shape, perm, batched))
        self.tensors[output] = tensor
        return tensor

    def attrs(self, node) -> dict:
        """Attribute values by name; strings decoded from bytes."""
        from onnx import helper
        values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}

    def const(self, node, index: int) -> np.ndarray | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        return self.consts.get(node.input[index])

    def setting(self, node, index: int) -> np.ndarray | None:
        """An input that configures the operation (bounds, sizes, axes, a bias): absent
        (None) or a constant; one computed by the network is refused, never ignored."""
        if index >= len(node.input) or not node.input[index]:
            return None
        name = node.input[index]
        if name in self.consts:
            return self.consts[name]
        raise self.error(node, f"input {index} ('{name}') must be a constant (an initializer "
                         "or folded shape arithmetic), but the network computes it")

    def required(self, node, name: str):
        """A required attribute's value."""
        attrs = self.attrs(node)
        if name not in attrs:
            raise Malformed(f"KeyError: missing required attribute '{name}'")
        return attrs[name]

    def act(self, node, index: int = 0) -> Tensor:
        if index >= len(node.input) or not node.input[index]:
            raise Malformed(f"IndexError: input {index} is missing")
        name = node.input[index]
        if name in self.empty:
            raise self.error(node, f"input '{name}' is an empty slice; only a Concat of it "
                             "with other tensors is supported")
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
        same_order = in_same_order(tensor, perm)
        if same_order and self.shape_of[tensor.layer] == shape:
            return tensor.layer
        if same_order:
            layer = Reshape(f"{name}.view", (tensor.layer,), source=(math.prod(shape),),
                            perm=(0,), shape=shape)
        else:
            inverse = np.argsort(tensor.perm)
            layer = Reshape(f"{name}.transpose", (tensor.layer,),
                            source=tuple(tensor.shape[p] for p in tensor.perm),
                            perm=tuple(int(inverse[p]) for p in perm), shape=shape)
        # one copy (or view) of a tensor in a layout serves every reader that asks for it
        key = (tensor.layer, layer.source, layer.perm, shape)
        if self.copies.get(key) not in self.layers:
            self.copies[key] = self.add(replace(layer, name=self.unique(layer.name)))
        return self.copies[key]

    def add_input(self, info) -> None:
        kind = info.type.WhichOneof("value")
        if kind != "tensor_type":
            raise SpecError(self.source, f"input '{info.name}'", f"is a {kind or 'untyped'} "
                            "value, not a tensor; only tensor inputs are supported")
        if info.type.tensor_type.elem_type in (8, 0):       # STRING, UNDEFINED
            raise SpecError(self.source, f"input '{info.name}'", "is not a tensor of numbers "
                            "(strings are not supported)")
        full = self.full_shape(info.name, Named(info.name, "input"))
        if not full:
            raise SpecError(self.source, f"input '{info.name}'", "a scalar (rank-0) input is "
                            "not supported")
        if 0 in full:
            raise SpecError(self.source, f"input '{info.name}'", f"has shape {list(full)}: "
                            "an empty tensor is not supported")
        batched = full[0] == self.batch and len(full) > 1
        if not batched and full[0] % self.batch:
            raise SpecError(self.source, f"input '{info.name}'", f"has shape {list(full)}, "
                            f"with no batch axis, while the other inputs carry a batch of "
                            f"{self.batch}; export every input with the batch first (or at "
                            "batch 1)")
        shape = self.per_image(info.name, Named(info.name, "input"), batched)
        rank = len(shape)
        perm = tuple(range(rank)) if rank == 3 else (rank - 1, *range(rank - 1))
        acc = accelsim_shape(shape, perm, 1)
        name = self.add(Input(self.unique(info.name), (), shape=acc))
        self.tensors[info.name] = Tensor(name, shape, perm, batched)

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
        if node.domain == "ai.onnx.ml":
            return self.unknown(node, f"{op} is a classical machine-learning operator "
                                "(ai.onnx.ml: tree ensembles, scalers, encoders, as "
                                "skl2onnx writes them), not a layer an accelerator runs; "
                                "export the neural network alone")
        if node.domain not in ("", "ai.onnx"):
            return self.unknown(node, f"operator domain '{node.domain}' is not supported")
        if self.redirect(node):                 # reads a transpose held pending (sinking.py)
            return None
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
        if op in ONNX_ACTIVATIONS:
            handler = self.op_activation
        elif op in PASS_THROUGH:
            handler = self.op_pass
        elif op in SHAPE_OPS:
            handler = self.op_reshape
        if handler is None:
            return self.unknown(node, f"operator {op} is not supported (supported: "
                                f"{', '.join(sorted(SUPPORTED))}, and operators ONNX defines "
                                "as functions of these at the model's opset, such as "
                                "GroupNormalization); to count it as a generic "
                                "digital op, pass unsupported='digital' (Python) or "
                                "--unsupported-ops digital (command line)")
        return handler(node)

    def label(self, node) -> str:
        return self.unique(node.name or node.output[0])

    def rescue(self, node) -> bool:
        """With unsupported="digital": the node as one generic digital op (True), when it
        reads an activation; its half-built layers are dropped later as unused."""
        if self.unsupported != "digital" or node.op_type in ("Constant", "Shape") or not any(
                name in self.tensors for name in node.input):
            return False
        try:
            self.unknown(node, "")
        except (Malformed, SpecError):
            return False
        return True

    def unknown(self, node, message: str) -> None:
        if self.unsupported == "error":
            raise self.error(node, f"{message}; {CUT_HINT}")
        sources = [self.materialize(self.tensors[n], tuple(range(len(self.tensors[n].shape))),
                                    1, node.name or n)
                   for n in node.input if n in self.tensors]
        if not sources:
            raise self.error(node, "has no activation input")
        # One generic op per output (TopK's values and indices, Split's parts), each sized
        # by its own output.
        inputs_batched = all(self.tensors[n].batched for n in node.input if n in self.tensors)
        first = next(n for n in node.input if n in self.tensors)
        for output in node.output:
            if not output:
                continue
            try:
                full = self.full_shape(output, node)
            except SpecError:         # ONNX cannot infer it (a custom or ml operator)
                full = self.inferred[output] = self.full_shape(first, node)
                self.unsized.append(output)
            batched = inputs_batched and bool(full) and full[0] == self.batch
            if batched or (full and full[0] % self.batch == 0):
                shape = self.per_image(output, node, batched) or (1,)
            else:                     # not split per image (a loss over the batch): whole
                shape = tuple(full) or (1,)
                self.unsized.append(output)
            perm = tuple(range(len(shape)))
            label = self.unique(node.name if len(node.output) == 1 and node.name else output)
            name = self.add(GenericOp(label, tuple(sources), op_type=node.op_type,
                                      shape=accelsim_shape(shape, perm, 1)))
            self.tensors[output] = Tensor(name, shape, perm, batched)
        self.rescued.append(node.op_type)
