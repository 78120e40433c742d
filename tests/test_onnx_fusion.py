"""Operators exported in pieces, put back together at import (workload/onnx/fusion.py), and
q, k and v sliced from one projection as views (layouts.axis_layout, ops.select)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

from onnx_models import GraphBuilder  # noqa: E402
from test_onnx import check_values, save  # noqa: E402

import accelsim  # noqa: E402
from accelsim.workload.onnx import load_onnx  # noqa: E402

T, D, H = 5, 8, 12


def gelu_model(variant: str):
    """x -> MatMul -> GELU written in pieces as ``variant`` -> MatMul."""
    g = GraphBuilder(3)
    x = g.op("MatMul", ["x", g.random(D, H)])
    f32 = np.float32
    if variant == "torch":            # x * (1 + erf(x / sqrt 2)) * 0.5, as torch writes it
        e = g.op("Erf", [g.op("Div", [x, g.const(f32(np.sqrt(2.0)))])])
        y = g.op("Mul", [g.op("Mul", [x, g.op("Add", [e, g.const(f32(1.0))])]),
                         g.const(f32(0.5))])
    elif variant == "half first":     # (x * 0.5) * (1 + erf(x * 1/sqrt 2)), operands swapped
        e = g.op("Erf", [g.op("Mul", [g.const(f32(np.sqrt(0.5))), x])])
        half = g.op("Mul", [g.const(f32(0.5)), x])
        y = g.op("Mul", [g.op("Add", [g.const(f32(1.0)), e]), half])
    elif variant == "tanh":           # GPT-2's: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", [g.op("Pow", [x, g.const(f32(3.0))]), g.const(f32(0.044715))])
        inner = g.op("Mul", [g.op("Add", [x, cube]), g.const(f32(np.sqrt(2 / np.pi)))])
        t = g.op("Tanh", [inner])
        y = g.op("Mul", [g.op("Mul", [x, g.const(f32(0.5))]),
                         g.op("Add", [t, g.const(f32(1.0))])])
    else:                             # x * (0.5 * (1 + erf(x / sqrt 2)))
        e = g.op("Erf", [g.op("Div", [x, g.const(f32(np.sqrt(2.0)))])])
        y = g.op("Mul", [x, g.op("Mul", [g.op("Add", [e, g.const(f32(1.0))]),
                                         g.const(f32(0.5))])])
    out = g.op("MatMul", [y, g.random(H, D)])
    return g.model({"x": [1, T, D]}, [out])


def feeds():
    return {"x": np.random.default_rng(0).normal(size=(1, T, D)).astype(np.float32)}


@pytest.mark.parametrize("variant", ["torch", "half first", "inner half", "tanh"])
def test_gelu_in_pieces_is_the_first_layers_activation(tmp_path, variant):
    model = gelu_model(variant)
    wl = load_onnx(save(model, tmp_path))
    kinds = [wl.layers[name].kind for name in wl.order]
    assert kinds == ["input", "linear", "linear"]
    expected = "gelu_tanh" if variant == "tanh" else "gelu"
    assert wl.layers[wl.order[1]].activation == expected
    check_values(model, wl, feeds())


def test_the_tanh_gelu_operator_is_gelu_tanh(tmp_path):
    """ONNX Gelu with approximate='tanh' (opset 20): the same activation, the same cost as
    the pieces, and onnxruntime's values."""
    g = GraphBuilder(3)
    x = g.op("MatMul", ["x", g.random(D, H)])
    out = g.op("MatMul", [g.op("Gelu", [x], approximate="tanh"), g.random(H, D)])
    model = g.model({"x": [1, T, D]}, [out], opset=20)
    whole = load_onnx(save(model, tmp_path))
    assert whole.layers[whole.order[1]].activation == "gelu_tanh"
    check_values(model, whole, feeds())
    pieces = load_onnx(save(gelu_model("tanh"), tmp_path, "pieces.onnx"))
    a, b = (accelsim.simulate(w, "cim-16x16") for w in (pieces, whole))
    assert (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)


def test_gelu_pieces_read_elsewhere_stay_pieces(tmp_path):
    """The erf term is also a graph output: fusing would lose it, so nothing is fused."""
    g = GraphBuilder(3)
    x = g.op("MatMul", ["x", g.random(D, H)])
    e = g.op("Erf", [g.op("Div", [x, g.const(np.float32(np.sqrt(2.0)))])])
    y = g.op("Mul", [g.op("Mul", [x, g.op("Add", [e, g.const(np.float32(1.0))])]),
                     g.const(np.float32(0.5))])
    model = g.model({"x": [1, T, D]}, [y, e])
    wl = load_onnx(save(model, tmp_path))
    assert all(getattr(wl.layers[name], "activation", None) != "gelu" for name in wl.order)
    check_values(model, wl, feeds())


def test_gelu_in_pieces_costs_what_the_fused_gelu_costs(tmp_path):
    """The same network with the Gelu operator (opset 20) and in pieces (opset 17)."""
    pieces = load_onnx(save(gelu_model("torch"), tmp_path, "pieces.onnx"))
    g = GraphBuilder(3)
    x = g.op("MatMul", ["x", g.random(D, H)])
    out = g.op("MatMul", [g.op("Gelu", [x]), g.random(H, D)])
    whole = load_onnx(save(g.model({"x": [1, T, D]}, [out], opset=20), tmp_path))
    for device in ("cim-16x16", "eyeriss-like"):
        a, b = (accelsim.simulate(w, device) for w in (pieces, whole))
        assert (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)


def stacked_qkv_model():
    """torchvision's attention: one projection to 3 x D, unflattened to (T, 1, 3, D),
    transposed so that the 3 is outermost, and q, k, v gathered from it."""
    g = GraphBuilder(4)
    tokens = g.op("Transpose", ["x"], perm=[1, 0, 2])                   # [T, 1, D]
    proj = g.op("MatMul", [tokens, g.random(D, 3 * D)])                 # [T, 1, 3D]
    y = g.op("Reshape", [proj, g.const(np.array([T, 1, 3, D]))])
    y = g.op("Unsqueeze", [y, g.const(np.array([0]))])                  # [1, T, 1, 3, D]
    y = g.op("Transpose", [y], perm=[3, 1, 2, 0, 4])                    # [3, T, 1, 1, D]
    y = g.op("Squeeze", [y, g.const(np.array([3]))])                    # [3, T, 1, D]
    q, k, v = (g.op("Gather", [y, g.const(np.array(i))], axis=0) for i in range(3))
    out = g.op("Add", [g.op("Mul", [q, k]), v])
    out = g.op("MatMul", [out, g.random(D, D)])
    return g.model({"x": [1, T, D]}, [out])


def test_q_k_and_v_of_one_projection_are_views(tmp_path):
    """Until the twenty-second session each Gather transposed the whole stack of q, k and v
    (three digital passes over 3 x T x D values) and kept a third; a third of the
    projection's channels is a view."""
    model = stacked_qkv_model()
    wl = load_onnx(save(model, tmp_path))
    moved = [name for name in wl.order
             if wl.layers[name].kind == "reshape" and not wl.layers[name].aliases_input]
    assert moved == []
    slices = [wl.layers[name] for name in wl.order if wl.layers[name].kind == "slice"]
    assert [(s.axis, s.start, s.stop) for s in slices] == [
        ("channels", i * D, (i + 1) * D) for i in range(3)]
    check_values(model, wl, {"x": np.random.default_rng(1).normal(
        size=(1, T, D)).astype(np.float32)})


def test_gelu_in_pieces_of_a_constant_is_folded(tmp_path):
    """The fused Gelu of a constant is evaluated at import (no ONNX Gelu before opset 20)."""
    g = GraphBuilder(5)
    c = g.const(np.linspace(-3, 3, D).astype(np.float32))
    e = g.op("Erf", [g.op("Div", [c, g.const(np.float32(np.sqrt(2.0)))])])
    y = g.op("Mul", [g.op("Mul", [c, g.op("Add", [e, g.const(np.float32(1.0))])]),
                     g.const(np.float32(0.5))])
    model = g.model({"x": [1, T, D]}, [g.op("Add", ["x", y])])
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, feeds())


def test_silu_in_pieces_is_the_conv_activation(tmp_path):
    """x * sigmoid(x) after a conv (EfficientNet's SiLU) is the conv's activation `silu`; a
    squeeze-and-excitation scale, x * sigmoid(f(x)), is not a SiLU and stays a product."""
    g = GraphBuilder(6)
    x = g.op("Conv", ["x", g.random(4, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y = g.op("Mul", [g.op("Sigmoid", [x]), x])                           # SiLU, swapped
    pooled = g.op("GlobalAveragePool", [y])
    gate = g.op("Sigmoid", [g.op("Conv", [pooled, g.random(4, 4, 1, 1)], kernel_shape=[1, 1])])
    model = g.model({"x": [1, 3, 6, 6]}, [g.op("Mul", [y, gate])])
    wl = load_onnx(save(model, tmp_path))
    convs = [wl.layers[name] for name in wl.order if wl.layers[name].kind == "conv2d"]
    assert [conv.activation for conv in convs] == ["silu", "sigmoid"]
    assert [wl.layers[n].kind for n in wl.order].count("elementwise") == 1
    check_values(model, wl, {"x": np.random.default_rng(2).normal(
        size=(1, 3, 6, 6)).astype(np.float32)})


def test_layer_norm_over_the_channels_of_each_pixel_moves_no_data(tmp_path):
    """ConvNeXt's block: a conv, a permute to channels last, LayerNorm and a Linear over the
    channels, a permute back and the residual. The channels are already outermost in the
    layer, so LayerNorm takes them as its channels (until the twenty-second session it took
    the rows as groups of channels and transposed the tensor there and back)."""
    g = GraphBuilder(7)
    c = 8
    x = g.op("Conv", ["x", g.random(c, 3, 3, 3)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    y = g.op("Transpose", [x], perm=[0, 2, 3, 1])
    y = g.op("LayerNormalization", [y, g.const(g.rng.uniform(0.5, 1.5, c)),
                                    g.const(g.rng.normal(0, 0.1, c))], axis=-1, epsilon=1e-6)
    y = g.op("MatMul", [y, g.random(c, c)])
    y = g.op("Transpose", [y], perm=[0, 3, 1, 2])
    model = g.model({"x": [1, 3, 6, 5]}, [g.op("Add", [x, y])])
    wl = load_onnx(save(model, tmp_path))
    moved = [name for name in wl.order
             if wl.layers[name].kind == "reshape" and not wl.layers[name].aliases_input]
    assert moved == []
    norm = next(wl.layers[name] for name in wl.order if wl.layers[name].kind == "layer_norm")
    assert norm.groups == 1 and wl.shapes[norm.name] == (c, 6, 5)
    check_values(model, wl, {"x": np.random.default_rng(3).normal(
        size=(1, 3, 6, 5)).astype(np.float32)})


def test_silu_of_a_constant_is_folded(tmp_path):
    g = GraphBuilder(5)
    c = g.const(np.linspace(-3, 3, D).astype(np.float32))
    y = g.op("Mul", [c, g.op("Sigmoid", [c])])
    model = g.model({"x": [1, T, D]}, [g.op("Add", ["x", y])])
    wl = load_onnx(save(model, tmp_path))
    check_values(model, wl, feeds())


def rms_model(variant: str, scaled: bool = True):
    """x -> MatMul -> RMS norm over the last axis written in pieces -> MatMul."""
    g = GraphBuilder(8)
    f32 = np.float32
    x = g.op("MatMul", ["x", g.random(D, H)])
    mean = g.op("ReduceMean", [g.op("Pow", [x, g.const(f32(2.0))])], axes=[-1], keepdims=1)
    root = g.op("Sqrt", [g.op("Add", [mean, g.const(f32(1e-6))])])
    if variant == "div":                    # T5: x * (1 / sqrt(...))
        y = g.op("Mul", [x, g.op("Div", [g.const(f32(1.0)), root])])
    elif variant == "reciprocal":
        y = g.op("Mul", [g.op("Reciprocal", [root]), x])
    else:                                   # x / sqrt(...)
        y = g.op("Div", [x, root])
    if scaled:
        y = g.op("Mul", [g.const(g.rng.uniform(0.5, 1.5, H).astype(f32)), y])
    out = g.op("MatMul", [y, g.random(H, D)])
    return g.model({"x": [1, T, D]}, [out])


@pytest.mark.parametrize("variant,scaled", [("div", True), ("reciprocal", True),
                                            ("quotient", False)])
def test_rms_norm_in_pieces_is_one_layer_norm_without_the_mean(tmp_path, variant, scaled):
    model = rms_model(variant, scaled)
    wl = load_onnx(save(model, tmp_path))
    kinds = [wl.layers[name].kind for name in wl.order]
    assert kinds == ["input", "linear", "layer_norm", "linear"]
    norm = wl.layers[wl.order[2]]
    assert not norm.center and norm.epsilon == pytest.approx(1e-6)
    check_values(model, wl, feeds())


def test_an_rms_norm_costs_less_than_a_layer_norm():
    """Per element a layer norm takes 4 adds and 3 multiplies (mean, variance, centering,
    gamma, beta); an RMS norm 1 add and 3 multiplies (squares, normalize, gamma)."""
    from accelsim.energy.table import Action
    from accelsim.workload.layers import LayerNorm
    from accelsim.workload.ops import op
    for center, adds in ((True, 4), (False, 1)):
        norm = LayerNorm("n", ("x",), center=center)
        cost = op(norm).digital(norm, [(16, 4, 1)], (16, 4, 1), lambda n: n)
        assert cost.ops[Action.DIGITAL_ADD] == adds * 16
        assert cost.ops[Action.DIGITAL_MUL] == 3 * 16 + 4      # and 4 per group
