"""One registry entry per layer type: which producer vectors each output vector needs, its
digital cost, how value mode computes it and the ONNX operators it comes from (the table of
activation functions is workload.activations).

Planning, value mode and the ONNX importer read these tables instead of testing layer types.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from accelsim.arith import ceil_div
from accelsim.energy.table import Action
from accelsim.errors import AccelsimError
from accelsim.workload import resize
from accelsim.workload.activations import (
    ONNX_ACTIVATIONS,
    activate,
    activation_counts,
    grouped,
    softmax,
)
from accelsim.workload.layers import (
    LRN,
    Activation,
    Affine,
    Col2Im,
    Concat,
    Constant,
    Conv2d,
    Elementwise,
    Embedding,
    Flatten,
    GenericOp,
    GlobalAvgPool,
    Input,
    Layer,
    LayerNorm,
    Linear,
    MatMul,
    Pad2d,
    Pool2d,
    Reduce,
    Reshape,
    Shape,
    Slice,
    Softmax,
    Take,
    Upsample,
)

# -- dependency rules ------------------------------------------------------------------------


class NeedRule(StrEnum):
    """Which producer vectors a consumer vector needs."""

    SAME = "same"        # the vector at the same position (shifted by Need.offset)
    WINDOW = "window"    # the input rows under a conv or pooling window
    ALL = "all"          # the whole tensor
    ROWS = "rows"        # the input rows up to Need.rows[output row] (-1: none)


@dataclass(frozen=True)
class Need:
    """Which producer vector a consumer vector needs: same index (plus ``offset``: a slice of
    rows starts that many vectors in), a conv window, or all."""

    rule: NeedRule
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    out_width: int = 1
    in_height: int = 1
    in_width: int = 1
    offset: int = 0
    # ROWS: the last input row each output row needs, int64, read-only (an array, not a
    # tuple: a strided slice of 2^25 rows would be 2^25 Python ints)
    rows: np.ndarray | None = field(default=None, compare=False, repr=False)

    def last_needed(self, last_vector: np.ndarray, producer_vectors: int) -> np.ndarray:
        """Index of the last producer vector each consumer vector (array) depends on; -1 where
        it needs none (a window wholly in the padding above the input)."""
        if self.rule == NeedRule.ALL:
            return np.full_like(last_vector, producer_vectors - 1)
        if self.rule == NeedRule.SAME:
            return np.minimum(last_vector + self.offset, producer_vectors - 1)
        out_row = last_vector // self.out_width
        if self.rule == NeedRule.ROWS:
            in_row = self.rows[np.minimum(out_row, len(self.rows) - 1)]
        else:
            in_row = out_row * self.stride - self.padding + (self.kernel - 1) * self.dilation
            in_row = np.minimum(in_row, self.in_height - 1)
        return np.where(in_row < 0, -1,
                        np.minimum((in_row + 1) * self.in_width - 1, producer_vectors - 1))


# Layer norm per element: sum and sum of squares (2 adds, 1 multiply), subtract the mean
# (1 add), normalize (1 multiply), gamma and beta (1 multiply, 1 add); per group: the mean,
# variance and reciprocal square root (4 multiplies; a lookup plus one Newton step; assumed).
LAYER_NORM_OPS = {Action.DIGITAL_ADD: 4, Action.DIGITAL_MUL: 3}
RMS_NORM_OPS = {Action.DIGITAL_ADD: 1, Action.DIGITAL_MUL: 3}    # no mean, no beta
LAYER_NORM_GROUP_OPS = {Action.DIGITAL_MUL: 4}
DIGITAL_ACTIONS = (Action.DIGITAL_ADD, Action.DIGITAL_MUL, Action.DIGITAL_COMPARE)


# -- digital costs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DigitalCost:
    """Per output vector of a layer on the digital unit: activation words read, constant
    words read, and digital operations (by Action)."""

    reads: int
    constant_reads: int
    ops: dict[Action, float]
    # elements of the constant the constant reads index (an embedding table); one larger
    # than the global buffer stays in DRAM and is read from there (hardware.digital)
    table: int = 0


Words = Callable[[int], int]        # elements -> whole buffer words at the activation width


def _elementwise_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    """Per output vector: each input's vector read (a broadcast one read again for every
    output vector: an upper bound), one operation per output element and input beyond the
    first."""
    c = shape[0]
    op = ELEMENTWISE_ACTIONS[layer.function]
    ops = {op: c * (len(in_shapes) - 1)}
    return DigitalCost(sum(words(s[0]) for s in in_shapes), 0,
                       _plus_activation(ops, layer.activation, c))


def _compare(function):
    return lambda a, b: function(a, b).astype(np.float64)


# Elementwise functions of two operands (folded left over more), in value mode and as the
# digital operation each output element costs per operand beyond the first ("where"
# selects: one compare).
ELEMENTWISE_FUNCTIONS = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "pow": np.power, "max": np.maximum, "min": np.minimum,
    # ONNX's Mod: the remainder with the divisor's sign (Python's), or with fmod=1 the
    # dividend's (C's)
    "mod": np.mod, "fmod": np.fmod,
    "equal": _compare(np.equal), "greater": _compare(np.greater),
    "greater_equal": _compare(np.greater_equal), "less": _compare(np.less),
    "less_equal": _compare(np.less_equal),
    "and": _compare(lambda a, b: (a != 0) & (b != 0)),
    "or": _compare(lambda a, b: (a != 0) | (b != 0)),
    "xor": _compare(lambda a, b: (a != 0) ^ (b != 0)),
}
ELEMENTWISE_ACTIONS = {
    **{f: Action.DIGITAL_COMPARE for f in ELEMENTWISE_FUNCTIONS},
    "add": Action.DIGITAL_ADD, "sub": Action.DIGITAL_ADD, "mul": Action.DIGITAL_MUL,
    "div": Action.DIGITAL_MUL, "pow": Action.DIGITAL_MUL, "mod": Action.DIGITAL_MUL,
    "fmod": Action.DIGITAL_MUL, "where": Action.DIGITAL_COMPARE,
}


def _plus_activation(ops: dict, function: str | None, elements: int) -> dict:
    counts = np.zeros(max(Action) + 1)
    for action, n in ops.items():
        counts[action] += n
    activation_counts(counts, function, elements)
    return {action: float(counts[action]) for action in DIGITAL_ACTIONS if counts[action]}


def _activation_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    return DigitalCost(words(shape[0]), 0, _plus_activation({}, layer.function, shape[0]))


def _softmax_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    return DigitalCost(words(shape[0]), 0, _plus_activation({}, "softmax", shape[0]))


def _affine_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # Scalar and per-channel constants stay in the unit; per-element ones are read.
    c = shape[0]
    ops = {Action.DIGITAL_MUL: c * (layer.scale != "none"),
           Action.DIGITAL_ADD: c * (layer.shift != "none")}
    constants = words(c) * ((layer.scale == "full") + (layer.shift == "full"))
    return DigitalCost(words(c), constants, _plus_activation(ops, layer.activation, c))


def _layer_norm_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    c = shape[0]
    per_element = LAYER_NORM_OPS if layer.center else RMS_NORM_OPS
    ops = {action: n * c for action, n in per_element.items()}
    for action, n in LAYER_NORM_GROUP_OPS.items():
        ops[action] = ops.get(action, 0) + n * layer.groups
    return DigitalCost(words(c), 0, ops)


def _matmul_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # Each output vector reads its row of the first operand and streams the whole second
    # operand from the buffer (the unit keeps no operand between vectors).
    m, k, n = layer.dims(in_shapes)
    reads = words(layer.heads * k) + layer.heads * words(k * n)
    return DigitalCost(reads, 0, {Action.DIGITAL_MUL: layer.heads * k * n,
                                  Action.DIGITAL_ADD: layer.heads * k * n})


def _reshape_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # A real permutation: every element is read and written once.
    return DigitalCost(words(shape[0]), 0, {})


def _copy_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # Every output vector is a copy of one input vector: read once per output vector.
    return DigitalCost(words(shape[0]), 0, {})


def _upsample_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # Nearest: a copy. Bilinear: the four neighbours read, and per element three
    # interpolations (a multiply and two adds each). Bicubic: 16 neighbours read, and per
    # element five 4-tap interpolations (four rows, then the column: 4 multiplies, 3 adds).
    c = shape[0]
    if layer.mode == "nearest":
        return _copy_cost(layer, in_shapes, shape, words)
    if layer.mode == "cubic":
        return DigitalCost(16 * words(c), 0, {Action.DIGITAL_MUL: 20 * c,
                                              Action.DIGITAL_ADD: 15 * c})
    return DigitalCost(4 * words(c), 0, {Action.DIGITAL_MUL: 3 * c, Action.DIGITAL_ADD: 6 * c})


def _lrn_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # Per element: the window's squares summed (size multiplies and adds), then the scale,
    # bias and power (a power as a lookup plus a Newton step: 2 multiplies, 2 adds;
    # assumed, as the smooth activations) and the division (a multiply).
    c = shape[0]
    return DigitalCost(words(c), 0, {Action.DIGITAL_MUL: c * (layer.size + 4),
                                     Action.DIGITAL_ADD: c * (layer.size + 2)})


def _upsample(layer: Upsample, xs, workload) -> np.ndarray:
    return resize.resized(layer, xs[0])


def _lrn(layer: LRN, xs, workload) -> np.ndarray:
    x = xs[0]
    squares = np.pad(x * x, ((0, 0), ((layer.size - 1) // 2, layer.size // 2), (0, 0),
                             (0, 0)))
    window = sum(squares[:, i:i + x.shape[1]] for i in range(layer.size))
    return x / (layer.bias + layer.alpha / layer.size * window) ** layer.beta


def _embedding_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # Per token: its index read, and its row of the table.
    return DigitalCost(1, words(layer.dim), {}, table=layer.rows * layer.dim)


def _reduce_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    c = in_shapes[0][0]
    action = (Action.DIGITAL_ADD if layer.function in ("sum", "mean", "cumsum")
              else Action.DIGITAL_COMPARE)
    ops = {action: c - layer.groups}       # a running sum: the same adds, each one kept
    if layer.function == "mean":
        ops[Action.DIGITAL_MUL] = layer.groups
    return DigitalCost(words(c), 0, ops)


def _embedding(layer: Embedding, xs, workload) -> np.ndarray:
    index = xs[0].reshape(xs[0].shape[0], -1)
    if np.any(index != np.round(index)) or index.min() < 0 or index.max() >= layer.rows:
        raise AccelsimError(f"layer '{layer.name}': embedding indices must be whole numbers "
                            f"from 0 to {layer.rows - 1}")
    table = workload.weights.get(layer.name)
    if table is None:
        raise AccelsimError(f"layer '{layer.name}': value mode needs the embedding table")
    rows = table[index.astype(np.int64)]                          # [B, tokens, dim]
    return rows.transpose(0, 2, 1)[..., None]


def _reduce(layer: Reduce, xs, workload) -> np.ndarray:
    parts = grouped(xs[0], layer.groups)
    if layer.function == "cumsum":
        return np.cumsum(parts, axis=2).reshape(xs[0].shape)
    reduce = {"max": np.max, "min": np.min, "sum": np.sum, "mean": np.mean,
              "argmax": np.argmax, "argmin": np.argmin}[layer.function]
    return reduce(parts, axis=2).astype(np.float64)


def _col2im_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    # Each output element sums the contributions that land on it: on average
    # kh·kw / (sh·sw) of them, each read with its vector.
    landing = max(1.0, layer.kernel[0] * layer.kernel[1] / (layer.stride[0] * layer.stride[1]))
    c = shape[0]
    return DigitalCost(math.ceil(landing) * words(c), 0, {Action.DIGITAL_ADD: c * landing})


def _col2im(layer: Col2Im, xs, workload) -> np.ndarray:
    x = xs[0]
    batch, _, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    cols = x.reshape(batch, layer.out_channels, kh, kw, h, w)
    fh, fw = layer.full_size(h, w)
    out = np.zeros((batch, layer.out_channels, fh, fw))
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + (h - 1) * sh + 1:sh,
                j * dw:j * dw + (w - 1) * sw + 1:sw] += cols[:, :, i, j]
    top, left, bottom, right = layer.padding
    out = out[:, :, top:fh - bottom, left:fw - right]
    if layer.name in workload.biases:
        out = out + workload.biases[layer.name]
    return out


def _take(layer: Take, xs, workload) -> np.ndarray:
    index = workload.weights[layer.name].astype(np.int64)
    return np.take(xs[0], index, axis=1 if layer.axis == "channels" else 2)


def _pad(layer: Pad2d, xs, workload) -> np.ndarray:
    top, left, bottom, right = layer.pads
    return np.pad(xs[0], ((0, 0), (0, 0), (top, bottom), (left, right)),
                  constant_values=-np.inf if layer.fill == "lowest" else 0.0)


def _generic_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    vectors = shape[1] * shape[2]
    inputs = sum(math.prod(s) for s in in_shapes)
    return DigitalCost(ceil_div(words(inputs), vectors), 0,
                       {Action.DIGITAL_ADD: shape[0] * layer.ops_per_element})


def _pool_cost(layer, in_shapes, shape, words: Words) -> DigitalCost:
    c = shape[0]
    window = (layer.kernel[0] * layer.kernel[1] if isinstance(layer, Pool2d)
              else in_shapes[0][1] * in_shapes[0][2])
    if isinstance(layer, Pool2d) and layer.function == "max":
        ops = {Action.DIGITAL_COMPARE: c * (window - 1)}
    else:
        ops = {Action.DIGITAL_ADD: c * (window - 1), Action.DIGITAL_MUL: c}
    return DigitalCost(words(c) * window, 0, ops)


# -- forward passes (value mode; floating point) ---------------------------------------------
def _pool(layer: Pool2d, xs, workload) -> np.ndarray:
    x = xs[0]
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
    _, ho, wo = layer.output_shape([x.shape[1:]])
    # The padding, then whatever a ceil-mode last window reaches beyond it.
    extra_h = max(0, (ho - 1) * sh + kh - (x.shape[2] + 2 * ph))
    extra_w = max(0, (wo - 1) * sw + kw - (x.shape[3] + 2 * pw))
    pads = ((0, 0), (0, 0), (ph, ph + extra_h), (pw, pw + extra_w))

    def windows(a):
        view = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(2, 3))
        return view[:, :, ::sh, ::sw][:, :, :ho, :wo]

    if layer.function == "max":
        return windows(np.pad(x, pads, constant_values=-np.inf)).max(axis=(4, 5))
    total = windows(np.pad(x, pads)).sum(axis=(4, 5))
    # What each window divides by: the input values in it, plus the padding if counted.
    inside = np.ones((1, 1, x.shape[2], x.shape[3]))
    counted = np.pad(inside, ((0, 0), (0, 0), (ph, ph), (pw, pw)),
                     constant_values=1.0 if layer.count_include_pad else 0.0)
    counted = np.pad(counted, ((0, 0), (0, 0), (0, extra_h), (0, extra_w)))
    return total / windows(counted).sum(axis=(4, 5))


def _elementwise(layer: Elementwise, xs, workload) -> np.ndarray:
    channels = max(x.shape[1] for x in xs)
    xs = [np.tile(x, (1, channels // x.shape[1], 1, 1)) if x.shape[1] not in (1, channels)
          else x for x in xs]
    if layer.function == "where":
        return activate(np.where(xs[0] != 0, xs[1], xs[2]), layer.activation)
    combine = ELEMENTWISE_FUNCTIONS[layer.function]
    y = xs[0]
    for x in xs[1:]:
        y = combine(y, x)
    return activate(y, layer.activation)


def _reshape(layer: Reshape, xs, workload) -> np.ndarray:
    batch = xs[0].shape[0]
    moved = xs[0].reshape(batch, *layer.source).transpose(0, *(p + 1 for p in layer.perm))
    return moved.reshape(batch, *layer.shape)


def _matmul(layer: MatMul, xs, workload) -> np.ndarray:
    """Per head: [M, K] @ [K, N], from the layouts MatMul documents."""
    a, b = xs
    batch, _, h, w = a.shape
    heads = layer.heads
    a_heads = a.reshape(batch, heads, -1, h * w).transpose(0, 1, 3, 2)       # [B, h, M, K]
    b_heads = b.reshape(batch, heads, -1, b.shape[2] * b.shape[3])         # [B, h, ., .]
    b_heads = b_heads if layer.transpose_b else b_heads.transpose(0, 1, 3, 2)
    # with transpose_b: [B, h, K, N] as stored; without: stored [B, h, N, K] -> [B, h, K, N]
    product = a_heads @ b_heads                                             # [B, h, M, N]
    return product.transpose(0, 1, 3, 2).reshape(batch, -1, h, w)


def _affine(layer: Affine, xs, workload) -> np.ndarray:
    y = xs[0]
    if layer.name in workload.weights:
        y = y * workload.weights[layer.name]
    if layer.name in workload.biases:
        y = y + workload.biases[layer.name]
    return activate(y, layer.activation)


def _layer_norm(layer: LayerNorm, xs, workload) -> np.ndarray:
    x = xs[0]
    parts = grouped(x, layer.groups)
    if layer.center:
        mean = parts.mean(axis=2, keepdims=True)
        var = parts.var(axis=2, keepdims=True)
        y = ((parts - mean) / np.sqrt(var + layer.epsilon)).reshape(x.shape)
    else:                               # RMS norm
        y = (parts / np.sqrt((parts * parts).mean(axis=2, keepdims=True) + layer.epsilon)
             ).reshape(x.shape)
    gamma = workload.weights.get(layer.name)
    beta = workload.biases.get(layer.name)
    if gamma is not None:
        y = y * gamma[:, None, None]
    if beta is not None:
        y = y + beta[:, None, None]
    return y


# -- the registry ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    """What a layer type is to the rest of accelsim.

    need: the dependency rule of each input (window rules are built from the layer).
    digital: its cost per output vector on the digital unit (None: it does not run there).
    forward: its value-mode computation (None: weighted layers are computed by their unit).
    onnx: the ONNX operators imported as this layer type (for messages and listings).
    """

    need: NeedRule
    digital: Callable[..., DigitalCost] | None = None
    forward: Callable[..., np.ndarray] | None = None
    onnx: tuple[str, ...] = ()


OPS: dict[type[Layer], Op] = {
    Input: Op(NeedRule.ALL, onnx=("graph input",)),
    Conv2d: Op(NeedRule.WINDOW, onnx=("Conv",)),
    Linear: Op(NeedRule.SAME, onnx=("Gemm", "MatMul with a constant")),
    Pool2d: Op(NeedRule.WINDOW, _pool_cost, _pool, ("MaxPool", "AveragePool")),
    Upsample: Op(NeedRule.ALL, _upsample_cost, _upsample, ("Resize", "Upsample")),
    LRN: Op(NeedRule.SAME, _lrn_cost, _lrn, ("LRN",)),
    GlobalAvgPool: Op(NeedRule.ALL, _pool_cost, lambda layer, xs, wl: xs[0].mean(
        axis=(2, 3), keepdims=True), ("GlobalAveragePool", "ReduceMean")),
    Elementwise: Op(NeedRule.SAME, _elementwise_cost, _elementwise,
                    ("Add", "Mul", "Sum", "Max", "Mean")),
    Activation: Op(NeedRule.SAME, _activation_cost, lambda layer, xs, wl: (
        np.where(xs[0] >= 0, xs[0], layer.slope * xs[0]) if layer.function == "leaky_relu"
        else activate(xs[0], layer.function)),
        tuple(ONNX_ACTIVATIONS) + ("Clip", "HardSigmoid", "LeakyRelu")),
    Flatten: Op(NeedRule.ALL, forward=lambda layer, xs, wl: xs[0].reshape(
        xs[0].shape[0], -1, 1, 1), onnx=("Flatten",)),
    Concat: Op(NeedRule.ALL, forward=lambda layer, xs, wl: np.concatenate(
        xs, axis=1 if layer.axis == "channels" else 2), onnx=("Concat",)),
    Slice: Op(NeedRule.ALL, forward=lambda layer, xs, wl: (
        xs[0][:, layer.start:layer.stop] if layer.axis == "channels"
        else xs[0][:, :, layer.start:layer.stop]), onnx=("Slice", "Gather")),
    MatMul: Op(NeedRule.SAME, _matmul_cost, _matmul, ("MatMul",)),   # first input; see need()
    Reshape: Op(NeedRule.ALL, _reshape_cost, _reshape,
                ("Reshape", "Transpose", "Squeeze", "Unsqueeze")),
    Affine: Op(NeedRule.SAME, _affine_cost, _affine, ("Add", "Sub", "Mul", "Div",
                                                      "BatchNormalization")),
    LayerNorm: Op(NeedRule.SAME, _layer_norm_cost, _layer_norm,
                  ("LayerNormalization", "RMSNormalization")),
    Softmax: Op(NeedRule.SAME, _softmax_cost, lambda layer, xs, wl: softmax(xs[0], layer.groups),
                ("Softmax",)),
    GenericOp: Op(NeedRule.ALL, _generic_cost, None, ("any other",)),
    Constant: Op(NeedRule.ALL, onnx=("Concat with a constant",)),
    Embedding: Op(NeedRule.ALL, _embedding_cost, _embedding, ("Gather on a constant table",)),
    Reduce: Op(NeedRule.SAME, _reduce_cost, _reduce, ("ReduceMax", "ReduceSum", "ReduceMean",
                                                      "ArgMax", "CumSum")),
    Pad2d: Op(NeedRule.ALL, _copy_cost, _pad, ("Pad",)),
    Col2Im: Op(NeedRule.ALL, _col2im_cost, _col2im, ("ConvTranspose (after a linear)",)),
    Take: Op(NeedRule.ALL, _copy_cost, _take, ("Slice with a step", "Gather of constant indices")),
}


def op(layer: Layer) -> Op:
    return OPS[type(layer)]


def need(workload, name: str, source: str) -> Need:
    """What each output vector of layer ``name`` needs of its input ``source``."""
    layer, shape = workload.layers[name], workload.shapes[name]
    rule = op(layer).need
    if isinstance(layer, MatMul) and source != layer.inputs[0]:
        rule = NeedRule.ALL            # every vector needs all of the second operand
    elif isinstance(layer, (Concat, Slice)) and layer.axis == "channels":
        rule = NeedRule.SAME           # a vector's channels come from its own position
    elif isinstance(layer, Slice):     # rows [start, stop): the vectors from row start on
        return Need(NeedRule.SAME, offset=layer.start * workload.shapes[source][2])
    elif isinstance(layer, Reshape) and _keeps_vectors(layer, workload.shapes[source], shape):
        rule = NeedRule.SAME
    elif isinstance(layer, (Pad2d, Concat)):
        # Rows of zeros above, or the rows of the inputs before this one: output row r needs
        # the source's rows up to r - above, a one-row window shifted down by that much (a
        # row above the source's needs none of it, one below it all of it).
        above = (layer.pads[0] if isinstance(layer, Pad2d) else
                 sum(workload.shapes[s][1] for s in layer.inputs[:layer.inputs.index(source)]))
        _, h, w = workload.shapes[source]
        return Need(NeedRule.WINDOW, 1, 1, above, 1, out_width=shape[2], in_height=h,
                    in_width=w)
    elif isinstance(layer, Embedding) and workload.shapes[source][0] == 1:
        rule = NeedRule.SAME           # one index per position: output vector j looks up j
    elif isinstance(layer, Take) and layer.axis == "channels":
        rule = NeedRule.SAME           # a vector's channels picked from its own position
    elif isinstance(layer, Take) and layer.name in workload.weights:
        # the rows picked, in order (a strided slice, a gather of rows): output row r needs
        # every row picked up to it
        return _rows_needed(workload.weights[layer.name].astype(np.int64).reshape(-1),
                            shape, workload.shapes[source])
    elif isinstance(layer, (Upsample, Col2Im)):
        h = workload.shapes[source][1]
        out_rows = np.arange(shape[1])
        if isinstance(layer, Col2Im):    # the input rows whose kernels reach the output row
            rows = np.minimum((out_rows + layer.padding[0]) // layer.stride[0], h - 1)
        else:                            # the last input row an output row reads
            rows = resize.last_rows(layer, h, shape[1])
        return _rows_needed(rows, shape, workload.shapes[source])
    if rule != NeedRule.WINDOW:
        return Need(rule)
    _, h, w = workload.shapes[source]
    dilation = layer.dilation[0] if isinstance(layer, Conv2d) else 1
    return Need(NeedRule.WINDOW, layer.kernel[0], layer.stride[0], layer.padding[0], dilation,
                out_width=shape[2], in_height=h, in_width=w)


def _rows_needed(rows: np.ndarray, shape: Shape, source: Shape) -> Need:
    """Output row r (of ``shape``) reads input row ``rows[r]`` (of ``source``), so it needs
    every row up to the largest of rows[:r + 1]."""
    last = np.maximum.accumulate(np.asarray(rows, dtype=np.int64))
    last.setflags(write=False)
    return Need(NeedRule.ROWS, out_width=shape[2], in_width=source[2], rows=last)


def _keeps_vectors(layer: Reshape, source: Shape, shape: Shape) -> bool:
    """A reshape that moves no data and keeps the channels and the number of positions
    leaves every element at its position's index: (C, H, W) as (C, H·W, 1) and back."""
    return (layer.aliases_input and shape[0] == source[0]
            and shape[1] * shape[2] == source[1] * source[2])


def forward(layer: Layer, xs: list[np.ndarray], workload) -> np.ndarray:
    """A non-weighted layer's output in value mode (floating point)."""
    compute = op(layer).forward
    if compute is None:
        raise AccelsimError(f"layer '{layer.name}': value mode cannot run a {layer.kind} layer")
    return compute(layer, xs, workload)
