"""ONNX import of the operators real exports need beyond the classic CNNs: embeddings,
constants beside activations, masks and logic, strided slices and gathers, padding,
reductions, LSTM and GRU. Each checked against onnxruntime's output in value mode and its
MACs or shape by hand."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

from onnx import TensorProto, helper  # noqa: E402
from onnx_models import GraphBuilder, run_onnxruntime  # noqa: E402
from test_onnx import check_values, save  # noqa: E402

from accelsim import SpecError  # noqa: E402
from accelsim.workload.onnx import load_onnx  # noqa: E402


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def kinds(wl):
    return [wl.layers[n].kind for n in wl.order]


def test_embedding_lookup_of_token_ids(tmp_path):
    """Gather(table, ids): one row of the table per token, then a projection."""
    g = GraphBuilder(0)
    table = g.const(normal(50, 8))
    y = g.op("Gather", [table, "ids"], axis=0)                          # [1, 6, 8]
    y = g.op("MatMul", [y, g.random(8, 4)])
    model = g.model({"ids": [1, 6]}, [y], types={"ids": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    (emb,) = [n for n in wl.order if wl.layers[n].kind == "embedding"]
    assert wl.shapes[emb] == (8, 6, 1) and wl.macs == 6 * 8 * 4
    ids = np.array([[3, 0, 49, 7, 7, 12]], dtype=np.int64)
    check_values(model, wl, {"ids": ids})


def test_concat_with_a_constant_class_token(tmp_path):
    """ViT: a learned [1, 1, d] token before the [1, T, d] patches."""
    g = GraphBuilder(1)
    cls = g.const(normal(1, 1, 8, seed=3))
    x = g.op("Concat", [cls, "x"], axis=1)
    y = g.op("MatMul", [x, g.random(8, 4)])
    model = g.model({"x": [1, 5, 8]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert "constant" in kinds(wl) and wl.macs == 6 * 8 * 4
    check_values(model, wl, {"x": normal(1, 5, 8)})


@pytest.mark.parametrize("op,fn", [("Equal", np.equal), ("Greater", np.greater),
                                   ("LessOrEqual", np.less_equal), ("Pow", None),
                                   ("Sub", None), ("Div", None), ("Min", None)])
def test_pointwise_functions_of_two_activations(tmp_path, op, fn):
    g = GraphBuilder(2)
    a = g.op("Relu", ["x"])
    b = g.op("Exp", ["y"])                      # positive: a divisor and a safe base
    if op == "Pow":
        out = g.op("Pow", [a, g.const(np.float32(3.0))])
    else:
        out = g.op(op, [a, b])
    if fn is not None:                       # a comparison's bool output back to float
        out = g.op("Cast", [out], to=TensorProto.FLOAT)
    model = g.model({"x": [1, 4, 6], "y": [1, 4, 6]}, [out])
    wl = load_onnx(save(model, tmp_path))
    feeds = {"x": normal(1, 4, 6, seed=1), "y": normal(1, 4, 6, seed=2) + 0.5}
    feeds["y"][0, 0, :2] = feeds["x"][0, 0, :2]          # some ties for Equal
    check_values(model, wl, feeds)


def test_attention_mask_shared_by_every_head(tmp_path):
    """A mask [1, 1, T, T] added to scores [1, h, T, T]: the mask repeats over the heads
    (Hugging Face's extended attention mask), built from an integer mask with Cast, Sub,
    Mul and Where."""
    heads, tokens = 3, 5
    g = GraphBuilder(3)
    q = g.op("Reshape", [g.op("MatMul", ["x", g.random(8, 6)]),
                         g.const(np.array([1, tokens, heads, 2]))])
    q = g.op("Transpose", [q], perm=[0, 2, 1, 3])
    k = g.op("Transpose", [q], perm=[0, 1, 3, 2])
    scores = g.op("MatMul", [q, k])                                          # [1, h, T, T]
    mask = g.op("Cast", ["mask"], to=TensorProto.BOOL)                        # [1, 1, T, T]
    bias = g.op("Where", [mask, g.const(np.float32(0.0)), g.const(np.float32(-1e4))])
    y = g.op("Softmax", [g.op("Add", [scores, bias])], axis=-1)
    model = g.model({"x": [1, tokens, 8], "mask": [1, 1, tokens, tokens]}, [y],
                    types={"mask": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    mask_values = np.tril(np.ones((tokens, tokens), dtype=np.int64))[None, None]
    check_values(model, wl, {"x": normal(1, tokens, 8), "mask": mask_values})


def test_expand_of_an_activation(tmp_path):
    g = GraphBuilder(4)
    y = g.op("Expand", [g.op("Relu", ["x"]), g.const(np.array([1, 3, 4]))])   # [1,1,4]->
    y = g.op("MatMul", [y, g.random(4, 2)])
    model = g.model({"x": [1, 1, 4]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 3 * 4 * 2
    check_values(model, wl, {"x": normal(1, 1, 4)})


def test_strided_slice_and_gather_with_index_arrays(tmp_path):
    """Swin's patch merging takes every other row (a Slice with step 2); a Gather with a
    constant index array picks (and may repeat) rows."""
    g = GraphBuilder(5)
    a = g.op("Slice", ["x", g.const(np.array([1])), g.const(np.array([8])),
                       g.const(np.array([1])), g.const(np.array([2]))])          # rows 1,3,5,7
    b = g.op("Gather", ["x", g.const(np.array([[0, 2], [2, 7]]))], axis=1)     # [1,2,2,6]
    b = g.op("Reshape", [b, g.const(np.array([1, 4, 6]))])
    y = g.op("Add", [a, b])
    model = g.model({"x": [1, 8, 6]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert kinds(wl).count("take") == 2
    check_values(model, wl, {"x": normal(1, 8, 6)})


def test_zero_padding_of_an_image(tmp_path):
    g = GraphBuilder(6)
    y = g.op("Pad", ["x", g.const(np.array([0, 0, 1, 2, 0, 0, 3, 0]))])
    y = g.op("Conv", [y, g.random(4, 2, 3, 3)], kernel_shape=[3, 3])
    model = g.model({"x": [1, 2, 5, 5]}, [y])
    wl = load_onnx(save(model, tmp_path))
    (pad,) = [n for n in wl.order if wl.layers[n].kind == "pad2d"]
    assert wl.shapes[pad] == (2, 5 + 1 + 3, 5 + 2)
    check_values(model, wl, {"x": normal(1, 2, 5, 5)})


@pytest.mark.parametrize("op,attrs", [("ArgMax", {"axis": -1, "keepdims": 0}),
                                      ("ArgMin", {"axis": -1, "keepdims": 1}),
                                      ("ReduceMax", {"keepdims": 1}),
                                      ("ReduceMin", {"keepdims": 0}),
                                      ("ReduceSum", {"keepdims": 0}),
                                      ("ReduceMean", {"keepdims": 1})])
def test_reductions_over_the_last_axis(tmp_path, op, attrs):
    g = GraphBuilder(7)
    inputs = [g.op("MatMul", ["x", g.random(6, 5)])]
    if op.startswith("Reduce"):               # opset 18: the axes are an input
        inputs.append(g.const(np.array([-1])))
    y = g.op(op, inputs, **attrs)
    if op.startswith("Arg"):
        y = g.op("Cast", [y], to=TensorProto.FLOAT)
    model = g.model({"x": [1, 4, 6]}, [y], opset=18)
    wl = load_onnx(save(model, tmp_path))
    assert "reduce" in kinds(wl)
    check_values(model, wl, {"x": normal(1, 4, 6)})


def rnn_model(op: str, direction: str = "forward", layout: int = 0, hidden: int = 5,
              steps: int = 4, features: int = 3, linear_before_reset: int = 0,
              initial: bool = False):
    g = GraphBuilder(8)
    gates = 4 if op == "LSTM" else 3
    d = 2 if direction == "bidirectional" else 1
    w = g.random(d, gates * hidden, features, scale=0.5)
    r = g.random(d, gates * hidden, hidden, scale=0.5)
    b = g.const(g.rng.normal(0, 0.3, (d, 2 * gates * hidden)))
    inputs = ["x", w, r, b, ""]
    if initial:
        inputs.append(g.const(g.rng.normal(0, 0.5, (d, 1, hidden))))
        if op == "LSTM":
            inputs.append(g.const(g.rng.normal(0, 0.5, (d, 1, hidden))))
    attrs = {"hidden_size": hidden, "direction": direction, "layout": layout}
    if op == "GRU":
        attrs["linear_before_reset"] = linear_before_reset
    # batch first, as PyTorch exports it: [1, T, F], moved to [T, 1, F] for layout 0
    inputs[0] = g.op("Transpose", ["x"], perm=[1, 0, 2]) if layout == 0 else "x"
    outs = g.op(op, inputs, n_out=3 if op == "LSTM" else 2, **attrs)
    return g.model({"x": [1, steps, features]}, [outs[0]], opset=14), d


@pytest.mark.parametrize("op,direction,layout,extra", [
    ("LSTM", "forward", 0, {}), ("LSTM", "bidirectional", 0, {"initial": True}),
    ("LSTM", "reverse", 0, {}), ("GRU", "forward", 0, {"linear_before_reset": 1}),
    ("GRU", "bidirectional", 0, {"linear_before_reset": 0, "initial": True})])
def test_recurrent_layers_unrolled_over_time(tmp_path, op, direction, layout, extra):
    model, d = rnn_model(op, direction, layout, **extra)
    wl = load_onnx(save(model, tmp_path))
    hidden, steps, features, gates = 5, 4, 3, 4 if op == "LSTM" else 3
    # X·Wᵀ for every step and h·Rᵀ per step, per direction
    assert wl.macs == d * steps * (gates * hidden * features + gates * hidden * hidden)
    check_values(model, wl, {"x": normal(1, steps, features, seed=9)})


def test_recurrent_layers_with_peepholes_are_refused(tmp_path):
    g = GraphBuilder(9)
    outs = g.op("LSTM", ["x", g.random(1, 8, 3), g.random(1, 8, 2), "", "", "", "",
                         g.const(np.zeros((1, 6)))], n_out=1, hidden_size=2)
    with pytest.raises(SpecError, match="with peepholes is not supported"):
        load_onnx(save(g.model({"x": [4, 1, 3]}, [outs]), tmp_path))


@pytest.mark.parametrize("which, shape, fragment", [
    (3, (1, 3), "B \\[1, 3\\] does not fit hidden_size 5"),
    (3, (0, 40), "B \\[0, 40\\] does not fit"),
    (5, (0, 1, 5), "initial state of shape \\[0, 1, 5\\]"),
    (5, (1, 5), "initial state of shape \\[1, 5\\]"),
])
def test_recurrent_settings_of_the_wrong_shape_are_refused(tmp_path, which, shape, fragment):
    """A bias or initial state resized (the mutation fuzz: an IndexError or a broadcasting
    ValueError from inside the unrolling) is refused naming the node."""
    model, _ = rnn_model("LSTM", initial=True)
    node = next(n for n in model.graph.node if n.op_type == "LSTM")
    init = next(t for t in model.graph.initializer if t.name == node.input[which])
    init.CopyFrom(onnx.numpy_helper.from_array(np.zeros(shape, np.float32), init.name))
    with pytest.raises(SpecError, match=f"LSTM.*{fragment}"):
        load_onnx(save(model, tmp_path))


@pytest.mark.parametrize("op, attrs, fragment", [
    ("Conv", {"group": 0}, "groups=0 must divide"),
    ("Conv", {"strides": [0, 1]}, "stride \\[0, 1\\] and dilation \\[1, 1\\] needs each at"),
    ("Conv", {"dilations": [1, -2]}, "dilation \\[1, -2\\] needs each at least 1"),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 0]}, "stride \\[2, 0\\]"),
])
def test_windows_of_hostile_settings_are_refused(tmp_path, op, attrs, fragment):
    """A Conv of group 0 (a modulo by zero) or a window of stride 0 (a division by zero):
    found by the mutation fuzz (hostile integer attributes on ShuffleNet and ResNet-18)."""
    g = GraphBuilder(9)
    y = g.op(op, ["x", g.random(4, 2, 3, 3)] if op == "Conv" else ["x"], **attrs)
    with pytest.raises(SpecError, match=f"{op}.*{fragment}"):
        load_onnx(save(g.model({"x": [1, 2, 6, 6]}, [y]), tmp_path))


def test_batch_first_recurrence_imports_with_the_layout_attribute(tmp_path):
    """layout=1 ([1, T, F] straight in; onnxruntime does not run it, so MACs only)."""
    model, d = rnn_model("LSTM", layout=1)
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 4 * (20 * 3 + 20 * 5)


@pytest.mark.parametrize("attrs", [{"pads": [0, 1, 2, 0]},
                                   {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
                                   {"auto_pad": "SAME_LOWER", "strides": [2, 2]}])
def test_uneven_conv_padding_becomes_a_pad_layer(tmp_path, attrs):
    g = GraphBuilder(10)
    y = g.op("Conv", ["x", g.random(3, 2, 3, 3)], kernel_shape=[3, 3], **attrs)
    model = g.model({"x": [1, 2, 8, 8]}, [y])
    wl = load_onnx(save(model, tmp_path))
    out = run_onnxruntime(model, {"x": normal(1, 2, 8, 8)}).shape
    assert wl.macs == int(np.prod(out)) * 2 * 9          # no MACs for the extra zeros
    assert "pad2d" in kinds(wl)
    check_values(model, wl, {"x": normal(1, 2, 8, 8)})


@pytest.mark.parametrize("low,high", [(-1.0, 2.0), (None, 0.5), (-0.25, None)])
def test_clip_to_any_range(tmp_path, low, high):
    g = GraphBuilder(11)
    bounds = [g.const(np.float32(low)) if low is not None else "",
              g.const(np.float32(high)) if high is not None else ""]
    y = g.op("Clip", [g.op("MatMul", ["x", g.random(6, 6)]), *bounds])
    model = g.model({"x": [1, 4, 6]}, [y])
    check_values(model, load_onnx(save(model, tmp_path)), {"x": normal(1, 4, 6) * 3})


@pytest.mark.parametrize("slope", [np.float32(0.2), np.array([0.1, 0.5, -0.3],
                                                             dtype=np.float32)[:, None, None]])
def test_prelu_with_one_or_per_channel_slopes(tmp_path, slope):
    g = GraphBuilder(12)
    y = g.op("PRelu", [g.op("Conv", ["x", g.random(3, 2, 1, 1)], kernel_shape=[1, 1]),
                       g.const(slope)])
    model = g.model({"x": [1, 2, 4, 4]}, [y])
    check_values(model, load_onnx(save(model, tmp_path)), {"x": normal(1, 2, 4, 4)})


@pytest.mark.parametrize("equation,a_shape,b_shape,constant", [
    ("bhid,bhjd->bhij", (1, 2, 5, 4), (1, 2, 6, 4), False),      # Q·Kᵀ
    ("bhij,bhjd->bhid", (1, 2, 5, 6), (1, 2, 6, 4), False),      # P·V
    ("bid,bjd->bij", (1, 5, 4), (1, 6, 4), False),
    ("bhid,bhjd->bihj", (1, 2, 5, 4), (1, 2, 6, 4), False),      # result transposed
    ("bij,jk->bik", (1, 5, 4), (4, 3), True),                    # a projection
    ("bij,kj->bki", (1, 5, 4), (3, 4), True),                    # weight (out, in), moved
])
def test_einsum_in_its_attention_and_projection_forms(tmp_path, equation, a_shape, b_shape,
                                                      constant):
    g = GraphBuilder(13)
    x = g.op("Relu", ["x"])
    other = g.const(normal(*b_shape, seed=4)) if constant else g.op("Relu", ["y"])
    y = g.op("Einsum", [x, other], equation=equation)
    shapes = {"x": list(a_shape)} if constant else {"x": list(a_shape), "y": list(b_shape)}
    model = g.model(shapes, [y])
    wl = load_onnx(save(model, tmp_path))
    operands = equation.split("->")[0].split(",")
    sizes = {c: s for o, shape in zip(operands, (a_shape, b_shape)) for c, s in zip(o, shape)}
    assert wl.macs == int(np.prod(list(sizes.values())))         # every letter once
    feeds = {"x": normal(*a_shape, seed=1)}
    if not constant:
        feeds["y"] = normal(*b_shape, seed=2)
    check_values(model, wl, feeds)


def test_einsum_forms_outside_a_product_are_refused(tmp_path):
    g = GraphBuilder(14)
    y = g.op("Einsum", ["x"], equation="bii->bi")
    with pytest.raises(SpecError, match="Einsum 'bii->bi' is not supported"):
        load_onnx(save(g.model({"x": [1, 3, 3]}, [y]), tmp_path))


@pytest.mark.parametrize("attrs", [{"strides": [2, 2]},
                                   {"strides": [2, 2], "pads": [1, 1, 1, 1],
                                    "output_padding": [1, 1]},
                                   {"strides": [1, 2], "pads": [0, 1, 1, 0],
                                    "dilations": [2, 1]},
                                   {"strides": [2, 2], "auto_pad": "SAME_UPPER"}])
def test_transposed_convolution(tmp_path, attrs):
    """A decoder's upsampling: the MACs PyTorch counts (every input position times the
    whole kernel, no inserted zeros), the values onnxruntime gives."""
    g = GraphBuilder(15)
    y = g.op("ConvTranspose", ["x", g.random(3, 4, 3, 3), g.const(normal(4, seed=5))],
             kernel_shape=[3, 3], **attrs)
    model = g.model({"x": [1, 3, 5, 6]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 5 * 6 * 3 * 4 * 9
    check_values(model, wl, {"x": normal(1, 3, 5, 6)})


@pytest.mark.parametrize("op,pads,attrs", [
    ("MaxPool", [0, 0, 1, 1], {}),                                   # Inception's SAME
    ("MaxPool", [1, 0, 0, 2], {}),
    ("AveragePool", [0, 0, 1, 1], {}),                               # ceil mode's windows
    ("AveragePool", [1, 1, 0, 2], {}),                               # scaled by real counts
    ("AveragePool", [0, 1, 2, 1], {"count_include_pad": 1}),
])
def test_pooling_with_uneven_padding(tmp_path, op, pads, attrs):
    g = GraphBuilder(16)
    y = g.op(op, [g.op("Conv", ["x", g.random(3, 2, 1, 1)], kernel_shape=[1, 1])],
             kernel_shape=[3, 3], strides=[2, 2], pads=pads, **attrs)
    model = g.model({"x": [1, 2, 7, 8]}, [y])
    check_values(model, load_onnx(save(model, tmp_path)), {"x": normal(1, 2, 7, 8) - 1.0})


def test_a_window_larger_than_the_unpadded_input(tmp_path):
    """GoogLeNet's last pool as the ONNX test suite writes it: a 7x7 average over a 6x6
    map padded at the end, padding not counted."""
    g = GraphBuilder(17)
    y = g.op("AveragePool", [g.op("Relu", ["x"])], kernel_shape=[7, 7], pads=[0, 0, 1, 1])
    model = g.model({"x": [1, 4, 6, 6]}, [y])
    check_values(model, load_onnx(save(model, tmp_path)), {"x": normal(1, 4, 6, 6)})


def test_softmax_before_opset_13_is_over_the_flattened_tail(tmp_path):
    g = GraphBuilder(18)
    y = g.op("Softmax", [g.op("Conv", ["x", g.random(5, 2, 1, 1)], kernel_shape=[1, 1])],
             axis=1)
    model = g.model({"x": [1, 2, 3, 3]}, [y], opset=11)
    check_values(model, load_onnx(save(model, tmp_path)), {"x": normal(1, 2, 3, 3)})


def test_weights_given_as_one_repeated_value_take_no_memory(tmp_path):
    """The ONNX test suite's "light" models write each weight as ConstantOfShape: a
    100-million-element matrix is a view of one value."""
    g = GraphBuilder(19)
    shape = g.const(np.array([10_000, 10_000]))
    weight = g.op("ConstantOfShape", [shape],
                  value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5]))
    y = g.op("Gemm", ["x", weight], transB=1)
    model = g.model({"x": [1, 10_000]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 10_000 * 10_000
    (fc,) = [n for n in wl.order if wl.layers[n].kind == "linear"]
    assert wl.weights[fc].base is not None and np.all(wl.weights[fc][:3, :3] == 0.5)


def test_value_mode_draws_token_ids_for_an_embedding_input(tmp_path):
    g = GraphBuilder(20)
    y = g.op("Gather", [g.const(normal(30, 8)), "ids"], axis=0)
    y = g.op("MatMul", [y, g.random(8, 4)])
    model = g.model({"ids": [1, 5]}, [y], types={"ids": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    import accelsim
    result = accelsim.simulate(wl, "cim-16x16", values=True, seed=3)
    assert result.output.shape == (1, *wl.shapes[wl.order[-1]])
    assert np.all(np.isfinite(result.output))


def test_constant_indices_beyond_the_axis_are_refused_not_wrapped(tmp_path):
    g = GraphBuilder(21)
    y = g.op("Gather", ["x", g.const(np.array([[9, 0]]))], axis=1)
    with pytest.raises(SpecError, match="go beyond the axis of 4"):
        load_onnx(save(g.model({"x": [1, 4, 3]}, [y]), tmp_path))


@pytest.mark.parametrize("rows,from_dram", [(50, False), (300_000, True)])
def test_embedding_rows_come_from_dram_when_the_table_exceeds_the_buffer(tmp_path, rows,
                                                                         from_dram):
    """Per token: its index and its row; a table larger than the global buffer (cim-16x16:
    256 KiB) is read from DRAM, one row of 8 values x 8 bits per token."""
    import accelsim
    from accelsim.energy.table import Action
    g = GraphBuilder(22)
    table = g.const(np.zeros((rows, 8), dtype=np.float32))
    y = g.op("MatMul", [g.op("Gather", [table, "ids"], axis=0), g.random(8, 4)])
    model = g.model({"ids": [1, 6]}, [y], types={"ids": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    result = accelsim.simulate(wl, "cim-16x16")
    (emb,) = [n for n in wl.order if wl.layers[n].kind == "embedding"]
    row = [layer.name for layer in result.layers].index(emb)
    counts = dict(zip(Action, result.action_counts[row]))
    dram_bits = counts[Action.DRAM_READ_BIT_WEIGHTS]
    assert (dram_bits > 0) == from_dram
    if from_dram:
        assert dram_bits >= 6 * 8 * 8


@pytest.mark.parametrize("op, attrs, opset", [
    ("GroupNormalization", {"num_groups": 4}, 21), ("Celu", {"alpha": 0.7}, 18),
    ("Shrink", {"lambd": 0.5, "bias": 0.1}, 18), ("ThresholdedRelu", {}, 18)])
def test_operators_defined_as_functions_import_as_their_bodies(tmp_path, op, attrs, opset):
    """An operator the importer has no handler for, which ONNX defines as a function of
    others at the model's opset, imports as that function's body (ONNX's schema and
    inliner): values equal onnxruntime's running the operator itself. (ThresholdedRelu's
    default alpha, which its body reads, is filled in from the schema.)"""
    g = GraphBuilder(3)
    y = g.op("Conv", ["x", g.random(8, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    extra = [g.const(normal(8, seed=1)), g.const(normal(8, seed=2))] if op.startswith(
        "Group") else []
    y = g.op(op, [y, *extra], **attrs)
    model = g.model({"x": [1, 3, 6, 6]}, [y], opset=opset)
    wl = load_onnx(save(model, tmp_path))
    assert op not in {getattr(wl.layers[n], "op_type", "") for n in wl.order}
    check_values(model, wl, {"x": normal(1, 3, 6, 6, seed=4)})


def test_an_operator_whose_body_cannot_be_imported_is_refused_by_its_own_name(tmp_path):
    """MeanVarianceNormalization's default axes (0, 2, 3) take statistics across the batch,
    which per-image import cannot at batch 2: the error names the node the body came from.
    At batch 1 the batch axis is an ordinary one, and the body imports."""
    def model(batch):
        g = GraphBuilder(3)
        y = g.op("Conv", ["x", g.random(8, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        return g.model({"x": [batch, 3, 6, 6]}, [g.op("MeanVarianceNormalization", [y])],
                       opset=18)
    with pytest.raises(SpecError, match=r"node 'meanvariancenormalization_\d+ "
                                        r"\(MeanVarianceNormalization\)/ReduceMean"):
        load_onnx(save(model(2), tmp_path))
    check_values(model(1), load_onnx(save(model(1), tmp_path, "one.onnx")),
                 {"x": normal(1, 3, 6, 6)})


@pytest.mark.parametrize("op, attrs, axes", [
    ("LogSoftmax", {"axis": 1}, None), ("ReduceL2", {"keepdims": 1}, [1]),
    ("ReduceSum", {"keepdims": 0}, [1]), ("ReduceMax", {"keepdims": 1}, [1, 3]),
    ("ReduceMean", {"keepdims": 0}, [2])])
def test_reductions_over_any_axes(tmp_path, op, attrs, axes):
    """Reductions over the channels of each pixel, over rows, or over channels and columns
    together: the reduced axes become each vector's channels (in groups of the axes before
    them); values equal onnxruntime's."""
    g = GraphBuilder(3)
    y = g.op("Conv", ["x", g.random(8, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    inputs = [y] + ([g.const(np.array(axes, dtype=np.int64))] if axes is not None else [])
    model = g.model({"x": [1, 3, 6, 5]}, [g.op(op, inputs, **attrs)], opset=18)
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(1, 3, 6, 5, seed=4)})


@pytest.mark.parametrize("opset, attrs", [(17, {}), (18, {"epsilon": 1e-3})])
def test_instance_normalization_imports_as_its_definition(tmp_path, opset, attrs):
    """InstanceNormalization (no function body in ONNX's schema) imports as its definition
    written out: per channel, the mean and variance over the image's positions (two global
    average pools), then the scale and shift; values equal onnxruntime's."""
    g = GraphBuilder(3)
    y = g.op("Conv", ["x", g.random(8, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y = g.op("InstanceNormalization", [y, g.const(normal(8, seed=1)),
                                       g.const(normal(8, seed=2))], **attrs)
    model = g.model({"x": [1, 3, 6, 6]}, [y], opset=opset)
    wl = load_onnx(save(model, tmp_path))
    assert sum(wl.layers[n].kind == "global_avg_pool" for n in wl.order) == 2
    check_values(model, wl, {"x": normal(1, 3, 6, 6, seed=4)})


@pytest.mark.parametrize("op", ["ReduceMin", "ReduceMax"])
def test_min_and_max_over_an_images_height_and_width(tmp_path, op):
    """A min over height and width is a reduction of each channel (no min pool); a max is
    a whole-image max pool. Both equal onnxruntime's."""
    g = GraphBuilder(9)
    y = g.op(op, [g.op("Conv", ["x", g.random(4, 2, 3, 3)]), g.const(np.array([2, 3]))],
             keepdims=0)
    model = g.model({"x": [1, 2, 6, 7]}, [y], opset=18)
    wl = load_onnx(save(model, tmp_path))
    assert ("reduce" if op == "ReduceMin" else "pool2d") in kinds(wl)
    check_values(model, wl, {"x": normal(1, 2, 6, 7)})


def relative_positions(tokens, k):
    """DeBERTa's c2p index: for query i and key j, the bucket of i - j, clipped to 2k."""
    i, j = np.arange(tokens)[:, None], np.arange(tokens)[None, :]
    return np.clip(i - j + k, 0, 2 * k - 1)


def test_gather_elements_of_scores_by_relative_position(tmp_path):
    """DeBERTa's relative attention gathers [1, H, T, 2k] scores along the last axis at
    indices [1, H, T, T] that depend on (i, j) only: one take of T x T entries of each
    head's (T, 2k) block, the heads riding along. Checked against numpy's
    take_along_axis by hand and against onnxruntime."""
    heads, tokens, k = 3, 5, 3
    index = np.broadcast_to(relative_positions(tokens, k), (1, heads, tokens, tokens))
    g = GraphBuilder(7)
    y = g.op("GatherElements", ["x", g.const(np.ascontiguousarray(index, dtype=np.int64))],
             axis=-1)
    model = g.model({"x": [1, heads, tokens, 2 * k]}, [y])
    wl = load_onnx(save(model, tmp_path))
    (take,) = [n for n in wl.order if wl.layers[n].kind == "take"]
    assert wl.layers[take].count == tokens * tokens
    x = normal(1, heads, tokens, 2 * k, seed=4)
    want = np.take_along_axis(x, index, axis=-1)
    assert want[0, 2, 4, 0] == x[0, 2, 4, 6 - 1]     # i - j + k = 7, clipped to 2k - 1
    np.testing.assert_array_equal(run_onnxruntime(model, {"x": x}), want)
    check_values(model, wl, {"x": x})


def test_gather_elements_varying_by_head_cut_short_at_batch_two(tmp_path):
    """Indices that differ per head and take fewer rows than the data has (a cut), the same
    for both images of a batch of 2; and indices that differ between the images, refused."""
    heads, rows, width = 2, 4, 6
    rng = np.random.default_rng(5)
    one = rng.integers(-width, width, size=(1, heads, rows - 1, 3))   # negative: from the end
    g = GraphBuilder(8)
    y = g.op("GatherElements", ["x", g.const(np.concatenate([one, one]))], axis=3)
    model = g.model({"x": [2, heads, rows, width]}, [y])
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, {"x": normal(2, heads, rows, width, seed=6)})
    g = GraphBuilder(9)
    other = one.copy()
    other[0, 0, 0, 0] = (one[0, 0, 0, 0] + 1) % width
    y = g.op("GatherElements", ["x", g.const(np.concatenate([one, other]))], axis=3)
    model = g.model({"x": [2, heads, rows, width]}, [y])
    with pytest.raises(SpecError, match="indices that differ between the images"):
        load_onnx(save(model, tmp_path))


def test_random_operators_are_not_folded_to_one_draw(tmp_path):
    """ViT-MAE shuffles its patches by the argsort of RandomUniformLike noise. Folding that
    node gave a different network at every import (its gather indices changed); a random
    operator is refused, naming it."""
    g = GraphBuilder(10)
    noise = g.op("RandomUniformLike", [g.const(np.zeros((1, 6), np.float32))])
    y = g.op("Add", ["x", noise])
    model = g.model({"x": [1, 6]}, [y])
    with pytest.raises(SpecError, match=r"RandomUniformLike\): RandomUniformLike draws new "
                                        "random numbers every time the model runs"):
        load_onnx(save(model, tmp_path))


def test_hashed_token_ids_modulo_the_buckets(tmp_path):
    """CANINE's hash embedding: ids times a prime, modulo the buckets (Mod, fmod=0, on
    integers: the remainder takes the divisor's sign), then a table lookup; and fmod=1 on
    floats (the dividend's sign, C's fmod). Both against onnxruntime."""
    g = GraphBuilder(11)
    hashed = g.op("Mul", ["ids", g.const(np.array(31, dtype=np.int64))])
    bucket = g.op("Mod", [hashed, g.const(np.array(7, dtype=np.int64))])
    y = g.op("Gather", [g.const(normal(7, 4, seed=12)), bucket], axis=0)
    model = g.model({"ids": [1, 6]}, [y], types={"ids": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    ids = np.array([[0, 1, 5, 9, 22, 100]], dtype=np.int64)
    assert (ids * 31 % 7).tolist() == [[0, 3, 1, 6, 3, 6]]             # by hand
    check_values(model, wl, {"ids": ids})
    g = GraphBuilder(12)
    y = g.op("Mod", ["x", g.const(np.array([2.5, -1.5], dtype=np.float32))], fmod=1)
    model = g.model({"x": [1, 3, 2]}, [y])
    wl = load_onnx(save(model, tmp_path))
    x = np.array([[[5.0, 5.0], [-5.0, -5.0], [1.25, 0.5]]], dtype=np.float32)
    np.testing.assert_allclose(run_onnxruntime(model, {"x": x}),
                               [[[0.0, 0.5], [-0.0, -0.5], [1.25, 0.5]]])    # by hand
    check_values(model, wl, {"x": x})


def test_tile_repeats_an_activation_along_its_axes(tmp_path):
    """Tile at constant repeats: a gather per repeated axis (CANINE repeats its
    downsampled characters); the batch axis repeated is refused."""
    g = GraphBuilder(13)
    y = g.op("Tile", ["x", g.const(np.array([1, 2, 3], dtype=np.int64))])
    y = g.op("MatMul", [y, g.random(12, 5)])
    model = g.model({"x": [1, 3, 4]}, [y])
    wl = load_onnx(save(model, tmp_path))
    assert wl.macs == 6 * 12 * 5
    check_values(model, wl, {"x": normal(1, 3, 4, seed=14)})
    g = GraphBuilder(15)
    y = g.op("Tile", ["x", g.const(np.array([2, 1, 1], dtype=np.int64))])
    model = g.model({"x": [1, 3, 4]}, [y])
    with pytest.raises(SpecError, match="Tile along the batch axis is not supported"):
        load_onnx(save(model, tmp_path))


def shift_right(g, batch, tokens, start):
    """BART's shift_tokens_right as PyTorch exports it: zeros, then [:, 1:] = ids[:, :-1]
    and [:, 0] = start, two ScatterNDs at (image, position) pairs."""
    pairs = np.array([[[b, t + 1] for t in range(tokens - 1)] for b in range(batch)])
    head = np.array([[[b, 0]] for b in range(batch)])
    body = g.op("Slice", ["ids", g.const(np.array([0])), g.const(np.array([tokens - 1])),
                          g.const(np.array([1]))])
    shifted = g.op("ScatterND", [g.const(np.zeros((batch, tokens), np.int64)),
                                 g.const(pairs), body])
    return g.op("ScatterND", [shifted, g.const(head),
                              g.const(np.full((batch, 1), start, np.int64))])


@pytest.mark.parametrize("batch", [1, 2])
def test_token_ids_shifted_right_by_scatters_at_image_position_pairs(tmp_path, batch):
    """Each image takes the same positions from its own ids: the scatter is one image's
    (a concat of data and updates, a take of each position's source). The ids then look
    up a table; the looked-up rows must be the shifted ids' rows, by hand."""
    g = GraphBuilder(16)
    ids = shift_right(g, batch, 5, start=2)
    table = normal(10, 3, seed=17)
    y = g.op("Gather", [g.const(table), ids], axis=0)
    model = g.model({"ids": [batch, 5]}, [y], types={"ids": TensorProto.INT64})
    wl = load_onnx(save(model, tmp_path))
    given = np.array([[4, 9, 1, 1, 7], [3, 0, 8, 6, 5]][:batch], dtype=np.int64)
    shifted = np.concatenate([np.full((batch, 1), 2), given[:, :-1]], axis=1)
    np.testing.assert_array_equal(run_onnxruntime(model, {"ids": given}), table[shifted])
    check_values(model, wl, {"ids": given})


def test_scatter_of_single_entries_into_every_axis(tmp_path):
    """Longformer's sliding chunks: indices address every axis of a tensor that is not
    split by image (heads first), each update one number. Against numpy by hand."""
    rng = np.random.default_rng(18)
    flat = rng.choice(4 * 3 * 5, size=7, replace=False)
    index = np.stack(np.unravel_index(flat, (4, 3, 5)), axis=-1)            # [7, 3]
    index[0] -= np.array([4, 3, 5])                                  # negative: from the end
    g = GraphBuilder(19)
    data = g.op("Transpose", [g.op("Reshape", ["x", g.const(np.array([3, 4, 5]))])],
                perm=[1, 0, 2])                                                # [4, 3, 5]
    updates = g.op("Reshape", [g.op("Slice", ["x", g.const(np.array([0])),
                                              g.const(np.array([7])), g.const(np.array([1]))]),
                               g.const(np.array([7]))])
    y = g.op("ScatterND", [data, g.const(index), updates])
    model = g.model({"x": [1, 60]}, [y])
    wl = load_onnx(save(model, tmp_path))
    x = normal(1, 60, seed=20)
    want = x.reshape(3, 4, 5).transpose(1, 0, 2).copy()
    want[tuple(np.mod(index, (4, 3, 5)).T)] = x[0, :7]
    np.testing.assert_array_equal(run_onnxruntime(model, {"x": x}), want)
    check_values(model, wl, {"x": x})


@pytest.mark.parametrize("change, message", [
    ("other_positions", "every image takes the same entries from its own updates"),
    ("twice", "writes one entry twice"),
    ("beyond", "go beyond the data's shape"),
    ("updates", "ONNX needs"),
])
def test_scatters_that_mix_images_or_are_malformed_are_refused(tmp_path, change, message):
    """Image 1 writing other positions than image 0 mixes the batch; writing one entry
    twice is undefined in ONNX; an index past the axis or updates of the wrong shape are
    malformed. Each is refused by name (onnxruntime would run the first)."""
    pairs = np.array([[[0, 1], [0, 3]], [[1, 1], [1, 3]]])
    updates_shape = [2, 2]
    if change == "other_positions":
        pairs[1, 1, 1] = 2
    elif change == "twice":
        pairs[:, 1, 1] = 1
    elif change == "beyond":
        pairs[1, 1, 1] = 5
    else:
        updates_shape = [2, 3]
    g = GraphBuilder(21)
    updates = g.op("Slice", ["x", g.const(np.array([0])),
                             g.const(np.array([updates_shape[1]])), g.const(np.array([1]))])
    y = g.op("ScatterND", [g.op("Relu", ["x"]), g.const(pairs), updates])
    model = g.model({"x": [2, 4]}, [y])
    with pytest.raises(SpecError, match=message):
        load_onnx(save(model, tmp_path))
