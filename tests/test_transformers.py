"""Transformer layers and zoo entries: MAC formulas by hand, values against naive numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import accelsim
from accelsim.values import reference_forward
from accelsim.workload import WorkloadBuilder, random_weights
from accelsim.workload.layers import (
    Affine,
    Concat,
    Input,
    LayerNorm,
    Linear,
    MatMul,
    Reshape,
    Slice,
    Softmax,
)
from accelsim.workload.zoo import ZOO


def encoder_macs(tokens: int, d: int, hidden: int, context: int | None = None) -> int:
    """One transformer layer: Q, K, V and output projections, scores and context, the MLP.

    ``context`` is the number of keys each query sees (tokens, or cache + new for decode)."""
    context = tokens if context is None else context
    projections = 4 * tokens * d * d
    attention = 2 * tokens * context * d          # scores and context, summed over heads
    mlp = 2 * tokens * d * hidden
    return projections + attention + mlp


def test_bert_base_macs():
    assert ZOO["bert-base"]().macs == 12 * encoder_macs(128, 768, 3072)
    # the same count written out: 12 (12 T d^2 + 2 T^2 d)
    assert ZOO["bert-base"]().macs == 12 * (12 * 128 * 768 ** 2 + 2 * 128 ** 2 * 768)


def test_vit_b16_macs():
    patches = 14 * 14 * 768 * (3 * 16 * 16)
    expected = patches + 12 * encoder_macs(197, 768, 3072) + 768 * 1000
    assert ZOO["vit-b16"]().macs == expected
    # about 17.6 G, the figure usually quoted for ViT-B/16 at 224x224
    assert abs(expected / 1e9 - 17.56) < 0.01


def test_gpt2_macs():
    vocab = 50257
    prefill = ZOO["gpt2-prefill"]()
    assert prefill.macs == 12 * encoder_macs(128, 768, 3072) + 128 * 768 * vocab
    decode = ZOO["gpt2-decode"]()
    assert decode.macs == 12 * encoder_macs(1, 768, 3072, context=128) + 768 * vocab
    # 124 M parameters less the position embeddings and layer norms: 85 M + 38.6 M tied head
    assert prefill.weight_count == 12 * (4 * 768 ** 2 + 2 * 768 * 3072) + 768 * vocab


def test_attention_matmuls_are_digital_not_weight_stationary():
    result = accelsim.simulate("bert-base", "cim-16x16")
    units = {layer.name: layer.unit for layer in result.layers}
    assert units["encoder.0.attn.scores"] == "digital"
    assert units["encoder.0.attn.context"] == "digital"
    assert units["encoder.0.attn.q"] == "cim"
    assert result.macs == ZOO["bert-base"]().macs


def _tiny_attention(tokens=5, d=8, heads=2):
    b = WorkloadBuilder("tiny-attention")
    b.add(Input, "x", shape=(d, tokens, 1))
    q = b.add(Linear, "q", inputs=("x",), out_features=d)
    k = b.add(Linear, "k", inputs=("x",), out_features=d)
    v = b.add(Linear, "v", inputs=("x",), out_features=d)
    b.add(MatMul, "scores", inputs=(q, k), heads=heads, transpose_b=True)
    b.add(Softmax, "softmax", groups=heads)
    b.add(MatMul, "context", inputs=("softmax", v), heads=heads)
    b.add(LayerNorm, "ln")
    return b.build()


def test_attention_values_match_a_naive_multi_head_attention():
    tokens, d, heads = 5, 8, 2
    wl = _tiny_attention(tokens, d, heads)
    rng = np.random.default_rng(3)
    weights = {n: rng.normal(size=(d, d)) for n in ("q", "k", "v")}
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    wl = wl.with_weights({**weights, "ln": gamma}, {"ln": beta})
    x = rng.normal(size=(tokens, d))                       # tokens x features
    got = reference_forward(wl, x.T[None, :, :, None])[0, :, :, 0].T

    q, k, v = (x @ weights[n].T for n in ("q", "k", "v"))
    dh = d // heads
    heads_out = []
    for h in range(heads):
        cols = slice(h * dh, (h + 1) * dh)
        scores = q[:, cols] @ k[:, cols].T
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        heads_out.append(p @ v[:, cols])
    context = np.concatenate(heads_out, axis=1)
    mean = context.mean(axis=1, keepdims=True)
    var = context.var(axis=1, keepdims=True)
    expected = (context - mean) / np.sqrt(var + 1e-5) * gamma + beta
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_matmul_macs_and_shape_rules():
    wl = _tiny_attention(tokens=5, d=8, heads=2)
    assert wl.shapes["scores"] == (2 * 5, 5, 1)
    assert wl.layer_macs("scores") == 2 * 5 * 5 * 4
    assert wl.layer_macs("context") == 2 * 5 * 5 * 4
    b = WorkloadBuilder("bad")
    b.add(Input, "a", shape=(6, 3, 1))
    b.add(Input, "b", shape=(6, 4, 1))
    b.add(MatMul, "m", inputs=("a", "b"), heads=4, transpose_b=True)
    with pytest.raises(accelsim.AccelsimError, match="heads=4 must divide"):
        b.build()


def test_reshape_permutes_like_numpy_and_views_cost_nothing():
    b = WorkloadBuilder("reshape")
    b.add(Input, "x", shape=(6, 4, 1))
    b.add(Reshape, "t", source=(6, 4), perm=(1, 0), shape=(4, 6, 1))
    b.add(Reshape, "v", source=(4, 6), perm=(0, 1), shape=(24, 1, 1))
    wl = b.build()
    assert not wl.layers["t"].aliases_input and wl.layers["v"].aliases_input
    x = np.arange(24.0).reshape(1, 6, 4, 1)
    out = reference_forward(wl, x)
    np.testing.assert_array_equal(out.ravel(), x[0, :, :, 0].T.ravel())
    result = accelsim.simulate(wl, "cim-16x16")
    units = {layer.name: layer.unit for layer in result.layers}
    assert units == {"x": "dram", "t": "digital", "v": "view", "output": "dram"}


def test_slice_concat_height_and_affine():
    b = WorkloadBuilder("pieces")
    b.add(Input, "a", shape=(3, 2, 1))
    b.add(Input, "b", shape=(3, 4, 1))
    b.add(Concat, "cat", inputs=("a", "b"), axis="height")
    b.add(Affine, "shift", scale="channel", shift="full")
    b.add(Slice, "first", axis="height", start=1, stop=3)
    wl = b.build()
    assert wl.shapes["cat"] == (3, 6, 1) and wl.shapes["first"] == (3, 2, 1)
    rng = np.random.default_rng(0)
    scale, shift = rng.normal(size=(3, 1, 1)), rng.normal(size=(3, 6, 1))
    wl = wl.with_weights({"shift": scale}, {"shift": shift})
    a, bb = rng.normal(size=(1, 3, 2, 1)), rng.normal(size=(1, 3, 4, 1))
    out = reference_forward(wl, {"a": a, "b": bb})
    expected = (np.concatenate([a, bb], axis=2) * scale + shift)[:, :, 1:3]
    np.testing.assert_allclose(out, expected)
    with pytest.raises(accelsim.AccelsimError, match="shift shape"):
        wl.with_weights({}, {"shift": np.zeros(3)})


def test_gpt2_decode_runs_in_value_mode_with_its_cache_inputs():
    """Value mode with several input layers: inputs drawn per layer, output the logits."""
    b = WorkloadBuilder("decode")
    b.add(Input, "token", shape=(8, 1, 1))
    b.add(Input, "past_k", shape=(8, 3, 1))
    b.add(Input, "past_v", shape=(8, 3, 1))
    b.add(Linear, "k", inputs=("token",), out_features=8)
    b.add(Concat, "keys", inputs=("past_k", "k"), axis="height")
    b.add(Linear, "v", inputs=("token",), out_features=8)
    b.add(Concat, "values", inputs=("past_v", "v"), axis="height")
    b.add(MatMul, "scores", inputs=("token", "keys"), heads=2, transpose_b=True)
    b.add(Softmax, "softmax", groups=2)
    b.add(MatMul, "context", inputs=("softmax", "values"), heads=2)
    wl = b.build()
    assert wl.shapes["context"] == (8, 1, 1)
    rng = np.random.default_rng(1)
    inputs = {n: rng.normal(size=(1, *wl.shapes[n])) for n in ("token", "past_k", "past_v")}
    result = accelsim.simulate(wl, "cim-16x16", values=True, seed=1, inputs=inputs,
                               value_options={"ideal_adc": True})
    weights = random_weights(wl, 1)         # what simulate draws for this seed
    expected = reference_forward(wl.with_weights(weights), inputs)
    assert result.output.shape == (1, 8, 1, 1)
    # 8-bit inputs and weights with an exact ADC: within a few quantization steps
    np.testing.assert_allclose(result.output, expected, atol=0.05 * np.abs(expected).max())
    with pytest.raises(accelsim.AccelsimError, match="give inputs as a dict"):
        accelsim.simulate(wl, "cim-16x16", values=True, inputs=np.zeros((8, 1, 1)))
    with pytest.raises(accelsim.AccelsimError, match="not an input layer"):
        accelsim.simulate(wl, "cim-16x16", values=True, inputs={"k": np.zeros((8, 1, 1))})
    assert math.isfinite(result.energy_pj)
