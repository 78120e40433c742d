"""ONNX import: the batch axis as an ordinary axis (merged by Reshape, moved by Transpose for
one image) and files exported at batch N > 1, checked against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

from onnx_models import GraphBuilder, resnet_style, transformer_style  # noqa: E402
from test_onnx import check_values, save, transformer_style_macs  # noqa: E402

import accelsim  # noqa: E402
from accelsim import SpecError  # noqa: E402
from accelsim.workload.onnx import load_onnx  # noqa: E402


def tokens_feed(batch, tokens=6, d=16, seed=0):
    rng = np.random.default_rng(seed)
    return {"tokens": rng.normal(size=(batch, tokens, d)).astype(np.float32)}


@pytest.mark.parametrize("batch", [1, 3])
def test_projections_over_the_merged_batch_axis(tmp_path, batch):
    """Hugging Face's view(-1, d) before each projection merges the batch into the token
    axis; accelsim keeps one image's rows and gets the same network and the same numbers."""
    model = transformer_style(batch=batch, merge_batch=True)
    wl = load_onnx(save(model, tmp_path))
    assert wl.batch == batch
    assert wl.macs == transformer_style_macs()          # per image, as at batch 1
    check_values(model, wl, tokens_feed(batch))


def test_a_file_at_batch_n_is_simulated_at_batch_n(tmp_path):
    one = load_onnx(save(resnet_style(), tmp_path, "one.onnx"))
    model = resnet_style()
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 4
    four = load_onnx(save(model, tmp_path, "four.onnx"))
    assert (one.batch, four.batch) == (1, 4)
    assert four.macs == one.macs and four.order == one.order
    rng = np.random.default_rng(3)
    check_values(model, four, {"input": rng.normal(size=(4, 3, 16, 16)).astype(np.float32)})
    result = accelsim.simulate(four, "cim-16x16")
    assert result.batch == 4
    assert result.batch == accelsim.simulate(one, "cim-16x16", batch=4).batch
    assert result.cycles == accelsim.simulate(one, "cim-16x16", batch=4).cycles
    assert accelsim.simulate(four, "cim-16x16", batch=1).cycles == \
        accelsim.simulate(one, "cim-16x16").cycles


def sequence_first_attention(batch: int, tokens: int = 5, d: int = 8, heads: int = 2):
    """nn.MultiheadAttention's layout: [B, T, d] -> [T, B, d], heads split as [T, B·h, dh]
    and moved to [B·h, T, dh]."""
    g = GraphBuilder(4)
    dh = d // heads
    x = g.op("Transpose", ["x"], perm=[1, 0, 2])                          # [T, B, d]
    q = g.op("MatMul", [x, g.random(d, d)])
    q = g.op("Reshape", [q, g.const(np.array([tokens, batch * heads, dh]))])
    q = g.op("Transpose", [q], perm=[1, 0, 2])                            # [B·h, T, dh]
    k = g.op("Transpose", [q], perm=[0, 2, 1])
    probs = g.op("Softmax", [g.op("MatMul", [q, k])], axis=-1)
    ctx = g.op("Transpose", [g.op("MatMul", [probs, q])], perm=[1, 0, 2])  # [T, B·h, dh]
    ctx = g.op("Reshape", [ctx, g.const(np.array([tokens, batch, d]))])
    y = g.op("Transpose", [g.op("MatMul", [ctx, g.random(d, d)])], perm=[1, 0, 2])
    return g.model({"x": [batch, tokens, d]}, [y])


def test_sequence_first_attention_for_one_image(tmp_path):
    model = sequence_first_attention(batch=1)
    wl = load_onnx(save(model, tmp_path))
    tokens, d, heads = 5, 8, 2
    # two projections, QK^T and PV per head
    assert wl.macs == 2 * tokens * d * d + 2 * heads * tokens * tokens * (d // heads)
    rng = np.random.default_rng(5)
    check_values(model, wl, {"x": rng.normal(size=(1, tokens, d)).astype(np.float32)})


def test_sequence_first_attention_for_two_images(tmp_path):
    """The transposes that move the batch inwards are carried past the projections and
    heads until the batch is first again (onnx/sinking.py): the same network as at batch 1."""
    two = load_onnx(save(sequence_first_attention(batch=2), tmp_path, "two.onnx"))
    one = load_onnx(save(sequence_first_attention(batch=1), tmp_path, "one.onnx"))
    assert two.batch == 2 and two.macs == one.macs and two.order == one.order
    rng = np.random.default_rng(6)
    check_values(sequence_first_attention(batch=2), two,
                 {"x": rng.normal(size=(2, 5, 8)).astype(np.float32)})
    a, b = accelsim.simulate(one, "cim-16x16", batch=2), accelsim.simulate(two, "cim-16x16")
    assert (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)


def test_a_reshape_that_mixes_images_is_refused(tmp_path):
    g = GraphBuilder(1)
    y = g.op("Reshape", ["x", g.const(np.array([3, 8]))])          # [2, 12] -> [3, 8]
    y = g.op("MatMul", [y, g.random(8, 4)])
    model = g.model({"x": [2, 12]}, [y])
    with pytest.raises(SpecError, match="images would mix"):
        load_onnx(save(model, tmp_path))


def test_the_first_axis_of_a_matrix_input_is_its_batch(tmp_path):
    """ONNX's convention: [6, 8] is six images of eight features (an MLP at batch 6); an
    operation along that axis mixes images and is refused."""
    g = GraphBuilder(2)
    y = g.op("MatMul", ["x", g.random(8, 4)])
    model = g.model({"x": [6, 8]}, [g.op("Relu", [y])])
    wl = load_onnx(save(model, tmp_path))
    assert wl.batch == 6 and wl.macs == 8 * 4
    check_values(model, wl, {"x": np.random.default_rng(0).normal(size=(6, 8))
                             .astype(np.float32)})
    g = GraphBuilder(2)
    y = g.op("Softmax", [g.op("MatMul", ["x", g.random(8, 4)])], axis=0)
    with pytest.raises(SpecError, match="axis 0 is the batch axis"):
        load_onnx(save(g.model({"x": [6, 8]}, [y]), tmp_path))
