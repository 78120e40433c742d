"""Constant folding (nodes whose inputs are all constants, evaluated at the model's opset)
and shape inference of one node, as a mixin of the importer."""

from __future__ import annotations

import math

import numpy as np

from accelsim.workload.activations import activate
from accelsim.workload.onnx.layouts import onnx_shape
from accelsim.workload.onnx.reading import MAX_RANK, onnx_module

MAX_FOLDED_ELEMENTS = 1 << 24   # constant folding does not build tensors larger than this
MAX_VIEW_ELEMENTS = 1 << 31     # a repeated value (ConstantOfShape) is a view, up to this
# Operators whose output size only shape inference tells (from their constant inputs)
SIZED_BY_INFERENCE = ("Resize", "Upsample", "Pad", "OneHot", "EyeLike")


# Operators whose outputs are random draws: never folded to a constant (seen: ViT-MAE's
# RandomUniformLike noise, whose argsort shuffles the patches).
RANDOM_OPS = frozenset({"RandomUniform", "RandomNormal", "RandomUniformLike",
                        "RandomNormalLike", "Bernoulli", "Multinomial"})

class Folding:
    """The importer provides error(), full_shape(), static_dims() and the tables used."""

    def fold(self, node) -> None:
        """Evaluate a node whose inputs are all constants, at the model's own opset (an
        opset-11 Unsqueeze takes its axes as an attribute), after its size is bounded: with
        ONNX's reference evaluator, else with onnxruntime."""
        from onnx.reference import ReferenceEvaluator
        if node.op_type in RANDOM_OPS:
            return self.unknown(node, f"{node.op_type} draws new random numbers every time the "
                                "model runs (a training-time or masking operator): folding it "
                                "to one draw would make the imported network differ from "
                                "import to import; export the model for inference")
        inputs = [self.consts[name] if name else None for name in node.input]
        if node.op_type == "ConstantOfShape" and inputs and inputs[0] is not None:
            return self.constant_of_shape(node, np.asarray(inputs[0]))
        if node.op_type == "Gelu":      # fused from pieces (fusion.py); no operator at 17
            x = np.asarray(inputs[0])
            tanh = self.attrs(node).get("approximate", "none") == "tanh"
            self.consts[node.output[0]] = activate(x, "gelu_tanh" if tanh else "gelu")
            return None
        self.check_fold_size(node, inputs)
        feeds = {name: value for name, value in zip(node.input, inputs) if name}
        feeds = {name: self.fold_input(name, value) for name, value in feeds.items()}
        try:
            with np.errstate(all="ignore"):     # log(0) in T5's bucket arithmetic, etc.
                results = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        except Exception as exc:
            try:
                results = self.fold_with_onnxruntime(node, feeds)
            except Exception as fallback:
                raise self.error(node, f"could not fold this constant expression: "
                                 f"{str(exc)[:150]}; onnxruntime: "
                                 f"{str(fallback)[:150]}") from None
        for name, value in zip(node.output, results):
            value = np.asarray(value)
            if value.size > MAX_FOLDED_ELEMENTS:
                raise self.error(node, f"folds to {value.size:,} elements; refused")
            self.consts[name] = value.astype(np.float64) if value.dtype.kind == "f" else value

    def constant_of_shape(self, node, shape: np.ndarray) -> None:
        """One value repeated over a shape (how the ONNX test suite's "light" models carry
        their weights) as a read-only view: no memory however large, up to MAX_VIEW_ELEMENTS
        elements."""
        from onnx import numpy_helper
        dims = [int(d) for d in shape.reshape(-1)]
        if any(d < 0 for d in dims) or math.prod(dims) > MAX_VIEW_ELEMENTS \
                or len(dims) > MAX_RANK:
            asked = dims if len(dims) <= MAX_RANK else f"of {len(dims)} axes"
            raise self.error(node, f"asks for a tensor of shape {asked}: negative, more than "
                             f"{MAX_VIEW_ELEMENTS:,} elements or more than {MAX_RANK} axes; "
                             "refused")
        attrs = {a.name: a for a in node.attribute}
        value = (numpy_helper.to_array(attrs["value"].t).reshape(-1)[:1] if "value" in attrs
                 else np.zeros(1, dtype=np.float32))
        if value.size != 1:
            raise self.error(node, "its value must hold one element")
        value = value.astype(np.float64) if value.dtype.kind == "f" else value
        self.consts[node.output[0]] = np.broadcast_to(value.reshape(()), tuple(dims))

    def fold_input(self, name: str, value: np.ndarray) -> np.ndarray:
        """A constant in the element type the model declares for it, or shape inference
        gives it (constants are kept as float64 or int64 here; evaluators check types, and
        a float32 expression folded in float64 can round to another integer: T5's
        relative-position buckets)."""
        declared = self.declared_types.get(name) or self.element_types.get(name)
        if declared is None:
            return value
        from onnx import helper
        try:
            return np.asarray(value).astype(helper.tensor_dtype_to_np_dtype(declared))
        except Exception:
            return value

    def fold_with_onnxruntime(self, node, feeds: dict) -> list:
        """The node alone as a model at the model's opset, run by onnxruntime."""
        import onnxruntime
        from onnx import helper
        graph = helper.make_graph(
            [node], "fold",
            [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(v.dtype),
                                           v.shape) for name, v in feeds.items()],
            [helper.make_empty_tensor_value_info(name) for name in node.output if name])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = min(model.ir_version, 9)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
        return session.run(None, feeds)

    def check_fold_size(self, node, inputs: list) -> None:
        """Refuse, before evaluating, a constant expression whose result would be larger
        than MAX_FOLDED_ELEMENTS: its inferred shape, or for the operators that build tensors
        from a shape (a 300-byte model can ask for gigabytes) the size their inputs ask for."""
        def refuse(size) -> None:
            raise self.error(node, f"folds to {size:,} elements, more than the "
                             f"{MAX_FOLDED_ELEMENTS:,} accelsim builds; refused")

        op = node.op_type
        if op in SIZED_BY_INFERENCE and not self.outputs_inferred(node):
            self.infer_node(node)      # the node alone, its constant inputs known (BEiT's
            #                            interpolated position bias: sizes computed upstream)
        for name in node.output:
            if name in self.inferred and math.prod(self.inferred[name]) > MAX_FOLDED_ELEMENTS:
                refuse(math.prod(self.inferred[name]))
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
            elif op in (*SIZED_BY_INFERENCE, "RandomNormal", "RandomUniform") \
                    and not self.outputs_inferred(node):
                raise self.error(node, f"cannot bound the size of this constant {op}; "
                                 "refused")
            else:
                return
        except (ValueError, TypeError, OverflowError):
            raise self.error(node, "has inputs that do not describe a valid shape") from None
        if not math.isfinite(size) or size > MAX_FOLDED_ELEMENTS or size < 0:
            refuse(size)

    def outputs_inferred(self, node) -> bool:
        return all(name in self.inferred for name in node.output if name)

    def infer_node(self, node) -> None:
        """ONNX shape inference on ``node`` alone, its inputs' shapes and constants known."""
        onnx = onnx_module()
        from onnx import helper, numpy_helper
        inputs, initializers = [], []
        for name in node.input:
            if not name or any(i.name == name for i in inputs):
                continue
            if name in self.consts and np.asarray(self.consts[name]).size > 64 and \
                    np.asarray(self.consts[name]).dtype.kind == "f":
                # a weight: its shape is all inference needs (its values are costly to pass)
                inputs.append(helper.make_tensor_value_info(
                    name, self.declared_types.get(name, onnx.TensorProto.FLOAT),
                    np.shape(self.consts[name])))
            elif name in self.consts:
                value = self.fold_input(name, self.consts[name])
                if value.dtype == np.float64:
                    value = value.astype(np.float32)
                initializers.append(numpy_helper.from_array(np.asarray(value), name))
                inputs.append(helper.make_tensor_value_info(
                    name, helper.np_dtype_to_tensor_dtype(np.asarray(value).dtype),
                    np.asarray(value).shape))
            elif name in self.tensors:
                inputs.append(helper.make_tensor_value_info(
                    name, self.element_types.get(name, onnx.TensorProto.FLOAT),
                    self.full_shape(name, node)))
            else:
                return
        graph = helper.make_graph([node], "node", inputs,
                                  [helper.make_empty_tensor_value_info(o) for o in node.output
                                   if o], initializers)
        model = helper.make_model(graph, opset_imports=list(self.model.opset_import))
        try:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False,
                                                         data_prop=True)
        except Exception:
            return
        for info in (*inferred.graph.value_info, *inferred.graph.output):
            dims = self.static_dims(info)
            if dims is not None and info.name in node.output:
                self.inferred[info.name] = dims

    def check_shapes(self, node) -> None:
        """Every output the importer made has the shape ONNX's shape inference gives it: a
        disagreement (a padding or dilation rule read wrong) is an error naming the node,
        never a silently different network."""
        for name in node.output:
            tensor, inferred = self.tensors.get(name), self.inferred.get(name)
            if tensor is None or inferred is None:
                continue
            full = onnx_shape(tensor, self.batch)
            if len(full) != len(inferred):
                continue
            if full != tuple(inferred):
                raise self.error(node, f"accelsim computes its output '{name}' as "
                                 f"{list(full)} but ONNX shape inference gives "
                                 f"{list(inferred)}; this case is not supported")
