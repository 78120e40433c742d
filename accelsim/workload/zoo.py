"""Built-in networks, layer for layer as in torchvision (batch norm folded into the convs).

MAC counts (conv + fully connected, 224x224) match the published figures in REFERENCES.md;
tests/test_zoo.py checks them.
"""

from __future__ import annotations

from collections.abc import Callable

from accelsim.workload.graph import Workload, WorkloadBuilder
from accelsim.workload.layers import (Conv2d, Elementwise, Flatten, GlobalAvgPool, Input,
                                      Linear, Pool2d)


def mlp() -> Workload:
    """784-256-256-10 multilayer perceptron (MNIST-sized)."""
    b = WorkloadBuilder("mlp")
    b.add(Input, "input", shape=(784, 1, 1))
    b.add(Linear, "fc1", out_features=256, activation="relu")
    b.add(Linear, "fc2", out_features=256, activation="relu")
    b.add(Linear, "fc3", out_features=10)
    return b.build()


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
    return b.build()


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
    return b.build()


def resnet18() -> Workload:
    return _resnet("resnet18", "basic", (2, 2, 2, 2))


def resnet34() -> Workload:
    return _resnet("resnet34", "basic", (3, 4, 6, 3))


def resnet50() -> Workload:
    return _resnet("resnet50", "bottleneck", (3, 4, 6, 3))


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
    return b.build()


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
    return b.build()


ZOO: dict[str, Callable[[], Workload]] = {
    "mlp": mlp, "lenet5": lenet5, "resnet18": resnet18, "resnet34": resnet34,
    "resnet50": resnet50, "vgg16": vgg16, "mobilenetv2": mobilenetv2,
}
