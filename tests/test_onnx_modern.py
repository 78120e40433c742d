"""Operators that today's exports use and that once stopped the import: grouped-query
attention's repeated keys (Expand over a middle axis), PyTorch's attention guards (IsNaN, masks
of -inf), 1-D convolutions (Whisper, wav2vec2), InstanceNormalization over sequences, and the
L1/L2 reductions (ConvNeXt V2's response normalization). Values are held to onnxruntime's."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx_models import GraphBuilder, run_onnxruntime  # noqa: E402
from test_onnx import check_values, save  # noqa: E402

from accelsim.workload.onnx import load_onnx  # noqa: E402


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def kinds(wl):
    return [wl.layers[n].kind for n in wl.order]


def test_grouped_query_attention_repeats_keys_without_a_constant(tmp_path):
    """Llama's repeat_kv: keys of 2 heads, unsqueezed, expanded to 3 copies each and viewed
    as 6 heads. The copies are one take of 2 x 3 channels (no output-sized constant of
    zeros), and the 6 heads meet the queries in the right order."""
    g = GraphBuilder(1)
    q = g.op("Reshape", [g.op("MatMul", ["x", g.random(8, 24)]), g.const([1, 5, 6, 4])])
    q = g.op("Transpose", [q], perm=[0, 2, 1, 3])                           # (1, 6, 5, 4)
    k = g.op("Reshape", [g.op("MatMul", ["x", g.random(8, 8)]), g.const([1, 5, 2, 4])])
    k = g.op("Transpose", [k], perm=[0, 2, 1, 3])                           # (1, 2, 5, 4)
    k = g.op("Unsqueeze", [k, g.const([2])])                                # (1, 2, 1, 5, 4)
    k = g.op("Expand", [k, g.const([1, 2, 3, 5, 4])])
    k = g.op("Reshape", [k, g.const([1, 6, 5, 4])])
    scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])  # (1, 6, 5, 5)
    model = g.model({"x": [1, 5, 8]}, [scores])
    wl = load_onnx(save(model, tmp_path))
    takes = [n for n in wl.order if wl.layers[n].kind == "take"]
    assert len(takes) == 1 and wl.layers[takes[0]].count == 6
    assert not any(wl.layers[n].kind == "constant" for n in wl.order)
    assert wl.macs == 5 * 8 * 24 + 5 * 8 * 8 + 6 * 5 * 5 * 4
    check_values(model, wl, {"x": normal(1, 5, 8)})


@pytest.mark.parametrize("x_shape, to", [
    ([1, 3, 1, 5], [1, 3, 4, 5]),            # a middle axis
    ([1, 3, 4, 1], [1, 3, 4, 5]),            # the last axis
    ([1, 1, 4, 1], [1, 3, 4, 5]),            # two axes, around a kept one
    ([1, 4, 1], [1, 2, 4, 3]),               # and a new leading axis
])
def test_expand_over_any_axes(tmp_path, x_shape, to):
    g = GraphBuilder(2)
    y = g.op("Expand", [g.op("Relu", ["x"]), g.const(np.array(to))])
    y = g.op("Add", [y, g.op("Relu", [y])])
    model = g.model({"x": x_shape}, [y])
    wl = load_onnx(save(model, tmp_path))
    (take,) = [n for n in wl.order if wl.layers[n].kind == "take"]
    assert np.prod(wl.shapes[take]) == np.prod(to)        # one copy per output element
    check_values(model, wl, {"x": normal(*x_shape, seed=3)})


def test_attention_with_an_infinite_mask_and_its_nan_guard(tmp_path):
    """PyTorch's exported attention: scores plus a causal mask of 0 and -inf (a constant),
    softmax, then Where(IsNaN(p), 0, p) for rows that are masked out entirely."""
    g = GraphBuilder(3)
    t = 5
    mask = np.triu(np.full((t, t), -np.inf, dtype=np.float32), k=1)
    scores = g.op("MatMul", ["x", g.op("Transpose", ["x"], perm=[0, 2, 1])])
    p = g.op("Softmax", [g.op("Add", [scores, g.const(mask)])], axis=-1)
    p = g.op("Where", [g.op("IsNaN", [p]), g.const(np.float32(0.0)), p])
    p = g.op("Add", [p, g.op("Cast", [g.op("IsInf", [scores])], to=1)])    # zeros here
    y = g.op("MatMul", [p, "x"])
    model = g.model({"x": [1, t, 4]}, [y])
    wl = load_onnx(save(model, tmp_path))
    functions = {wl.layers[n].function for n in wl.order if wl.layers[n].kind == "activation"}
    assert {"isnan", "isinf"} <= functions
    check_values(model, wl, {"x": normal(1, t, 4, seed=5)})


@pytest.mark.parametrize("attrs, length_out", [
    ({"pads": [1, 1]}, 20),
    ({"pads": [2, 2], "strides": [2], "dilations": [2]}, 10),
    ({"auto_pad": "SAME_UPPER", "strides": [2]}, 10),
    ({"group": 2}, 18),
])
def test_one_dimensional_convolution(tmp_path, attrs, length_out):
    """A Conv1d (Whisper's stem, wav2vec2's feature extractor) as a K x 1 conv down the
    height of a (C, L, 1) image: MACs 6 outputs x 4/groups inputs x 3 taps per position."""
    groups = attrs.get("group", 1)
    g = GraphBuilder(4)
    y = g.op("Conv", ["x", g.random(6, 4 // groups, 3), g.const(normal(6, seed=1))],
             kernel_shape=[3], **attrs)
    y = g.op("Relu", [y])
    model = g.model({"x": [1, 4, 20]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 6 * (4 // groups) * 3 * length_out
    check_values(model, wl, {"x": normal(1, 4, 20, seed=2)})


@pytest.mark.parametrize("op, attrs, length_out", [
    ("AveragePool", {"kernel_shape": [3], "strides": [1], "pads": [1, 1],
                     "count_include_pad": 0}, 20),                  # Next-ViT's token pool
    ("AveragePool", {"kernel_shape": [2], "strides": [2]}, 10),
    ("AveragePool", {"kernel_shape": [3], "strides": [2], "pads": [0, 1]}, 10),   # uneven
    ("MaxPool", {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}, 10),
    ("MaxPool", {"kernel_shape": [4], "strides": [3], "ceil_mode": 1}, 7),
])
def test_one_dimensional_pooling(tmp_path, op, attrs, length_out):
    """A 1-D pool over a (C, L) sequence as a K x 1 window down a (C, L, 1) column, as
    a 1-D conv is; the output is (C, L') again."""
    g = GraphBuilder(4)
    y = g.op("Add", [g.op(op, [g.op("Relu", ["x"])], **attrs), g.const(np.float32(1.0))])
    model = g.model({"x": [1, 4, 20]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert wl.shapes[wl.order[-1]] == (4, length_out, 1)
    check_values(model, wl, {"x": normal(1, 4, 20, seed=2)})


def test_instance_normalization_of_a_sequence(tmp_path):
    """InstanceNormalization on (N, C, L) (wav2vec2's first group norm, exported as one):
    the statistics over each channel's positions."""
    g = GraphBuilder(5)
    y = g.op("Conv", ["x", g.random(6, 3, 3)], kernel_shape=[3])
    y = g.op("InstanceNormalization", [y, g.const(normal(6, seed=1)),
                                       g.const(normal(6, seed=2))], epsilon=1e-5)
    model = g.model({"x": [1, 3, 12]}, [y])
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(1, 3, 12, seed=6)})


@pytest.mark.parametrize("op", ["ReduceL2", "ReduceL1", "ReduceSumSquare"])
@pytest.mark.parametrize("opset, axes, keepdims", [
    (17, [1, 2], 1),                 # ConvNeXt V2's GRN: over the height and width of NHWC
    (18, [-1], 0),                   # axes as an input
])
def test_norm_reductions(tmp_path, op, opset, axes, keepdims):
    g = GraphBuilder(6)
    y = g.op("Transpose", [g.op("Conv", ["x", g.random(4, 3, 3, 3)], kernel_shape=[3, 3],
                                pads=[1, 1, 1, 1])], perm=[0, 2, 3, 1])    # (1, 5, 6, 4)
    if opset >= 18:
        r = g.op(op, [y, g.const(np.array(axes))], keepdims=keepdims)
    else:
        r = g.op(op, [y], axes=axes, keepdims=keepdims)
    model = g.model({"x": [1, 3, 5, 6]}, [r], opset=opset)
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(1, 3, 5, 6, seed=7)})


def test_shape_inference_reads_a_copy_without_the_weights(tmp_path):
    """Shape inference (which serializes the model) gets the weights' dimensions only; the
    shape constants it reads keep their values, and the model itself is left whole."""
    from onnx import numpy_helper

    from accelsim.workload.onnx.reading import LEAN_ELEMENTS, has_no_data, without_weights
    g = GraphBuilder(7)
    y = g.op("MatMul", ["x", g.random(16, 32)])                 # 512 weights
    y = g.op("Reshape", [y, g.const(np.array([1, 4, 8, 4]))])   # a shape: kept
    model = g.model({"x": [1, 4, 16]}, [g.op("Relu", [y])])
    lean = without_weights(model)
    assert [t.name for t in lean.graph.initializer] == [t.name for t in model.graph.initializer]
    for whole, kept in zip(model.graph.initializer, lean.graph.initializer):
        assert list(kept.dims) == list(whole.dims) and kept.data_type == whole.data_type
        big = np.prod(whole.dims) > LEAN_ELEMENTS
        assert has_no_data(kept) == big and not has_no_data(whole)
        if not big:
            assert np.array_equal(numpy_helper.to_array(kept), numpy_helper.to_array(whole))
    assert len(lean.graph.node) == len(model.graph.node) and lean.opset_import == \
        model.opset_import
    wl = load_onnx(save(model, tmp_path))
    assert not wl.missing_weights
    check_values(model, wl, {"x": normal(1, 4, 16, seed=8)})


def roberta_positions(g: GraphBuilder, ids: str) -> str:
    """RoBERTa's position ids: padding (id 1) keeps position 1, every other token counts up
    from 2 (cumsum of the mask, times the mask, plus the padding index)."""
    mask = g.op("Cast", [g.op("Not", [g.op("Equal", [ids, g.const(np.int64(1))])])], to=7)
    counted = g.op("Mul", [g.op("CumSum", [mask, g.const(np.int64(1))]), mask])
    return g.op("Add", [counted, g.const(np.int64(1))])


def test_cumsum_position_ids_and_a_gather_of_their_token_types(tmp_path):
    """RoBERTa's embeddings: positions by a running sum over the tokens (a prefix reduce:
    one add per token but the first), looked up in a position table and, by
    GatherElements, in a constant (1, 10) table of token types."""
    from onnx import TensorProto
    g = GraphBuilder(8)
    positions = roberta_positions(g, "ids")
    y = g.op("Gather", [g.const(normal(10, 4, seed=1)), positions], axis=0)     # (1, 6, 4)
    kinds_ = g.op("GatherElements", [g.const(normal(1, 10, seed=2)), positions], axis=1)
    y = g.op("Add", [y, g.op("Unsqueeze", [kinds_, g.const(np.array([2]))])])
    model = g.model({"ids": [1, 6]}, [y], types={"ids": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    (scan,) = [n for n in wl.order if wl.layers[n].kind == "reduce"]
    assert wl.layers[scan].function == "cumsum" and wl.shapes[scan] == (6, 1, 1)
    check_values(model, wl, {"ids": np.array([[5, 1, 9, 9, 1, 3]], dtype=np.int64)})


@pytest.mark.parametrize("axis", [1, -1, 2])
def test_cumsum_along_any_axis(tmp_path, axis):
    g = GraphBuilder(9)
    y = g.op("CumSum", [g.op("Relu", ["x"]), g.const(np.int64(axis))])
    model = g.model({"x": [1, 3, 5, 4]}, [g.op("Add", [y, g.op("Relu", [y])])])
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(1, 3, 5, 4, seed=9)})


def test_cumsum_and_gather_elements_they_do_not_model_are_refused(tmp_path):
    from accelsim import SpecError
    g = GraphBuilder(10)
    y = g.op("CumSum", ["x", g.const(np.int64(1))], reverse=1)
    with pytest.raises(SpecError, match="CumSum with exclusive or reverse"):
        load_onnx(save(g.model({"x": [1, 3, 5]}, [y]), tmp_path))
    g = GraphBuilder(11)
    index = g.op("Cast", [g.op("Relu", ["x"])], to=7)
    y = g.op("GatherElements", [g.const(normal(2, 10)), index], axis=1)
    with pytest.raises(SpecError, match="varies along other axes"):
        load_onnx(save(g.model({"x": [2, 3]}, [y]), tmp_path))


def test_constants_fold_in_the_element_type_the_model_gives_them(tmp_path):
    """T5's relative-position buckets: log(n / 8) / log(128 / 8) * 8 in float32 (the
    divisor a float32 constant), truncated to an integer. At n = 16 float32 gives exactly 2
    (bucket 10 after the offset) where float64 gives 1.99999998 (bucket 9); folding the
    intermediate constants in float64 picked the wrong row of the bias table (T5 encoder
    4.8e-3, mT5 1.5e-2 relative error against onnxruntime)."""
    g = GraphBuilder(12)
    distance = g.const(np.array([[16, 24, 100, 3]], dtype=np.int64))
    scaled = g.op("Div", [g.op("Cast", [distance], to=1), g.const(np.float32(8.0))])
    ratio = g.op("Div", [g.op("Log", [scaled]), g.const(np.float32(np.log(128 / 8)))])
    bucket = g.op("Add", [g.op("Cast", [g.op("Mul", [ratio, g.const(np.float32(8.0))])],
                                to=7), g.const(np.int64(8))])
    bias = g.op("Gather", [g.const(np.arange(20, dtype=np.float32).reshape(20, 1)), bucket])
    y = g.op("Add", ["x", g.op("Reshape", [bias, g.const(np.array([1, 4]))])])
    model = g.model({"x": [1, 4]}, [y])
    expected = run_onnxruntime(model, {"x": np.zeros((1, 4), np.float32)})
    assert expected[0, 0] == 10.0             # float32's bucket, not float64's 9
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(1, 4, seed=10)})


@pytest.mark.parametrize("fusable", [True, False])
def test_batch_norm_over_tokens_merged_with_the_batch(tmp_path, fusable):
    """LeViT's BatchNorm1d: a (batch x tokens, channels) view of a linear layer's output,
    normalized along its second axis (ONNX's channels), folded into the linear layer or,
    after a ReLU, a per-channel affine along that axis. It crashed (statistics for 4
    channels reshaped to the 6 tokens)."""
    g = GraphBuilder(13)
    y = g.op("MatMul", ["x", g.random(8, 4)])
    if not fusable:
        y = g.op("Relu", [y])
    y = g.op("Reshape", [y, g.const(np.array([6, 4]))])
    stats = [g.const(g.rng.uniform(0.5, 1.5, 4)), g.const(g.rng.normal(0, 0.1, 4)),
             g.const(g.rng.normal(0, 0.1, 4)), g.const(g.rng.uniform(0.5, 1.5, 4))]
    y = g.op("BatchNormalization", [y, *stats], epsilon=1e-5)
    y = g.op("Relu", [g.op("Reshape", [y, g.const(np.array([1, 6, 4]))])])
    model = g.model({"x": [1, 6, 8]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert ("affine" in kinds(wl)) != fusable
    check_values(model, wl, {"x": normal(1, 6, 8, seed=11)})


def test_an_empty_slice_concatenated_away(tmp_path):
    """Phi-3's rotary embedding over the whole head: x[..., :d] rotated, x[..., d:] (empty)
    passed through, the two concatenated. The empty half is dropped from the concat; used
    anywhere else it is refused by name."""
    from accelsim import SpecError
    g = GraphBuilder(14)
    x = g.op("Relu", ["x"])
    rotated = g.op("Slice", [x, g.const([0]), g.const([4]), g.const([-1])])
    rest = g.op("Slice", [x, g.const([4]), g.const([2 ** 62]), g.const([-1])])
    y = g.op("Concat", [g.op("Neg", [rotated]), rest], axis=-1)
    model = g.model({"x": [1, 3, 4]}, [g.op("MatMul", [y, g.random(4, 2)])])
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 3 * 4 * 2
    check_values(model, wl, {"x": normal(1, 3, 4, seed=12)})
    g = GraphBuilder(15)
    rest = g.op("Slice", ["x", g.const([4]), g.const([9]), g.const([-1])])
    with pytest.raises(SpecError, match="is an empty slice"):
        load_onnx(save(g.model({"x": [1, 3, 4]}, [g.op("Relu", [rest])]), tmp_path))


def test_a_constant_resize_whose_sizes_are_computed(tmp_path):
    """BEiT's, DPT's and YOLOS's position tables interpolated to the image's grid: a Resize
    of constants whose sizes come out of arithmetic that shape inference does not follow.
    Folding bounds its size by inferring that node alone, its inputs known (it refused)."""
    g = GraphBuilder(16)
    table = g.const(normal(1, 4, 3, 3, seed=13))
    grid = g.op("Mul", [g.const(np.array([1.0, 1.0, 3.0, 3.0], dtype=np.float32)),
                        g.const(np.array([1.0, 1.0, 2.0, 2.0], dtype=np.float32))])
    sizes = g.op("Cast", [grid], to=7)
    resized = g.op("Resize", [table, "", "", sizes], mode="nearest")
    y = g.op("Conv", ["x", g.random(4, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    model = g.model({"x": [1, 3, 6, 6]}, [g.op("Add", [y, resized])])
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(1, 3, 6, 6, seed=14)})


def qdq_pair(g: GraphBuilder, x: str, scale: float, zero: int, dtype) -> str:
    q = g.op("QuantizeLinear", [x, g.const(np.float32(scale)),
                                g.const_typed(np.array(zero, dtype=dtype))])
    return g.op("DequantizeLinear", [q, g.const(np.float32(scale)),
                                     g.const_typed(np.array(zero, dtype=dtype))])


def qdq_network(quantized: bool):
    """conv, ReLU, max pool, conv, as onnxruntime's static quantizer writes it (QDQ): the
    input quantized with a zero point of 128, int8 weights with per-channel scales and an
    int32 bias dequantized, and the ReLU removed because the uint8 quantizer after the conv
    has zero point 0; or the float network it stands for (the same dequantized weights)."""
    g = GraphBuilder(17)
    rng = np.random.default_rng(5)
    w1, w2 = rng.integers(-127, 128, (4, 3, 3, 3)), rng.integers(-127, 128, (5, 4, 1, 1))
    s1, s2 = rng.uniform(0.001, 0.01, 4), rng.uniform(0.001, 0.01, 5)
    b1 = rng.integers(-500, 500, 4)

    def weight(w, s):
        if not quantized:
            return g.const((w * s.reshape(-1, 1, 1, 1)).astype(np.float32))
        return g.op("DequantizeLinear", [g.const_typed(w.astype(np.int8)),
                                         g.const(s.astype(np.float32)),
                                         g.const_typed(np.zeros(len(s), np.int8))], axis=0)
    bias = (g.op("DequantizeLinear", [g.const_typed(b1.astype(np.int32)),
                                      g.const((s1 * 0.02).astype(np.float32))], axis=0)
            if quantized else g.const((b1 * s1 * 0.02).astype(np.float32)))
    x = qdq_pair(g, "x", 0.02, 128, np.uint8) if quantized else "x"
    y = g.op("Conv", [x, weight(w1, s1), bias], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y = qdq_pair(g, y, 0.01, 0, np.uint8) if quantized else g.op("Relu", [y])
    y = g.op("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = qdq_pair(g, y, 0.01, 0, np.uint8) if quantized else y      # no ReLU: already >= 0
    y = g.op("Conv", [y, weight(w2, s2)], kernel_shape=[1, 1])
    y = qdq_pair(g, y, 0.05, 0, np.int8) if quantized else y       # symmetric: no ReLU
    return g.model({"x": [1, 3, 8, 8]}, [y], opset=17)


def test_a_qdq_model_imports_as_the_float_network_it_quantizes(tmp_path):
    """An INT8 model in QDQ form: the chip quantizes activations at its own widths, so each
    Quantize-Dequantize pair moves and costs nothing, except a range from zero, which is the
    ReLU the quantizer folded in (once per network, not after the pool). Values equal the
    float network's (onnxruntime on it) and the costs are that network's, exactly."""
    import accelsim
    quantized, plain = qdq_network(True), qdq_network(False)
    wl = load_onnx(save(quantized, tmp_path, "q.onnx"))
    wf = load_onnx(save(plain, tmp_path, "f.onnx"))
    assert kinds(wl) == kinds(wf)
    feeds = {"x": np.random.default_rng(3).uniform(-2, 2, (1, 3, 8, 8)).astype(np.float32)}
    check_values(plain, wl, feeds)
    for device in ("cim-16x16", "eyeriss-like"):
        a, b = accelsim.simulate(wl, device), accelsim.simulate(wf, device)
        assert (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)


def test_a_dequantize_of_anything_but_a_quantize_is_refused(tmp_path):
    from onnx import TensorProto

    from accelsim import SpecError
    g = GraphBuilder(18)
    y = g.op("DequantizeLinear", ["ids", g.const(np.float32(0.5))])
    model = g.model({"ids": [1, 4]}, [y], types={"ids": TensorProto.INT8})
    with pytest.raises(SpecError, match="after a QuantizeLinear only"):
        load_onnx(save(model, tmp_path))


def batched_mask_gather(index: np.ndarray):
    """Hugging Face's attention mask at batch 2: the (2, 5) mask flattened to (10, 1) and
    gathered at b x 5 + position (the index arithmetic its masking functions export)."""
    from onnx import TensorProto
    g = GraphBuilder(19)
    flat = g.op("Reshape", [g.op("Cast", ["m"], to=1), g.const(np.array([10, 1]))])
    picked = g.op("Gather", [flat, g.const(index)], axis=0)                    # (2, 1, 5, 1)
    picked = g.op("Reshape", [picked, g.const(np.array([2, 5]))])
    y = g.op("Mul", [g.op("Relu", ["x"]), picked])
    return g.model({"x": [2, 5], "m": [2, 5]}, [y], types={"m": TensorProto.INT64})


def test_a_gather_of_each_images_own_rows_through_the_merged_batch(tmp_path):
    index = (np.arange(2).reshape(2, 1, 1) * 5 + np.arange(5)).astype(np.int64)
    model = batched_mask_gather(index)
    wl = load_onnx(save(model, tmp_path))
    assert wl.batch == 2
    feeds = {"x": normal(2, 5, seed=15), "m": np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])}
    check_values(model, wl, feeds)


def test_a_gather_that_mixes_images_is_refused_with_a_way_out(tmp_path):
    from accelsim import SpecError
    index = np.array([[[5, 6, 7, 8, 9]], [[0, 1, 2, 3, 4]]], dtype=np.int64)   # swapped
    with pytest.raises(SpecError, match="mixes images.*export the model at batch 1"):
        load_onnx(save(batched_mask_gather(index), tmp_path))


def test_gather_elements_from_a_table_expanded_to_the_batch(tmp_path):
    """RoBERTa at batch 2: its token-type buffer expanded to (2, 10) before the lookup."""
    from onnx import TensorProto
    g = GraphBuilder(20)
    table = np.broadcast_to(normal(1, 10, seed=16), (2, 10))
    picked = g.op("GatherElements", [g.const(np.ascontiguousarray(table)), "ids"], axis=1)
    model = g.model({"ids": [2, 4]}, [g.op("Add", [picked, picked])],
                    types={"ids": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"ids": np.array([[0, 3, 9, 2], [7, 7, 1, 0]])})


def test_the_attention_operator_imports_as_its_function_body(tmp_path):
    """ONNX's Attention (opset 23, what newer exporters write) has a body built for its
    inputs' types, whose head arithmetic uses ConstantOfShape and Mod on shapes (constants,
    folded): it imports through that body; causal, with a key-value head shared by two
    query heads."""
    from onnx import TensorProto, helper
    g = GraphBuilder(21)
    q = g.op("Reshape", [g.op("MatMul", ["x", g.random(8, 16)]), g.const([1, 5, 4, 4])])
    k = g.op("Reshape", [g.op("MatMul", ["x", g.random(8, 8)]), g.const([1, 5, 2, 4])])
    v = g.op("Reshape", [g.op("MatMul", ["x", g.random(8, 8)]), g.const([1, 5, 2, 4])])
    q, k, v = (g.op("Transpose", [t], perm=[0, 2, 1, 3]) for t in (q, k, v))
    y = g.op("Attention", [q, k, v], is_causal=1)
    model = g.model({"x": [1, 5, 8]}, [y], opset=23)
    model.ir_version = 10
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT
    assert helper.get_attribute_value(model.graph.node[-1].attribute[0]) == 1
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 5 * 8 * 32 + 2 * 4 * 5 * 5 * 4
    check_values(model, wl, {"x": normal(1, 5, 8, seed=17)})


@pytest.mark.parametrize("case", [
    "test_attention_4d_attn_mask_4d",                     # a mask broadcast inside the
    "test_attention_local_window_gqa_rank4_mask",         # scores' layout: copied (a take)
    "test_attention_4d_gqa_causal",
    "test_attention_4d_with_past_and_present_qk_matmul_bias_3d_mask_causal",
])
def test_onnx_attention_node_tests_import_and_match(case):
    """ONNX's own test cases of the Attention operator (as given, batch 2): imported, with
    every output equal to ONNX's expected one (-inf and float32's lowest both count as a
    masked score). They were refused before the twenty-sixth session."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from onnx_node_sweep import sweep
    outcomes = {(name, label): (outcome, detail)
                for name, label, outcome, detail in sweep(only=case, variants=False)
                if name == case}
    assert outcomes and all(outcome == "imported" and "checked" in detail
                            and not detail.startswith("0 ")
                            for outcome, detail in outcomes.values()), outcomes


def test_a_quantizer_that_clamps_some_channels_at_zero_is_refused(tmp_path):
    """Per-channel zero points 0 and 10 (uint8): a ReLU on one channel and not the other,
    which accelsim does not model; refused rather than imported without the ReLU."""
    from accelsim import SpecError
    g = GraphBuilder(23)
    y = g.op("Conv", ["x", g.random(2, 3, 1, 1)], kernel_shape=[1, 1])
    q = g.op("QuantizeLinear", [y, g.const(np.array([0.1, 0.1], np.float32)),
                                g.const_typed(np.array([0, 10], np.uint8))], axis=1)
    y = g.op("DequantizeLinear", [q, g.const(np.array([0.1, 0.1], np.float32)),
                                  g.const_typed(np.array([0, 10], np.uint8))], axis=1)
    with pytest.raises(SpecError, match="starts at zero for some channels"):
        load_onnx(save(g.model({"x": [1, 3, 4, 4]}, [y]), tmp_path))


def test_variadic_max_min_sum_mean_with_constants_and_broadcast(tmp_path):
    """Max/Min/Sum/Mean take any number of operands that broadcast, constants among them
    (a floor per channel, a clamp at a scalar, a row added to every row, a mean with a
    bias). Before, all but Min refused a constant or a second shape."""
    g = GraphBuilder(4)
    floor = g.const(np.linspace(-0.5, 0.5, 3, dtype=np.float32).reshape(1, 3, 1, 1))
    y = g.op("Max", ["x", floor])
    y = g.op("Min", [y, g.const(np.float32(0.8)), g.op("Neg", ["x"])])
    row = g.op("ReduceMean", ["x"], axes=[2], keepdims=1)                    # (1, 3, 1, 5)
    y = g.op("Sum", [y, row, "x"])
    y = g.op("Mean", [y, g.const(normal(1, 1, 4, 5, seed=5)), row])
    model = g.model({"x": [1, 3, 4, 5]}, [y], opset=17)
    wl = load_onnx(save(model, tmp_path))
    functions = [wl.layers[n].function for n in wl.order if wl.layers[n].kind == "elementwise"]
    assert functions == ["max", "min", "add", "add"]
    check_values(model, wl, {"x": normal(1, 3, 4, 5, seed=6)})


@pytest.mark.parametrize("shape, pads, attrs", [
    ([1, 3, 4, 5], [0, 0, 0, 0, 0, 0, 0, 1], {"value": 1.0}),    # EfficientViT's ones column
    ([1, 6, 5], [0, 0, 0, 0, 0, 1], {}),                          # BoTNet's relative logits
    ([1, 3, 4, 5], [0, 0, 1, 1, 0, 0, 1, 1], {"mode": "reflect"}),  # TResNet's stem
    ([1, 3, 4, 5], [0, 0, 2, 0, 0, 0, 1, 3], {"mode": "edge"}),
    ([1, 3, 4, 5], [0, 0, 1, 2, 0, 0, 2, 1], {"mode": "wrap"}),
    ([1, 3, 4, 5], [0, 2, 0, -1, 0, 1, -1, 2], {"value": -2.0}),  # channels, and crops
    ([1, 3, 4, 5], [0, 0, -1, 0, 0, 0, 0, -2], {"mode": "reflect"}),  # crops only
])
def test_pad_of_any_axis_value_and_mode(tmp_path, shape, pads, attrs):
    """Padding other than zeros around an image's height and width: constants concatenated
    on each side, reflect/edge/wrap (and crops) as a gather of the entries copied."""
    g = GraphBuilder(11)
    mode = attrs.get("mode", "constant")
    inputs = [g.op("Relu", ["x"]), g.const(np.array(pads, dtype=np.int64))]
    if "value" in attrs:
        inputs.append(g.const(np.float32(attrs["value"])))
    y = g.op("Pad", inputs, mode=mode)
    model = g.model({"x": shape}, [g.op("Mul", [y, g.const(np.float32(2.0))])], opset=19)
    wl = load_onnx(save(model, tmp_path))
    assert "pad2d" not in kinds(wl)
    check_values(model, wl, {"x": normal(*shape, seed=12)})


def test_pad_of_the_batch_axis_is_refused(tmp_path):
    from accelsim import SpecError
    g = GraphBuilder(11)
    y = g.op("Pad", [g.op("Relu", ["x"]), g.const(np.array([1, 0, 0, 0, 0, 0]))])
    with pytest.raises(SpecError, match=r"Pad \[1, 0, 0, 0, 0, 0\] in mode 'constant' is not"):
        load_onnx(save(g.model({"x": [1, 3, 4]}, [y]), tmp_path))


@pytest.mark.parametrize("a_shape, b_shape, copies", [
    ([1, 4, 6, 5], [1, 1, 5, 3], 0),     # LambdaNet: one b for every matrix of a (no copy)
    ([1, 4, 6, 5], [1, 5, 3], 0),        # the same with b of lower rank
    ([1, 1, 6, 5], [1, 4, 5, 3], 1),     # a shared: copied to each of b's matrices
    ([1, 4, 1, 6, 5], [1, 3, 5, 2], 2),  # both grow
])
def test_matmul_of_activations_with_broadcast_batch_axes(tmp_path, a_shape, b_shape, copies):
    g = GraphBuilder(13)
    y = g.op("MatMul", [g.op("Relu", ["a"]), g.op("Sigmoid", ["b"])])
    model = g.model({"a": a_shape, "b": b_shape}, [y])
    wl = load_onnx(save(model, tmp_path))
    out = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    assert wl.macs == int(np.prod(out)) * a_shape[-2] * a_shape[-1] * b_shape[-1]
    assert kinds(wl).count("take") == copies
    check_values(model, wl, {"a": normal(*a_shape, seed=14), "b": normal(*b_shape, seed=15)})


@pytest.mark.parametrize("attrs, blocks", [
    ({}, (3, 4)),                                                     # 5 x 6 image, 3 x 3
    ({"strides": [2, 2], "pads": [1, 1, 1, 1]}, (3, 3)),             # VOLO's fold
    ({"dilations": [2, 1], "pads": [1, 0, 2, 0], "strides": [1, 2]}, (4, 2)),
])
def test_col2im_folds_blocks_into_an_image(tmp_path, attrs, blocks):
    """ONNX's Col2Im (PyTorch's fold): C·kh·kw rows of Lh·Lw blocks added into the image
    at their places (a col2im layer, as a transposed conv's second half), cropped."""
    g = GraphBuilder(16)
    x = g.op("Relu", ["x"])
    y = g.op("Col2Im", [x, g.const(np.array([5, 6])), g.const(np.array([3, 3]))], **attrs)
    model = g.model({"x": [1, 2 * 9, blocks[0] * blocks[1]]}, [y], opset=18)
    wl = load_onnx(save(model, tmp_path))
    assert kinds(wl)[-1] == "col2im" and wl.shapes[wl.order[-1]] == (2, 5, 6)
    check_values(model, wl, {"x": normal(1, 18, blocks[0] * blocks[1], seed=17)})


@pytest.mark.parametrize("op, direction, layout, initial", [
    ("LSTM", "bidirectional", 0, False),      # Sequencer2D: a BiLSTM along every row
    ("LSTM", "forward", 0, True),
    ("GRU", "reverse", 0, True),              # (onnxruntime runs layout 0 only)
    ("GRU", "bidirectional", 0, False),
])
def test_recurrent_layers_over_several_sequences_per_image(tmp_path, op, direction, layout,
                                                           initial):
    """An LSTM or GRU over S sequences of one image (the rows of a feature map): each step
    a layer over S positions; initial states per sequence (S different rows) or shared."""
    g = GraphBuilder(18)
    s, t, f, hidden = 3, 4, 5, 6
    gates, d = (4 if op == "LSTM" else 3), (2 if direction == "bidirectional" else 1)
    x = g.op("Reshape", ["x", g.const(np.array([s, t, f]))])
    if layout == 0:
        x = g.op("Transpose", [x], perm=[1, 0, 2])
    inputs = [x, g.random(d, gates * hidden, f, scale=0.5),
              g.random(d, gates * hidden, hidden, scale=0.5),
              g.const(g.rng.normal(0, 0.3, (d, 2 * gates * hidden))), ""]
    if initial:
        inputs += [g.const(g.rng.normal(0, 0.5, (d, s, hidden)))] * (2 if op == "LSTM" else 1)
    outs = g.op(op, inputs, n_out=2, hidden_size=hidden, direction=direction, layout=layout)
    model = g.model({"x": [1, s, t, f]}, [outs[0]], opset=14)
    wl = load_onnx(save(model, tmp_path))
    # per direction, sequence and step: W·x and R·h (the GRU's reset-gated R_h·(r ⊙ h) apart)
    recurrent = gates * hidden * hidden if op == "LSTM" else 3 * hidden * hidden
    assert wl.macs == d * s * t * (f * gates * hidden + recurrent)
    check_values(model, wl, {"x": normal(1, s, t, f, seed=19)})


def test_resize_and_pad_of_a_batch_of_two(tmp_path):
    """A batch-2 export: Resize to sizes that name the batch (GhostNetV2's), and a Pad of
    the last axis of a tensor whose first axis merges the batch (HaloNet's logits, [2·4,
    3, 5] padded to [2·4, 3, 6]): the constants are one image's."""
    g = GraphBuilder(20)
    up = g.op("Resize", [g.op("Relu", ["x"]), "", "", g.const(np.array([2, 4, 7, 7]))],
              mode="nearest")
    merged = g.op("Reshape", [g.op("Relu", ["x"]), g.const(np.array([8, 3, 5]))])
    padded = g.op("Pad", [merged, g.const(np.array([0, 0, 0, 0, 0, 1]))])
    padded = g.op("Reshape", [padded, g.const(np.array([2, 4, 3, 6]))])
    y = g.op("Concat", [g.op("Slice", [up, g.const(np.array([0])), g.const(np.array([3])),
                                      g.const(np.array([2]))]),
                        g.op("Slice", [padded, g.const(np.array([0])), g.const(np.array([3])),
                                       g.const(np.array([2]))])], axis=3)
    model = g.model({"x": [2, 4, 3, 5]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert wl.batch == 2
    check_values(model, wl, {"x": normal(2, 4, 3, 5, seed=21)})


def qkv_attention(batch: int, unbind: str):
    """timm's attention at ``batch``: one qkv projection, reshaped to (B, N, 3, heads, d),
    permuted to (3, B, heads, N, d) and unbound into q, k and v."""
    g = GraphBuilder(22)
    qkv = g.op("MatMul", ["x", g.random(8, 24)])
    qkv = g.op("Transpose", [g.op("Reshape", [qkv, g.const(np.array([batch, 5, 3, 2, 4]))])],
               perm=[2, 0, 3, 1, 4])
    if unbind == "slice":
        q, k, v = (g.op("Squeeze", [g.op("Slice", [qkv, g.const(np.array([i])),
                                                   g.const(np.array([i + 1]))]),
                                    g.const(np.array([0]))]) for i in range(3))
    elif unbind == "gather":
        q, k, v = (g.op("Gather", [qkv, g.const(np.array(i))], axis=0) for i in range(3))
    else:
        q, k, v = (g.op("Squeeze", [part, g.const(np.array([0]))])
                   for part in g.op("Split", [qkv, g.const(np.array([1, 1, 1]))], n_out=3))
    scores = g.op("Softmax", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])],
                  axis=-1)
    y = g.op("Transpose", [g.op("MatMul", [scores, v])], perm=[0, 2, 1, 3])
    return g.model({"x": [batch, 5, 8]}, [g.op("Reshape", [y, g.const(np.array([batch, 5,
                                                                                 8]))])])


@pytest.mark.parametrize("unbind", ["slice", "gather", "split"])
def test_qkv_unbound_from_a_transpose_that_moves_the_batch(tmp_path, unbind):
    """At batch 2 the permuted qkv holds the batch second; each of q, k and v is picked
    before the transpose instead. The batch-2 export costs what the batch-1 export costs
    at batch 2, and matches onnxruntime."""
    import accelsim
    two = load_onnx(save(qkv_attention(2, unbind), tmp_path, "two.onnx"))
    one = load_onnx(save(qkv_attention(1, unbind), tmp_path, "one.onnx"))
    assert two.batch == 2 and two.macs == one.macs
    for device in ("cim-16x16", "eyeriss-like"):
        a, b = accelsim.simulate(one, device, batch=2), accelsim.simulate(two, device)
        assert (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)
    check_values(qkv_attention(2, unbind), two, {"x": normal(2, 5, 8, seed=23)})


def test_a_transpose_that_moves_the_batch_for_anything_else_is_refused(tmp_path):
    from accelsim import SpecError
    g = GraphBuilder(22)
    y = g.op("Transpose", [g.op("Reshape", ["x", g.const(np.array([2, 5, 2, 4]))])],
             perm=[2, 0, 1, 3])
    y = g.op("ReduceSum", [y, g.const(np.array([0]))], keepdims=0)
    with pytest.raises(SpecError, match="moves the batch of 2 images inwards; export with"):
        load_onnx(save(g.model({"x": [2, 5, 8]}, [y]), tmp_path))


def test_a_stack_of_heads_along_a_new_first_axis_at_batch_one(tmp_path):
    """CrossViT: two heads' logits unsqueezed to [1, 1, 10], concatenated along axis 0 and
    averaged over it. At batch 1 that axis is an ordinary one (the batch unbatched); at
    batch 2 the same graph would mix images and is refused."""
    from accelsim import SpecError

    def model(batch):
        g = GraphBuilder(24)
        heads = [g.op("Unsqueeze", [g.op("MatMul", ["x", g.random(6, 10)]),
                                    g.const(np.array([0]))]) for _ in range(2)]
        stacked = g.op("Concat", heads, axis=0)
        y = g.op("ReduceMean", [stacked, g.const(np.array([0]))], keepdims=0)
        z = g.op("ReduceMax", ["x", g.const(np.array([0]))], keepdims=1)   # over the batch
        z = g.op("MatMul", [z, g.random(6, 10)])
        return g.model({"x": [batch, 6]}, [g.op("Add", [y, z])], opset=18)
    wl = load_onnx(save(model(1), tmp_path))
    assert wl.macs == 3 * 6 * 10
    check_values(model(1), wl, {"x": normal(1, 6, seed=25)})
    with pytest.raises(SpecError, match="export the model at batch 1"):
        load_onnx(save(model(2), tmp_path, "two.onnx"))


@pytest.mark.parametrize("same", [True, False])
def test_a_constant_folded_with_the_batch_in_it(tmp_path, same):
    """PyTorch's legacy exporter folds cls_token.expand(B, -1, -1) or a position encoding
    repeated over the batch into a constant of [B, ...] (CaiT and XCiT at batch 2). Equal
    for every image, it is one image's constant; different, it is refused."""
    from accelsim import SpecError
    g = GraphBuilder(26)
    table = normal(1, 3, 4, seed=27)
    folded = np.concatenate([table, table if same else table + 1.0])
    y = g.op("Add", [g.op("MatMul", ["x", g.random(4, 4)]), g.const(folded)])
    model = g.model({"x": [2, 3, 4]}, [y])
    if same:
        check_values(model, load_onnx(save(model, tmp_path)), {"x": normal(2, 3, 4, seed=28)})
    else:
        with pytest.raises(SpecError, match="differs between the images"):
            load_onnx(save(model, tmp_path))


@pytest.mark.parametrize("c_shape, kind, merged", [
    ([5, 4], "linear", False),       # Perceiver's latents, one matrix for every head
    ([1, 3, 5, 4], "conv2d", False),  # DETR's first decoder queries, one matrix per head
    ([3, 5, 4], "conv2d", False),
    ([1, 3, 5, 4], "conv2d", True),   # Table Transformer: keys as (batch x heads, 4, 7)
])
def test_a_constant_times_an_activation(tmp_path, c_shape, kind, merged):
    """Learned queries against an image's keys: C @ X with C a constant. Per matrix of C a
    linear map of X's columns; one matrix per head is a grouped 1 x 1 conv."""
    g = GraphBuilder(29)
    keys = g.op("Relu", [g.op("Transpose", [g.op("Reshape", [g.op("MatMul", ["x", g.random(
        6, 12)]), g.const(np.array([1, 7, 3, 4]))])], perm=[0, 2, 3, 1])])   # (1, 3, 4, 7)
    if merged:
        keys = g.op("Reshape", [keys, g.const(np.array([3, 4, 7]))])
    y = g.op("Softmax", [g.op("MatMul", [g.const(normal(*c_shape, seed=30)), keys])], axis=-1)
    model = g.model({"x": [1, 7, 6]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert kind in kinds(wl)
    assert wl.macs == 7 * 6 * 12 + 3 * 5 * 4 * 7
    check_values(model, wl, {"x": normal(1, 7, 6, seed=31)})


def test_scatter_nd_of_rows_at_constant_indices(tmp_path):
    """PyTorch's slice_scatter as exported for Conditional DETR (``tmp[..., :2] +=
    reference``): the last axis moved first, rows 0 and 1 replaced by the updates, moved
    back. A concat of data and updates, then a take of each row's source."""
    g = GraphBuilder(32)
    data = g.op("Transpose", [g.op("MatMul", ["x", g.random(6, 4)])], perm=[2, 1, 0])
    updates = g.op("Transpose", [g.op("Sigmoid", [g.op("MatMul", ["x", g.random(6, 2)])])],
                   perm=[2, 1, 0])
    y = g.op("ScatterND", [data, g.const(np.array([[3], [1]])), updates])
    model = g.model({"x": [1, 5, 6]}, [g.op("Transpose", [y], perm=[2, 1, 0])])
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(1, 5, 6, seed=33)})


def test_padding_two_axes_of_a_tensor_that_merges_the_batch(tmp_path):
    """Two padded axes of an [8, 3, 5] tensor that holds a batch of 2 in its first axis:
    the intermediate padded tensor keeps the merged batch."""
    g = GraphBuilder(34)
    merged = g.op("Reshape", [g.op("Relu", ["x"]), g.const(np.array([8, 3, 5]))])
    padded = g.op("Pad", [merged, g.const(np.array([0, 1, 0, 0, 2, 1]))], mode="constant")
    y = g.op("Reshape", [padded, g.const(np.array([2, 4, 6, 6]))])
    model = g.model({"x": [2, 4, 3, 5]}, [y])
    check_values(model, load_onnx(save(model, tmp_path)), {"x": normal(2, 4, 3, 5, seed=35)})


@pytest.mark.parametrize("batch, c_shape, kind, same", [
    (1, [3, 4, 5], "conv2d", True),      # one key matrix per head: a grouped 1 x 1 conv
    (1, [1, 1, 4, 5], "linear", True),   # one for every head
    (2, [2, 3, 4, 5], "conv2d", True),   # folded with the batch, the same for both images
    (2, [2, 3, 4, 5], "", False),        # ... different: refused
])
def test_an_activation_times_a_constant_stack(tmp_path, batch, c_shape, kind, same):
    """Queries against keys that come from a constant (a decoder's cross-attention over a
    learned memory): X @ K with K a stack of constant matrices, (Kᵀ Xᵀ)ᵀ."""
    from accelsim import SpecError
    g = GraphBuilder(36)
    queries = g.op("Transpose", [g.op("Reshape", [g.op("MatMul", ["x", g.random(6, 12)]),
                                                  g.const(np.array([batch, 7, 3, 4]))])],
                   perm=[0, 2, 1, 3])                                  # (B, 3 heads, 7, 4)
    keys = normal(*c_shape, seed=37)
    if batch > 1:                                          # the same for every image
        keys = np.repeat(keys[:1], batch, axis=0)
    if not same:
        keys[1] += 1.0
    y = g.op("Softmax", [g.op("MatMul", [queries, g.const(keys)])], axis=-1)
    model = g.model({"x": [batch, 7, 6]}, [y])
    if not same:
        with pytest.raises(SpecError, match="differs between the images"):
            load_onnx(save(model, tmp_path))
        return
    wl = load_onnx(save(model, tmp_path))
    assert kind in kinds(wl)
    assert wl.macs == 7 * 6 * 12 + 3 * 7 * 4 * 5          # projection, then per head N d M
    check_values(model, wl, {"x": normal(batch, 7, 6, seed=38)})


def test_one_copy_of_a_transposed_tensor_serves_all_its_readers(tmp_path):
    """Two linear layers read the same transposed tensor (as Swin's, LLaMA's and T5's
    attention read theirs): the transpose is one copy in the buffer, not one per reader."""
    g = GraphBuilder(39)
    moved = g.op("Transpose", [g.op("MatMul", ["x", g.random(6, 6)])], perm=[0, 2, 1])
    y = g.op("Add", [g.op("MatMul", [moved, g.random(5, 3)]),
                     g.op("MatMul", [moved, g.random(5, 3)])])                # [1, 6, 3]
    model = g.model({"x": [1, 5, 6]}, [y])
    wl = load_onnx(save(model, tmp_path))
    copies = [n for n, layer in wl.layers.items() if layer.kind == "reshape"
              and not layer.aliases_input]
    assert len(copies) == 1
    check_values(model, wl, {"x": normal(1, 5, 6, seed=40)})
