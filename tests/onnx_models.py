"""Small ONNX models built with onnx.helper for the import tests (random, seeded weights)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class GraphBuilder:
    """Nodes and initializers of one graph; names are made unique by a counter."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, value, stem: str = "c") -> str:
        name = self.name(stem)
        array = np.asarray(value)
        array = array.astype(np.float32) if array.dtype.kind == "f" else array.astype(np.int64)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def const_typed(self, value: np.ndarray, stem: str = "c") -> str:
        """A constant in its own numpy type (int8, uint8, int32: quantized models)."""
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def random(self, *shape, scale: float | None = None) -> str:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        std = scale if scale is not None else np.sqrt(2.0 / fan_in)
        return self.const(self.rng.normal(0, std, size=shape).astype(np.float32), "w")

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs) -> str | list[str]:
        outputs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=outputs[0], **attrs))
        return outputs[0] if n_out == 1 else outputs

    def model(self, inputs: dict[str, list[int]], outputs: list[str], opset: int = 17,
              name: str = "test", types: dict[str, int] | None = None) -> onnx.ModelProto:
        """``types``: element types of inputs that are not float (token ids: INT64)."""
        types = types or {}
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(n, types.get(n, TensorProto.FLOAT), s)
             for n, s in inputs.items()],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        return model


def conv_bn_relu(g: GraphBuilder, x: str, cin: int, cout: int, k: int, stride: int = 1,
                 relu: bool = True) -> str:
    y = g.op("Conv", [x, g.random(cout, cin, k, k)], kernel_shape=[k, k],
             strides=[stride, stride], pads=[k // 2] * 4)
    bn = [g.const(g.rng.uniform(0.5, 1.5, cout)), g.const(g.rng.normal(0, 0.1, cout)),
          g.const(g.rng.normal(0, 0.1, cout)), g.const(g.rng.uniform(0.5, 1.5, cout))]
    y = g.op("BatchNormalization", [y, *bn], epsilon=1e-5)
    return g.op("Relu", [y]) if relu else y


def resnet_style(size: int = 16, width: int = 8, classes: int = 10) -> onnx.ModelProto:
    """Stem conv+BN+ReLU, max pool, two basic blocks (one downsampling with a 1x1 shortcut),
    global average pool, flatten, Gemm."""
    g = GraphBuilder(1)
    x = conv_bn_relu(g, "input", 3, width, 3)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    for out, stride in ((width, 1), (2 * width, 2)):
        cin = width
        y = conv_bn_relu(g, x, cin, out, 3, stride)
        y = conv_bn_relu(g, y, out, out, 3, relu=False)
        shortcut = x if stride == 1 else conv_bn_relu(g, x, cin, out, 1, stride, relu=False)
        x = g.op("Relu", [g.op("Add", [y, shortcut])])
        width = out
    x = g.op("GlobalAveragePool", [x])
    x = g.op("Flatten", [x], axis=1)
    logits = g.op("Gemm", [x, g.random(classes, width), g.const(g.rng.normal(0, 0.1, classes))],
                  transB=1)
    return g.model({"input": [1, 3, size, size]}, [logits], name="resnet-style")


def transformer_style(tokens: int = 6, d: int = 16, heads: int = 2, hidden: int = 32,
                      gelu_as_erf: bool = True, batch: int = 1,
                      merge_batch: bool = False) -> onnx.ModelProto:
    """One pre-norm transformer layer as exporters write it: MatMul + Add bias projections,
    Reshape/Transpose to split heads, a Div scale, Softmax, merge heads, residual adds,
    LayerNormalization, and GELU spelled out with Erf (or the Gelu op at opset 20).
    ``merge_batch``: the projections run on [batch·tokens, d] (Hugging Face's view(-1, d))."""
    g = GraphBuilder(2)
    dh = d // heads
    x = "tokens"
    ln = g.op("LayerNormalization", ["tokens", g.const(g.rng.uniform(0.5, 1.5, d)),
                                     g.const(g.rng.normal(0, 0.1, d))], axis=-1, epsilon=1e-5)

    def project(inp, n_in, n_out):
        if merge_batch:
            inp = g.op("Reshape", [inp, g.const(np.array([-1, n_in]))])
        y = g.op("MatMul", [inp, g.random(n_in, n_out, scale=1 / np.sqrt(n_in))])
        y = g.op("Add", [y, g.const(g.rng.normal(0, 0.1, n_out))])
        if merge_batch:
            y = g.op("Reshape", [y, g.const(np.array([batch, tokens, n_out]))])
        return y

    def split(t, order):
        t = g.op("Reshape", [t, g.const(np.array([batch, tokens, heads, dh]))])
        return g.op("Transpose", [t], perm=order)

    q = split(project(ln, d, d), [0, 2, 1, 3])                 # [1, h, T, dh]
    k = split(project(ln, d, d), [0, 2, 3, 1])                 # [1, h, dh, T]
    v = split(project(ln, d, d), [0, 2, 1, 3])
    scores = g.op("Div", [g.op("MatMul", [q, k]), g.const(np.float32(np.sqrt(dh)))])
    probs = g.op("Softmax", [scores], axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    context = g.op("Reshape", [context, g.const(np.array([batch, tokens, d]))])
    x = g.op("Add", [x, project(context, d, d)])
    ln2 = g.op("LayerNormalization", [x, g.const(np.ones(d)), g.const(np.zeros(d))], axis=-1)
    h = project(ln2, d, hidden)
    if gelu_as_erf:
        e = g.op("Erf", [g.op("Div", [h, g.const(np.float32(np.sqrt(2.0)))])])
        h = g.op("Mul", [g.op("Mul", [h, g.op("Add", [e, g.const(np.float32(1.0))])]),
                         g.const(np.float32(0.5))])
    else:
        h = g.op("Gelu", [h])
    x = g.op("Add", [x, project(h, hidden, d)])
    return g.model({"tokens": [batch, tokens, d]}, [x], opset=17 if gelu_as_erf else 20,
                   name="transformer-style")


def run_onnxruntime(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {k: v.astype(np.float32) if v.dtype.kind == "f" else v
                              for k, v in feeds.items()})[0]
