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

from accelsim.arith import window_output
from accelsim.spec.validate import ActivationName, NonNegativeInt, Number, PositiveInt

Shape = tuple[int, int, int]
# Field types are annotated for pydantic, which validates layers read from YAML or ONNX.
Pair = tuple[PositiveInt, PositiveInt]
Padding = tuple[NonNegativeInt, NonNegativeInt]
ConstantKind = Literal["none", "scalar", "channel", "full"]

ACTIVATIONS: tuple[str, ...] = get_args(ActivationName)
Epsilon = Number(0, 1, open_low=True)


# Fields that are (h, w) pairs; one int stands for a square pair, in YAML and in Python.
PAIR_FIELDS = ("kernel", "stride", "padding", "dilation", "scale")


class _Pairs:
    """A layer with (h, w) pairs, built in Python: one int stands for a square pair."""

    def __post_init__(self) -> None:
        for name in PAIR_FIELDS:
            value = getattr(self, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, name, (value, value))


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
    constants: ClassVar[bool] = False           # holds constant operands (scale, shift, gamma)

    @property
    def aliases_input(self) -> bool:
        """True when the output is a view of the input storage (no data moves)."""
        return False

    def output_shape(self, shapes: list[Shape]) -> Shape:
        """Shape of this layer's output given its inputs' shapes; ValueError if they do not fit."""
        return shapes[0]

    def macs(self, shapes: list[Shape]) -> int:
        """Multiply-accumulates per image."""
        return 0

    def matrix(self, shapes: list[Shape]) -> tuple[int, int, int]:
        """(K, N, groups) of a weighted layer: each group multiplies K-vectors by K x N."""
        raise TypeError(f"a {self.kind} layer has no weight matrix")

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
class Conv2d(_Pairs, Layer):
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
        if self.groups < 1 or cin % self.groups or self.out_channels % self.groups:
            raise ValueError(f"groups={self.groups} must divide the {cin} input channels and "
                             f"the {self.out_channels} output channels (input shape "
                             f"{shapes[0]})")
        return (self.out_channels,
                *window_output(h, w, self.kernel, self.stride, self.padding, self.dilation,
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
class Pool2d(_Pairs, Layer):
    """Max or average pooling over windows of one channel.

    ``ceil_mode``: the output size rounds up, so a last, partial window covers the rest of
    the input (the last window still starts inside the input or its padding: PyTorch's and
    ONNX's rule). ``count_include_pad``: an average divides by the window's size including
    the padding (true) or by the input values inside it (false); the part of a ceil-mode
    window beyond the padding is never counted."""

    function: Literal["max", "avg"] = "max"
    kernel: Pair = (2, 2)
    stride: Pair = (2, 2)
    padding: Padding = (0, 0)
    ceil_mode: bool = False
    count_include_pad: bool = True
    kind: ClassVar[str] = "pool2d"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        if not self.ceil_mode:
            return (c, *window_output(h, w, self.kernel, self.stride, self.padding, (1, 1),
                                       "window"))
        out = []
        for size, k, s, p in zip((h, w), self.kernel, self.stride, self.padding):
            n = -(-(size + 2 * p - k) // s) + 1
            if (n - 1) * s >= size + p:           # the last window would start in the padding
                n -= 1
            if n < 1:
                raise ValueError(f"a {self.kernel[0]}x{self.kernel[1]} window does not fit "
                                 f"the {h}x{w} input")
            out.append(n)
        return (c, *out)


@dataclass(frozen=True)
class GlobalAvgPool(Layer):
    """Average over all positions: (C, H, W) -> (C, 1, 1)."""

    kind: ClassVar[str] = "global_avg_pool"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return (shapes[0][0], 1, 1)


@dataclass(frozen=True)
class Elementwise(Layer):
    """An elementwise function of two or more tensors (add, multiply, max and min fold over
    any number; the others take two, "where" a condition and two). Comparisons and logic
    give 1.0 or 0.0. Fewer channels that divide the output's repeat along them (an attention
    mask shared by every head). A tensor with 1 channel or
    1 row or column broadcasts over that axis, as in numpy (a squeeze-excite scale of
    (C, 1, 1) times a (C, H, W) feature map)."""

    function: Literal["add", "sub", "mul", "div", "pow", "mod", "fmod", "max", "min", "equal",
                      "greater", "greater_equal", "less", "less_equal", "and", "or", "xor",
                      "where"] = "add"
    activation: ActivationName | None = None
    kind: ClassVar[str] = "elementwise"
    arity: ClassVar[tuple[int, int]] = (2, 64)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if self.function == "where" and len(shapes) != 3:
            raise ValueError("where takes a condition and two operands")
        if self.function not in ("add", "mul", "max", "min") and len(shapes) != 2 \
                and self.function != "where":
            raise ValueError(f"{self.function} takes two operands")
        out = tuple(max(sizes) for sizes in zip(*shapes))
        if any(s not in (1, o) for shape in shapes for s, o in zip(shape[1:], out[1:])) or any(
                shape[0] == 0 or out[0] % shape[0] for shape in shapes):
            raise ValueError(f"input shapes {', '.join(map(str, shapes))} do not broadcast "
                             "(each axis must be equal or 1; channels may also divide the "
                             "output's, and repeat)")
        return out


@dataclass(frozen=True)
class Activation(Layer):
    """An activation function applied elementwise; ``slope`` is leaky_relu's slope below
    zero (the other functions have no parameter)."""

    function: ActivationName = "relu"
    slope: float = 0.01
    kind: ClassVar[str] = "activation"


@dataclass(frozen=True)
class Flatten(Layer):
    """(C, H, W) -> (C·H·W, 1, 1); moves no data (a view of the buffer)."""

    kind: ClassVar[str] = "flatten"
    aliases_input: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        return (c * h * w, 1, 1)


@dataclass(frozen=True)
class Concat(Layer):
    """Concatenation along channels or along height; moves no data (producers write adjacent
    buffer regions)."""

    axis: Literal["channels", "height"] = "channels"
    kind: ClassVar[str] = "concat"
    arity: ClassVar[tuple[int, int]] = (2, 64)
    aliases_input: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if self.axis == "channels":
            if any(s[1:] != shapes[0][1:] for s in shapes):
                raise ValueError("inputs must have equal height and width, got "
                                 + ", ".join(map(str, shapes)))
            return (sum(s[0] for s in shapes), shapes[0][1], shapes[0][2])
        if any((s[0], s[2]) != (shapes[0][0], shapes[0][2]) for s in shapes):
            raise ValueError("inputs must have equal channels and width, got "
                             + ", ".join(map(str, shapes)))
        return (shapes[0][0], sum(s[1] for s in shapes), shapes[0][2])


@dataclass(frozen=True)
class Slice(Layer):
    """Channels or rows [start, stop) of the input (a view: no data moves)."""

    axis: Literal["channels", "height"] = "height"
    start: NonNegativeInt = 0
    stop: PositiveInt = 1
    kind: ClassVar[str] = "slice"
    aliases_input: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        size = c if self.axis == "channels" else h
        if not self.start < self.stop <= size:
            raise ValueError(f"slice [{self.start}, {self.stop}) does not fit the {size} "
                             f"{self.axis} of {shapes[0]}")
        if self.axis == "channels":
            return (self.stop - self.start, h, w)
        return (c, self.stop - self.start, w)


@dataclass(frozen=True)
class MatMul(Layer):
    """Product of two activations (attention), with no weights to keep in place.

    The first input holds, for each of ``heads`` heads, M = height·width vectors of K channels:
    shape (heads·K, H, W). With ``transpose_b`` the second input holds N vectors of the same K
    channels (keys: Q·Kᵀ), shape (heads·K, N, 1); without, it holds K vectors of N channels
    (values: P·V), shape (heads·N, K, 1). The output is (heads·N, H, W): per head and position,
    N values.
    """

    heads: PositiveInt = 1
    transpose_b: bool = False
    kind: ClassVar[str] = "matmul"
    arity: ClassVar[tuple[int, int]] = (2, 2)

    def dims(self, shapes: list[Shape]) -> tuple[int, int, int]:
        """(M, K, N) of each head's product."""
        (ca, ha, wa), (cb, hb, wb) = shapes
        h = self.heads
        if ca % h or cb % h:
            raise ValueError(f"heads={h} must divide both inputs' channels, got {ca} and {cb}")
        k = ca // h
        if self.transpose_b:
            if cb // h != k:
                raise ValueError(f"the second input has {cb // h} channels per head, the first "
                                 f"{k} (with transpose_b both hold vectors of K channels)")
            return ha * wa, k, hb * wb
        if hb * wb != k:
            raise ValueError(f"the second input holds {hb * wb} vectors, but the first has "
                             f"{k} channels per head (without transpose_b they must match)")
        return ha * wa, k, cb // h

    def output_shape(self, shapes: list[Shape]) -> Shape:
        _, _, n = self.dims(shapes)
        return (self.heads * n, shapes[0][1], shapes[0][2])

    def macs(self, shapes: list[Shape]) -> int:
        m, k, n = self.dims(shapes)
        return self.heads * m * k * n


@dataclass(frozen=True)
class Reshape(Layer):
    """Reinterpret the input: view its data as ``source`` (row-major), permute the axes by
    ``perm`` and read the result as ``shape``. Without a real permutation it is a view and moves
    no data; otherwise every element is read and written once (a transpose in the buffer)."""

    source: tuple[PositiveInt, ...] = (1,)
    perm: tuple[NonNegativeInt, ...] = (0,)
    shape: tuple[PositiveInt, PositiveInt, PositiveInt] = (1, 1, 1)
    kind: ClassVar[str] = "reshape"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        size = math.prod(shapes[0])
        if sorted(self.perm) != list(range(len(self.source))):
            raise ValueError(f"perm {self.perm} is not a permutation of the {len(self.source)} "
                             "source axes")
        if math.prod(self.source) != size or math.prod(self.shape) != size:
            raise ValueError(f"cannot reshape {shapes[0]} ({size} elements) through "
                             f"{self.source} to {self.shape}")
        return self.shape

    @property
    def aliases_input(self) -> bool:
        moved = [axis for axis in self.perm if self.source[axis] > 1]
        return moved == sorted(moved)


@dataclass(frozen=True)
class Affine(Layer):
    """y = x·scale + shift, elementwise, with constants that are absent, one scalar, one per
    channel or one per element (held in the workload's weights and biases)."""

    scale: ConstantKind = "none"
    shift: ConstantKind = "none"
    activation: ActivationName | None = None
    kind: ClassVar[str] = "affine"
    constants: ClassVar[bool] = True

    def constant_shape(self, which: str, shape: Shape) -> tuple[int, int, int] | None:
        """Shape of the scale or shift array for an output of ``shape`` (None if absent)."""
        kind = self.scale if which == "scale" else self.shift
        return {"none": None, "scalar": (1, 1, 1), "channel": (shape[0], 1, 1),
                "full": tuple(shape)}[kind]


@dataclass(frozen=True)
class LayerNorm(Layer):
    """Normalize each vector's channels (in ``groups`` equal groups) to zero mean and unit
    variance, then scale by gamma and add beta (per channel, in weights and biases).
    ``center: false``: an RMS norm (T5, LLaMA), the mean neither taken nor subtracted."""

    groups: PositiveInt = 1
    epsilon: Epsilon = 1e-5
    center: bool = True
    kind: ClassVar[str] = "layer_norm"
    constants: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if shapes[0][0] % self.groups:
            raise ValueError(f"groups={self.groups} must divide the {shapes[0][0]} channels")
        return shapes[0]

    def constant_shape(self, which: str, shape: Shape) -> tuple[int, ...]:
        return (shape[0],)


@dataclass(frozen=True)
class Softmax(Layer):
    """Softmax over each vector's channels, in ``groups`` equal groups (one per head)."""

    groups: PositiveInt = 1
    kind: ClassVar[str] = "softmax"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if shapes[0][0] % self.groups:
            raise ValueError(f"groups={self.groups} must divide the {shapes[0][0]} channels")
        return shapes[0]


@dataclass(frozen=True)
class GenericOp(Layer):
    """An operation accelsim does not model, counted as ``ops_per_element`` digital operations
    per output element, reading its inputs and writing its output once. Value mode cannot run it.
    """

    op_type: str = "op"
    shape: tuple[PositiveInt, PositiveInt, PositiveInt] = (1, 1, 1)
    ops_per_element: NonNegativeInt = 1
    kind: ClassVar[str] = "generic"
    arity: ClassVar[tuple[int, int]] = (1, 64)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return self.shape


@dataclass(frozen=True)
class Upsample(_Pairs, Layer):
    """Resizing by whole factors ``scale`` (a U-Net's 2x) or to any ``size`` [height, width]
    instead: output positions map to input ones by ONNX's ``coordinates`` rule; "nearest"
    copies the value there (by ``nearest``), "linear" and "cubic" interpolate around it."""

    scale: Pair = (2, 2)
    size: Pair | None = None
    mode: Literal["nearest", "linear", "cubic"] = "nearest"
    coordinates: Literal["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                         "tf_half_pixel_for_nn"] = "half_pixel"
    nearest: Literal["round_prefer_floor", "round_prefer_ceil", "floor",
                     "ceil"] = "round_prefer_floor"
    kind: ClassVar[str] = "upsample"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        return (c, *self.size) if self.size else (c, h * self.scale[0], w * self.scale[1])


@dataclass(frozen=True)
class Constant(Input):
    """A constant tensor the network reads like an input (a ViT's class token, concatenated
    before the patches): loaded from DRAM into the buffer; its values, when known, are in
    ``weights`` (shaped like the output)."""

    kind: ClassVar[str] = "constant"
    constants: ClassVar[bool] = True

    def constant_shape(self, which: str, shape: Shape) -> tuple[int, int, int] | None:
        return tuple(shape) if which == "scale" else None


@dataclass(frozen=True)
class Embedding(Layer):
    """A table lookup: each input element is a row index into a (rows, dim) table (in
    ``weights``); each index gives one output vector of ``dim`` channels, in the input's
    row-major order (token embeddings)."""

    rows: PositiveInt = 1
    dim: PositiveInt = 1
    kind: ClassVar[str] = "embedding"
    constants: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return (self.dim, math.prod(shapes[0]), 1)

    def constant_shape(self, which: str, shape: Shape) -> tuple[int, int] | None:
        return (self.rows, self.dim) if which == "scale" else None


@dataclass(frozen=True)
class Reduce(Layer):
    """A reduction over each vector's channels, in ``groups`` equal groups: their maximum,
    minimum, sum, mean, the index of the maximum or minimum (a classifier's label, the first
    on ties), or the running sum within each group ("cumsum": as many channels out as in)."""

    function: Literal["max", "min", "sum", "mean", "argmax", "argmin", "cumsum"] = "max"
    groups: PositiveInt = 1
    kind: ClassVar[str] = "reduce"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        if c % self.groups:
            raise ValueError(f"groups={self.groups} must divide the {c} channels")
        return (c if self.function == "cumsum" else self.groups, h, w)


@dataclass(frozen=True)
class Take(Layer):
    """``count`` channels or rows of the input picked by index (in ``weights``: a strided
    slice, or a gather with constant indices, which may repeat): each output vector or
    channel is a copy of the one indexed."""

    axis: Literal["channels", "height"] = "height"
    count: PositiveInt = 1
    kind: ClassVar[str] = "take"
    constants: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        return (self.count, h, w) if self.axis == "channels" else (c, self.count, w)

    def constant_shape(self, which: str, shape: Shape) -> tuple[int] | None:
        return (self.count,) if which == "scale" else None


@dataclass(frozen=True)
class Col2Im(Layer):
    """The second half of a transposed convolution: each input position holds, per output
    channel, a kernel's worth of contributions (out_channels · kh · kw channels, from a
    ``linear`` layer of the input channels); they are added into the output image at
    stride ``stride`` (dilated by ``dilation``), then cropped by ``padding`` (top, left,
    bottom, right) and widened by ``output_padding``. A per-output-channel bias, if any, is
    in ``biases``."""

    out_channels: PositiveInt = 1
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    padding: tuple[NonNegativeInt, NonNegativeInt, NonNegativeInt, NonNegativeInt] = (0, 0, 0,
                                                                                       0)
    output_padding: Padding = (0, 0)
    dilation: Pair = (1, 1)
    kind: ClassVar[str] = "col2im"
    constants: ClassVar[bool] = True

    def full_size(self, h: int, w: int) -> tuple[int, int]:
        """Output height and width before cropping."""
        return tuple((size - 1) * s + d * (k - 1) + 1 + op for size, s, d, k, op in zip(
            (h, w), self.stride, self.dilation, self.kernel, self.output_padding))

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        if c != self.out_channels * self.kernel[0] * self.kernel[1]:
            raise ValueError(f"needs out_channels x kernel = "
                             f"{self.out_channels * self.kernel[0] * self.kernel[1]} input "
                             f"channels, got {c}")
        fh, fw = self.full_size(h, w)
        top, left, bottom, right = self.padding
        if fh - top - bottom < 1 or fw - left - right < 1:
            raise ValueError(f"padding {self.padding} crops the whole {fh}x{fw} output")
        return (self.out_channels, fh - top - bottom, fw - left - right)

    def constant_shape(self, which: str, shape: Shape) -> tuple[int, int, int] | None:
        return (shape[0], 1, 1) if which == "shift" else None


@dataclass(frozen=True)
class LRN(Layer):
    """Local response normalization across channels (AlexNet, GoogLeNet v1): each value
    divided by (bias + alpha / size · the sum of squares of the ``size`` channels around
    it) ** beta."""

    size: PositiveInt = 5
    alpha: float = 1e-4
    beta: float = 0.75
    bias: float = 1.0
    kind: ClassVar[str] = "lrn"


@dataclass(frozen=True)
class Pad2d(Layer):
    """Padding of an image's height and width: (top, left, bottom, right) rows and columns
    of zeros (a Pad node, or the uneven part of a conv's SAME padding) or of the lowest
    value (the uneven part of a max pool's). A view: it moves no data and costs nothing, its
    consumer's reads supplying the padding."""

    pads: tuple[NonNegativeInt, NonNegativeInt, NonNegativeInt, NonNegativeInt] = (0, 0, 0, 0)
    fill: Literal["zero", "lowest"] = "zero"    # lowest: -inf, before a max pool
    kind: ClassVar[str] = "pad2d"
    # A view, as a conv's own padding is (as a copy, a Pad before a 3 x 3 conv of 64 channels
    # on 32 x 32 cost 22 % more energy on eyeriss-like than the conv padding itself)
    aliases_input: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        c, h, w = shapes[0]
        top, left, bottom, right = self.pads
        return (c, h + top + bottom, w + left + right)


LAYER_TYPES: dict[str, type[Layer]] = {
    cls.kind: cls for cls in (Input, Conv2d, Linear, Pool2d, GlobalAvgPool, Elementwise,
                              Activation, Flatten, Concat, Slice, MatMul, Reshape, Affine,
                              LayerNorm, Softmax, Upsample, GenericOp, Constant, Embedding,
                              Reduce, Pad2d, Take, Col2Im, LRN)
}
