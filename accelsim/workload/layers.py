"""Layer types of a workload graph and their shape and MAC arithmetic.

Every activation tensor is (channels, height, width) for one image; a vector of features is
(features, 1, 1) and a token sequence is (features, tokens, 1). A layer that multiplies by a
weight matrix therefore applies it to M = height·width vectors of ``channels`` elements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal, get_args

from pydantic import ConfigDict

from accelsim.spec.validate import NonNegativeInt, PositiveInt

Shape = tuple[int, int, int]
# Field types are annotated for pydantic, which validates layers read from YAML or ONNX.
Pair = tuple[PositiveInt, PositiveInt]
Padding = tuple[NonNegativeInt, NonNegativeInt]
ActivationName = Literal["relu", "relu6", "sigmoid", "tanh", "gelu", "hardswish", "softmax"]

ACTIVATIONS: tuple[str, ...] = get_args(ActivationName)


def pair(value: int | Pair | list[int]) -> Pair:
    """An int or a 2-sequence as an (h, w) pair."""
    if isinstance(value, int):
        return (value, value)
    h, w = value
    return (int(h), int(w))


@dataclass(frozen=True)
class Layer:
    """Base class: a named node that consumes the outputs of ``inputs`` (layer names)."""

    name: str
    inputs: tuple[str, ...] = ()

    __pydantic_config__ = ConfigDict(extra="forbid")
    kind: ClassVar[str] = "layer"
    arity: ClassVar[tuple[int, int]] = (1, 1)   # allowed (min, max) number of inputs
    weighted: ClassVar[bool] = False            # holds a weight matrix (crossbar-mappable)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        """Shape of this layer's output given its inputs' shapes; ValueError if they do not fit."""
        return shapes[0]

    def macs(self, shapes: list[Shape]) -> int:
        """Multiply-accumulates per image."""
        return 0

    def params(self) -> dict:
        """Parameters for reports and YAML (everything but name and inputs)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("name", "inputs")}


@dataclass(frozen=True)
class Input(Layer):
    shape: tuple[PositiveInt, PositiveInt, PositiveInt] = (1, 1, 1)
    kind: ClassVar[str] = "input"
    arity: ClassVar[tuple[int, int]] = (0, 0)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return self.shape


@dataclass(frozen=True)
class Conv2d(Layer):
    """2-D convolution; ``groups == in_channels == out_channels`` is a depthwise conv."""

    out_channels: PositiveInt = 1
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    padding: Padding = (0, 0)
    dilation: Pair = (1, 1)
    groups: PositiveInt = 1
    activation: ActivationName | None = None
    kind: ClassVar[str] = "conv2d"
    weighted: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        cin, h, w = shapes[0]
        if cin % self.groups or self.out_channels % self.groups:
            raise ValueError(f"groups={self.groups} must divide the {cin} input channels and "
                             f"the {self.out_channels} output channels (input shape "
                             f"{shapes[0]})")
        return (self.out_channels,
                *_window_output(h, w, self.kernel, self.stride, self.padding, self.dilation,
                                "kernel"))

    def macs(self, shapes: list[Shape]) -> int:
        cin = shapes[0][0]
        _, ho, wo = self.output_shape(shapes)
        return ho * wo * self.out_channels * (cin // self.groups) * self.kernel[0] * self.kernel[1]

    def matrix(self, shapes: list[Shape]) -> tuple[int, int, int]:
        """(K, N, groups): each group multiplies a K-vector by a K x N weight matrix."""
        cin = shapes[0][0]
        return (cin // self.groups * self.kernel[0] * self.kernel[1],
                self.out_channels // self.groups, self.groups)

    @property
    def depthwise(self) -> bool:
        return self.groups > 1 and self.out_channels == self.groups


@dataclass(frozen=True)
class Linear(Layer):
    """Fully connected layer applied to every (height, width) position's channel vector."""

    out_features: PositiveInt = 1
    activation: ActivationName | None = None
    kind: ClassVar[str] = "linear"
    weighted: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        _, h, w = shapes[0]
        return (self.out_features, h, w)

    def macs(self, shapes: list[Shape]) -> int:
        c, h, w = shapes[0]
        return h * w * c * self.out_features

    def matrix(self, shapes: list[Shape]) -> tuple[int, int, int]:
        return (shapes[0][0], self.out_features, 1)


@dataclass(frozen=True)
class Pool2d(Layer):
    """Max or average pooling over windows of one channel."""

    function: Literal["max", "avg"] = "max"
    kernel: Pair = (2, 2)
    stride: Pair = (2, 2)
    padding: Padding = (0, 0)
    kind: ClassVar[str] = "pool2d"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        return (c, *_window_output(h, w, self.kernel, self.stride, self.padding, (1, 1),
                                   "window"))


@dataclass(frozen=True)
class GlobalAvgPool(Layer):
    """Average over all positions: (C, H, W) -> (C, 1, 1)."""

    kind: ClassVar[str] = "global_avg_pool"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return (shapes[0][0], 1, 1)


@dataclass(frozen=True)
class Elementwise(Layer):
    """Elementwise add or multiply of two or more tensors of the same shape."""

    function: Literal["add", "mul"] = "add"
    activation: ActivationName | None = None
    kind: ClassVar[str] = "elementwise"
    arity: ClassVar[tuple[int, int]] = (2, 64)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"inputs must have equal shapes, got {', '.join(map(str, shapes))}")
        return shapes[0]


@dataclass(frozen=True)
class Activation(Layer):
    function: ActivationName = "relu"
    kind: ClassVar[str] = "activation"


@dataclass(frozen=True)
class Flatten(Layer):
    """(C, H, W) -> (C·H·W, 1, 1); moves no data (a view of the buffer)."""

    kind: ClassVar[str] = "flatten"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        return (c * h * w, 1, 1)


@dataclass(frozen=True)
class Concat(Layer):
    """Concatenation along channels; moves no data (producers write adjacent buffer regions)."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[tuple[int, int]] = (2, 64)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if any(s[1:] != shapes[0][1:] for s in shapes):
            raise ValueError("inputs must have equal height and width, got "
                             + ", ".join(map(str, shapes)))
        return (sum(s[0] for s in shapes), shapes[0][1], shapes[0][2])


LAYER_TYPES: dict[str, type[Layer]] = {
    cls.kind: cls for cls in (Input, Conv2d, Linear, Pool2d, GlobalAvgPool, Elementwise,
                              Activation, Flatten, Concat)
}


def _window_output(h: int, w: int, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                   what: str) -> tuple[int, int]:
    """Output height and width of a sliding window (PyTorch's formula, floor rounding)."""
    out = tuple(math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1
                for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"a {kernel[0]}x{kernel[1]} {what} does not fit the {h}x{w} input")
    return out
