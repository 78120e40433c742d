"""Built-in networks, layer for layer as in torchvision (batch norm folded into the convs).

MAC counts (conv + fully connected, 224x224) match the published figures in REFERENCES.md;
tests/test_zoo.py checks them.
"""

from __future__ import annotations

from collections.abc import Callable

from accelsim.workload.graph import Workload, WorkloadBuilder
from accelsim.workload.layers import (
    Affine,
    Concat,
    Conv2d,
    Elementwise,
    Flatten,
    GlobalAvgPool,
    Input,
    LayerNorm,
    Linear,
    MatMul,
    Pool2d,
    Reshape,
    Slice,
    Softmax,
)


def mlp() -> Workload:
    """784-256-256-10 multilayer perceptron (MNIST-sized)."""
    b = WorkloadBuilder("mlp")
    b.add(Input, "input", shape=(784, 1, 1))
    b.add(Linear, "fc1", out_features=256, activation="relu")
    b.add(Linear, "fc2", out_features=256, activation="relu")
    b.add(Linear, "fc3", out_features=10)
    return b.build(validated=True)


def lenet5() -> Workload:
    """LeCun et al. 1998 LeNet-5 on a 1x32x32 input (C3 fully connected to S2)."""
    b = WorkloadBuilder("lenet5")
    b.add(Input, "input", shape=(1, 32, 32))
    b.add(Conv2d, "c1", out_channels=6, kernel=(5, 5), activation="tanh")
    b.add(Pool2d, "s2", function="avg", kernel=(2, 2), stride=(2, 2))
    b.add(Conv2d, "c3", out_channels=16, kernel=(5, 5), activation="tanh")
    b.add(Pool2d, "s4", function="avg", kernel=(2, 2), stride=(2, 2))
    b.add(Conv2d, "c5", out_channels=120, kernel=(5, 5), activation="tanh")
    b.add(Flatten, "flatten")
    b.add(Linear, "f6", out_features=84, activation="tanh")
    b.add(Linear, "output", out_features=10)
    return b.build(validated=True)


def _conv(b: WorkloadBuilder, name: str, out: int, k: int, s: int = 1, *, groups: int = 1,
          act: str | None = "relu", inputs=None) -> str:
    return b.add(Conv2d, name, inputs=inputs, out_channels=out, kernel=(k, k), stride=(s, s),
                 padding=(k // 2, k // 2), groups=groups, activation=act)


def _resnet(name: str, block: str, counts: tuple[int, int, int, int]) -> Workload:
    b = WorkloadBuilder(name)
    b.add(Input, "input", shape=(3, 224, 224))
    _conv(b, "conv1", 64, 7, 2)
    b.add(Pool2d, "maxpool", function="max", kernel=(3, 3), stride=(2, 2), padding=(1, 1))
    channels, expansion = 64, (1 if block == "basic" else 4)
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), counts), start=1):
        for i in range(count):
            stride = 2 if (i == 0 and stage > 1) else 1
            prefix, entry = f"layer{stage}.{i}", b.last
            if block == "basic":
                _conv(b, f"{prefix}.conv1", width, 3, stride)
                _conv(b, f"{prefix}.conv2", width, 3, act=None)
            else:
                _conv(b, f"{prefix}.conv1", width, 1)
                _conv(b, f"{prefix}.conv2", width, 3, stride)
                _conv(b, f"{prefix}.conv3", width * expansion, 1, act=None)
            main = b.last
            shortcut = entry
            if stride != 1 or channels != width * expansion:
                shortcut = _conv(b, f"{prefix}.downsample", width * expansion, 1, stride,
                                 act=None, inputs=(entry,))
            b.add(Elementwise, f"{prefix}.add", inputs=(main, shortcut), function="add",
                  activation="relu")
            channels = width * expansion
    b.add(GlobalAvgPool, "avgpool")
    b.add(Flatten, "flatten")
    b.add(Linear, "fc", out_features=1000)
    return b.build(validated=True)


def resnet18() -> Workload:
    """ResNet-18 as in torchvision (basic blocks, batch norm folded), 224x224."""
    return _resnet("resnet18", "basic", (2, 2, 2, 2))


def resnet34() -> Workload:
    """ResNet-34 as in torchvision (basic blocks, batch norm folded), 224x224."""
    return _resnet("resnet34", "basic", (3, 4, 6, 3))


def resnet50() -> Workload:
    """ResNet-50 as in torchvision (bottleneck blocks, batch norm folded), 224x224."""
    return _resnet("resnet50", "bottleneck", (3, 4, 6, 3))


def alexnet() -> Workload:
    """AlexNet as published (Krizhevsky et al. 2012) and as Eyeriss ran it: a 3x227x227
    input, CONV2, CONV4 and CONV5 in two groups (the two GPUs' towers), local response
    normalization left out (it has no MACs)."""
    b = WorkloadBuilder("alexnet")
    b.add(Input, "input", shape=(3, 227, 227))
    b.add(Conv2d, "conv1", out_channels=96, kernel=(11, 11), stride=(4, 4), activation="relu")
    b.add(Pool2d, "pool1", function="max", kernel=(3, 3), stride=(2, 2))
    b.add(Conv2d, "conv2", out_channels=256, kernel=(5, 5), padding=(2, 2), groups=2,
          activation="relu")
    b.add(Pool2d, "pool2", function="max", kernel=(3, 3), stride=(2, 2))
    b.add(Conv2d, "conv3", out_channels=384, kernel=(3, 3), padding=(1, 1), activation="relu")
    b.add(Conv2d, "conv4", out_channels=384, kernel=(3, 3), padding=(1, 1), groups=2,
          activation="relu")
    b.add(Conv2d, "conv5", out_channels=256, kernel=(3, 3), padding=(1, 1), groups=2,
          activation="relu")
    b.add(Pool2d, "pool5", function="max", kernel=(3, 3), stride=(2, 2))
    b.add(Flatten, "flatten")
    b.add(Linear, "fc6", out_features=4096, activation="relu")
    b.add(Linear, "fc7", out_features=4096, activation="relu")
    b.add(Linear, "fc8", out_features=1000)
    return b.build(validated=True)


def vgg16() -> Workload:
    """VGG-16 (configuration D) with torchvision's classifier."""
    b = WorkloadBuilder("vgg16")
    b.add(Input, "input", shape=(3, 224, 224))
    config = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"]
    block, index = 1, 1
    for item in config:
        if item == "M":
            b.add(Pool2d, f"pool{block}", function="max", kernel=(2, 2), stride=(2, 2))
            block, index = block + 1, 1
        else:
            _conv(b, f"conv{block}_{index}", item, 3)
            index += 1
    b.add(Flatten, "flatten")
    b.add(Linear, "fc6", out_features=4096, activation="relu")
    b.add(Linear, "fc7", out_features=4096, activation="relu")
    b.add(Linear, "fc8", out_features=1000)
    return b.build(validated=True)


def mobilenetv2() -> Workload:
    """MobileNetV2 (width 1.0) as in torchvision: inverted residuals with depthwise convs."""
    b = WorkloadBuilder("mobilenetv2")
    b.add(Input, "input", shape=(3, 224, 224))
    _conv(b, "features.0", 32, 3, 2, act="relu6")
    channels, index = 32, 1
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1)]
    for expand, out, repeats, first_stride in settings:
        for i in range(repeats):
            stride = first_stride if i == 0 else 1
            prefix, entry = f"features.{index}", b.last
            hidden = channels * expand
            if expand != 1:
                _conv(b, f"{prefix}.expand", hidden, 1, act="relu6")
            _conv(b, f"{prefix}.depthwise", hidden, 3, stride, groups=hidden, act="relu6")
            _conv(b, f"{prefix}.project", out, 1, act=None)
            if stride == 1 and channels == out:
                b.add(Elementwise, f"{prefix}.add", inputs=(b.last, entry), function="add")
            channels, index = out, index + 1
    _conv(b, f"features.{index}", 1280, 1, act="relu6")
    b.add(GlobalAvgPool, "avgpool")
    b.add(Flatten, "flatten")
    b.add(Linear, "classifier", out_features=1000)
    return b.build(validated=True)


ZOO: dict[str, Callable[[], Workload]] = {
    "mlp": mlp, "lenet5": lenet5, "resnet18": resnet18, "resnet34": resnet34,
    "resnet50": resnet50, "vgg16": vgg16, "mobilenetv2": mobilenetv2, "alexnet": alexnet,
}


# -- transformers --------------------------------------------------------------------------
# A token sequence is (features, tokens, 1). Attention uses MatMul layers between activations
# (no weights to keep in place); each head's 1/sqrt(d_head) scale is folded into the query
# weights. Embedding lookups are not modelled: the inputs are the summed embeddings.


def _attention(b: WorkloadBuilder, prefix: str, x: str, d: int, heads: int, *,
               past: tuple[str, str] | None = None) -> str:
    """Multi-head self-attention on ``x``; ``past`` names (keys, values) of earlier tokens
    (a decode step's cache). Returns the output projection's name."""
    q = b.add(Linear, f"{prefix}.q", inputs=(x,), out_features=d)
    k = b.add(Linear, f"{prefix}.k", inputs=(x,), out_features=d)
    v = b.add(Linear, f"{prefix}.v", inputs=(x,), out_features=d)
    if past is not None:
        k = b.add(Concat, f"{prefix}.k_cache", inputs=(past[0], k), axis="height")
        v = b.add(Concat, f"{prefix}.v_cache", inputs=(past[1], v), axis="height")
    b.add(MatMul, f"{prefix}.scores", inputs=(q, k), heads=heads, transpose_b=True)
    b.add(Softmax, f"{prefix}.softmax", groups=heads)
    b.add(MatMul, f"{prefix}.context", inputs=(b.last, v), heads=heads)
    return b.add(Linear, f"{prefix}.out", out_features=d)


def _mlp(b: WorkloadBuilder, prefix: str, x: str, d: int, hidden: int,
         activation: str = "gelu") -> str:
    b.add(Linear, f"{prefix}.fc1", inputs=(x,), out_features=hidden, activation=activation)
    return b.add(Linear, f"{prefix}.fc2", out_features=d)


def _pre_norm_block(b: WorkloadBuilder, prefix: str, x: str, d: int, heads: int, hidden: int,
                    past: tuple[str, str] | None = None, activation: str = "gelu") -> str:
    """x + attention(LN(x)), then x + MLP(LN(x)): ViT and GPT-2 (whose GELU is the tanh
    approximation, Hugging Face's gelu_new)."""
    b.add(LayerNorm, f"{prefix}.ln1", inputs=(x,))
    attn = _attention(b, f"{prefix}.attn", b.last, d, heads, past=past)
    x = b.add(Elementwise, f"{prefix}.add1", inputs=(x, attn), function="add")
    b.add(LayerNorm, f"{prefix}.ln2")
    mlp = _mlp(b, f"{prefix}.mlp", b.last, d, hidden, activation)
    return b.add(Elementwise, f"{prefix}.add2", inputs=(x, mlp), function="add")


def bert_base(seq: int = 128) -> Workload:
    """BERT-base encoder (12 layers, d 768, 12 heads, FFN 3072), 128 tokens, post-norm."""
    d, heads, hidden = 768, 12, 3072
    b = WorkloadBuilder("bert-base")
    b.add(Input, "embeddings", shape=(d, seq, 1))
    b.add(LayerNorm, "embeddings.ln")
    for i in range(12):
        prefix, x = f"encoder.{i}", b.last
        attn = _attention(b, f"{prefix}.attn", x, d, heads)
        b.add(Elementwise, f"{prefix}.add1", inputs=(x, attn), function="add")
        x = b.add(LayerNorm, f"{prefix}.ln1")
        mlp = _mlp(b, f"{prefix}.ffn", x, d, hidden)
        b.add(Elementwise, f"{prefix}.add2", inputs=(x, mlp), function="add")
        b.add(LayerNorm, f"{prefix}.ln2")
    return b.build(validated=True)


def vit_b16() -> Workload:
    """ViT-B/16 on 224x224: 16x16 patches (196 tokens + class token), 12 pre-norm layers."""
    d, heads, hidden = 768, 12, 3072
    b = WorkloadBuilder("vit-b16")
    b.add(Input, "input", shape=(3, 224, 224))
    b.add(Conv2d, "patch_embed", out_channels=d, kernel=(16, 16), stride=(16, 16))
    b.add(Reshape, "patches", source=(d, 196), perm=(0, 1), shape=(d, 196, 1))
    b.add(Input, "class_token", shape=(d, 1, 1))
    b.add(Concat, "tokens", inputs=("class_token", "patches"), axis="height")
    b.add(Affine, "pos_embed", shift="full")
    for i in range(12):
        _pre_norm_block(b, f"blocks.{i}", b.last, d, heads, hidden)
    b.add(LayerNorm, "norm")
    b.add(Slice, "cls", axis="height", start=0, stop=1)
    b.add(Linear, "head", out_features=1000)
    return b.build(validated=True)


def _gpt2(name: str, tokens: int, past: int) -> Workload:
    d, heads, hidden, vocab = 768, 12, 3072, 50257
    b = WorkloadBuilder(name)
    b.add(Input, "embeddings", shape=(d, tokens, 1))
    for i in range(12):
        x, cache = b.last, None
        if past:
            cache = (b.add(Input, f"h.{i}.past_keys", shape=(d, past, 1)),
                     b.add(Input, f"h.{i}.past_values", shape=(d, past, 1)))
        _pre_norm_block(b, f"h.{i}", x, d, heads, hidden, past=cache, activation="gelu_tanh")
    b.add(LayerNorm, "ln_f")
    b.add(Linear, "lm_head", out_features=vocab)
    return b.build(validated=True)


def gpt2_prefill(tokens: int = 128) -> Workload:
    """GPT-2 small (12 layers, d 768, 12 heads) reading a 128-token prompt, logits for all."""
    return _gpt2("gpt2-prefill", tokens, 0)


def gpt2_decode(past: int = 127) -> Workload:
    """GPT-2 small generating one token after 127 cached ones (keys and values as inputs)."""
    return _gpt2("gpt2-decode", 1, past)


ZOO.update({"bert-base": bert_base, "vit-b16": vit_b16, "gpt2-prefill": gpt2_prefill,
            "gpt2-decode": gpt2_decode})
