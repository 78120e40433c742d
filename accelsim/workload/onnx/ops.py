"""The ONNX operators accelsim imports, one handler each (op_<OpType>), as a mixin of the
importer: each turns a node into layers, weights and the layout of its output."""

from __future__ import annotations

import math

import numpy as np

from accelsim.workload.activations import SELU_ALPHA, SELU_GAMMA
from accelsim.workload.layers import (
    Activation,
    Affine,
    Concat,
    Constant,
    Conv2d,
    LayerNorm,
    Linear,
    Pad2d,
    Slice,
    Softmax,
    Upsample,
)
from accelsim.workload.onnx.arithmetic import ArithmeticOps
from accelsim.workload.onnx.einsum import EinsumOps
from accelsim.workload.onnx.layouts import (
    Tensor,
    accelsim_shape,
    axis_layout,
    axis_size,
    channel_axes,
    grouped_layout,
    in_same_order,
    onnx_shape,
    rebatched,
    reshape_target,
    transposed,
    unbatched,
)
from accelsim.workload.onnx.pooling import PoolingOps
from accelsim.workload.onnx.reading import FLOAT_TYPES, INTEGER_TYPES
from accelsim.workload.onnx.recurrent import RecurrentOps
from accelsim.workload.onnx.structural import StructuralOps
from accelsim.workload.ops import ONNX_ACTIVATIONS
from accelsim.workload.resize import CUBIC_A


class NodeOps(ArithmeticOps, StructuralOps, RecurrentOps, EinsumOps, PoolingOps):
    """Operator handlers; the importer provides error(), act(), const(), attrs(), add(),
    materialize() and the tensor tables they use."""

    def op_pass(self, node) -> None:
        self.tensors[node.output[0]] = self.act(node)
        if node.input[0] in self.quantized:
            self.quantized.add(node.output[0])

    def op_CastLike(self, node) -> None:
        """A Cast to the element type of the second input (function bodies use it to match
        a constant to the activation's type)."""
        from onnx import helper
        target = self.element_types.get(node.input[1])
        if target is None:
            raise self.error(node, f"the element type of '{node.input[1]}' is not known")
        self.node(helper.make_node("Cast", [node.input[0]], list(node.output),
                                   name=node.name, to=int(target)))

    def op_Cast(self, node) -> None:
        """Free between floating-point types (it changes no value accelsim models); a cast
        to integers or booleans changes the data, so it is not a pass-through."""
        target = int(self.attrs(node).get("to", 0))
        if target in FLOAT_TYPES:
            return self.op_pass(node)
        if target == 9:                                    # BOOL: nonzero is true
            return self.activation(node, "to_bool")
        if target in INTEGER_TYPES:                        # truncated toward zero
            return self.activation(node, "to_int")
        return self.unknown(node, f"Cast of an activation to ONNX element type {target} "
                            "is not supported")

    def op_reshape(self, node) -> None:
        """Reshape, Flatten, Squeeze, Unsqueeze: a new view of each image's data. The batch
        axis is an ordinary axis: it may merge into the first axis (one image's rows stay a
        contiguous block of it) or, for one image, vanish."""
        x = self.act(node)
        target = self.const(node, 1)
        if (node.output[0] not in self.inferred and node.op_type == "Reshape"
                and target is not None):
            self.inferred[node.output[0]] = reshape_target(onnx_shape(x, self.batch), target)
        full_out = self.full_shape(node.output[0], node)
        batched = bool(full_out) and full_out[0] == self.batch and (
            len(full_out) > 1 or self.batch == 1)
        out = self.per_image(node.output[0], node, batched)
        if math.prod(out) != math.prod(x.shape):
            raise self.error(node, f"reshapes {list(x.shape)} to {list(out)}")
        self.tensors[node.output[0]] = rebatched(
            self.viewed(x, out, batched, node.name or "reshape"))

    def op_Transpose(self, node) -> None:
        x = self.act(node)
        rank = len(x.shape) + x.batched
        order = [int(a) for a in self.attrs(node).get("perm", range(rank - 1, -1, -1))]
        if sorted(order) != list(range(rank)):
            raise self.error(node, f"perm {order} is not an order of the input's {rank} axes")
        if order[0] != 0:
            if self.batch > 1:                # held until the batch is first again
                return self.move_batch(node, order)
            x = unbatched(x)                  # one image: the batch axis is an ordinary one
        elif x.batched:
            order = [a - 1 for a in order[1:]]
        self.tensors[node.output[0]] = rebatched(transposed(x, order))

    def image(self, node, x: Tensor) -> str:
        if len(x.shape) != 3 or not x.batched:
            raise self.error(node, f"needs an image (N, C, H, W), got per-image shape "
                             f"{list(x.shape)}")
        return self.materialize(x, (0, 1, 2), 1, node.name or node.op_type)

    def window(self, node, attrs: dict, kernel) -> tuple:
        """Symmetric (height, width) padding of a pooling window."""
        pads = self.pads(node, attrs, kernel)
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise self.error(node, f"asymmetric padding {pads} of a pooling window is not "
                             "supported")
        return (pads[0], pads[1])

    def pads(self, node, attrs: dict, kernel) -> list[int]:
        """(top, left, bottom, right) padding, auto_pad worked out with the dilation."""
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        auto = attrs.get("auto_pad", "NOTSET")
        if auto not in ("NOTSET", "VALID"):
            x = self.act(node).shape
            out = self.per_image(node.output[0], node)
            if len(x) == 2:                  # one dimension, as a column of height
                x, out = (*x, 1), (*out, 1)
            strides = attrs.get("strides", [1, 1])
            dilations = attrs.get("dilations", [1, 1])
            pads = []
            for size, o, k, s, d in zip(x[1:], out[1:], kernel, strides, dilations):
                reach = (k - 1) * d + 1              # the dilated kernel's extent
                total = max(0, (o - 1) * s + reach - size)
                small, large = total // 2, total - total // 2
                pads.append((large, small) if auto == "SAME_LOWER" else (small, large))
            pads = [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]
        if len(pads) != 4 or min(pads) < 0:
            raise self.error(node, f"padding {pads} is not four sizes of at least 0")
        return [int(p) for p in pads]

    def op_Conv(self, node) -> None:
        x, weight, bias = self.act(node), self.const(node, 1), self.setting(node, 2)
        if weight is None:
            raise self.error(node, "the weights must be a constant (initializer)")
        attrs = self.attrs(node)
        one_d = weight.ndim == 3 and len(x.shape) == 2
        if one_d:                                # the length as the height
            x, weight, attrs = self.as_column(x, weight, attrs)
        if weight.ndim != 4:
            raise self.error(node, f"only 1-D and 2-D convolutions are supported (weight "
                             f"{list(weight.shape)})")
        kernel = tuple(int(k) for k in attrs.get("kernel_shape", weight.shape[2:]))
        source = self.image(node, x)
        top, left, bottom, right = self.pads(node, attrs, kernel)
        padding = (min(top, bottom), min(left, right))
        if (top, left) != (bottom, right):      # the uneven part as zero rows and columns
            source = self.add(Pad2d(self.unique(f"{self.label(node)}.pad"), (source,),
                                    pads=(top - padding[0], left - padding[1],
                                          bottom - padding[0], right - padding[1])))
        layer = Conv2d(self.label(node), (source,), out_channels=weight.shape[0],
                       kernel=kernel, stride=tuple(attrs.get("strides", (1, 1))),
                       padding=padding,
                       dilation=tuple(attrs.get("dilations", (1, 1))),
                       groups=int(attrs.get("group", 1)))
        name = self.add(layer)
        self.weights[name] = weight
        if bias is not None:
            self.biases[name] = bias.reshape(-1)
        out = self.shape_of[name]
        if one_d:
            self.put(node.output[0], name, out[:2], (0, 1))
        else:
            self.put(node.output[0], name, out, (0, 1, 2))

    @staticmethod
    def as_column(x: Tensor, weight: np.ndarray, attrs: dict) -> tuple:
        """A 1-D convolution's input (C, L), weight (O, C/g, K) and attributes as a 2-D
        one's over a (C, L, 1) image: a K x 1 kernel striding down the height."""
        x = Tensor(x.layer, (*x.shape, 1), (*x.perm, 2), x.batched)
        attrs = dict(attrs)
        for key in ("kernel_shape", "strides", "dilations"):
            if key in attrs:
                attrs[key] = (*attrs[key], 1)
        if "pads" in attrs:
            begin, end = attrs["pads"]
            attrs["pads"] = [begin, 0, end, 0]
        return x, weight[..., None], attrs

    def linear(self, node, x: Tensor, weight: np.ndarray, bias) -> None:
        """y = x @ weight.T + bias over the last axis."""
        rank = len(x.shape)
        if rank == 0 or x.shape[-1] != weight.shape[1]:
            raise self.error(node, f"multiplies {list(x.shape)} by a {weight.shape[1]}-row "
                             "matrix")
        perm = (rank - 1, *range(rank - 1))
        source = self.materialize(x, perm, 1, node.name or "linear")
        name = self.add(Linear(self.label(node), (source,), out_features=weight.shape[0]))
        self.weights[name] = weight
        if bias is not None:
            self.biases[name] = np.broadcast_to(bias.reshape(-1) if bias.size > 1 else bias,
                                                (weight.shape[0],)).astype(np.float64)
        self.put(node.output[0], name, (*x.shape[:-1], weight.shape[0]), perm)

    def op_Gemm(self, node) -> None:
        attrs = self.attrs(node)
        x, b, c = self.act(node), self.const(node, 1), self.setting(node, 2)
        if b is None or attrs.get("transA", 0):
            raise self.error(node, "needs a constant B and transA=0")
        if b.ndim != 2:
            raise self.error(node, f"B must be a matrix, got shape {list(b.shape)}")
        weight = b if attrs.get("transB", 0) else b.T
        if attrs.get("alpha", 1.0) != 1.0:
            weight = attrs["alpha"] * weight
        bias = None if c is None else attrs.get("beta", 1.0) * c
        if bias is not None and bias.size not in (1, weight.shape[0]):
            raise self.error(node, f"bias of shape {list(c.shape)} is not per output")
        self.linear(node, x, weight, bias)

    def op_MatMul(self, node) -> None:
        b = self.const(node, 1)
        if b is not None:
            if b.ndim < 2:
                raise self.error(node, "a constant right operand must be a matrix or a "
                                 "stack of matrices")
            if b.ndim > 2:
                return self.times_constant(node, self.act(node), b)
            return self.linear(node, self.act(node), b.T, None)
        if self.const(node, 0) is not None:
            return self.constant_times(node, self.const(node, 0), self.act(node, 1))
        return self.matmul(node, self.act(node, 0), self.act(node, 1))

    def op_BatchNormalization(self, node) -> None:
        if self.attrs(node).get("training_mode", 0):
            raise self.error(node, "training_mode=1 normalizes with the batch's own "
                             "statistics; export the model in inference mode (model.eval())")
        x = self.act(node)
        gamma, beta, mean, var = (self.setting(node, i) for i in range(1, 5))
        if any(v is None for v in (gamma, beta, mean, var)):
            raise self.error(node, "scale, bias, mean and variance must be constants")
        scale = gamma / np.sqrt(var + self.attrs(node).get("epsilon", 1e-5))
        shift = beta - mean * scale
        # ONNX's axis 1: the image's first axis, or its second where the batch is merged
        # into the first (LeViT's BatchNorm1d over (batch x tokens, channels))
        axis = self.axis(node, 1, x)
        if x.shape[axis] != np.size(scale):
            raise self.error(node, f"{np.size(scale)} statistics for {x.shape[axis]} "
                             "channels")
        producer = self.layers[x.layer]
        if (isinstance(producer, (Conv2d, Linear)) and producer.activation is None
                and self.single_use(node.input[0]) and x.perm[0] == axis):
            weight = self.weights[x.layer]
            self.weights[x.layer] = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
            self.biases[x.layer] = self.biases.get(x.layer, 0.0) * scale + shift
            self.tensors[node.output[0]] = x
            return
        self.channel_affine(node, x, scale, shift, axis)

    def channel_affine(self, node, x: Tensor, scale, shift, axis: int = 0) -> None:
        """Per-channel (along ``axis`` of the image) scale and shift."""
        rank = len(x.shape)
        perm = (axis, *(a for a in range(rank) if a != axis))
        source = self.materialize(x, perm, 1, node.name or "affine")
        shape = self.shape_of[source]
        layer = Affine(self.label(node), (source,), scale="channel", shift="channel")
        name = self.add(layer)
        self.weights[name] = np.asarray(scale, dtype=np.float64).reshape(shape[0], 1, 1)
        self.biases[name] = np.asarray(shift, dtype=np.float64).reshape(shape[0], 1, 1)
        self.put(node.output[0], name, x.shape, perm)

    def op_activation(self, node) -> None:
        self.activation(node, ONNX_ACTIVATIONS[node.op_type])

    def op_Clip(self, node) -> None:
        attrs = self.attrs(node)
        low = self.setting(node, 1)
        high = self.setting(node, 2)
        low = float(low) if low is not None else attrs.get("min", -np.inf)
        high = float(high) if high is not None else attrs.get("max", np.inf)
        if low == 0 and high == 6:
            return self.activation(node, "relu6")
        if low == 0 and high == np.inf:
            return self.activation(node, "relu")
        # any other range: the maximum with the low bound, then the minimum with the high
        x, out = node.input[0], node.output[0]
        for function, bound, stem in (("max", low, "low"), ("min", high, "high")):
            if np.isfinite(bound):
                self.consts[f"{out}#{stem}"] = np.asarray(bound, dtype=np.float64)
                target = out if stem == "high" or not np.isfinite(high) else f"{out}#clipped"
                x = self.derived(node, "Max" if function == "max" else "Min",
                                 [x, f"{out}#{stem}"], target, function)
        if x == node.input[0]:
            self.tensors[out] = self.act(node)
        return None

    def derived(self, node, op_type: str, inputs: list[str], output: str,
                function: str) -> str:
        """An elementwise step of an operator built from several (Clip, PRelu): a node of
        ``op_type`` made here, its output shaped as the original node's input."""
        from onnx import helper
        self.inferred.setdefault(output, self.full_shape(node.input[0], node))
        step = helper.make_node(op_type, inputs, [output], name=f"{node.name or output}."
                                f"{function}")
        self.pointwise(step, function)
        return output

    def op_PRelu(self, node) -> None:
        """x, or slope · x below zero: one slope is a leaky relu; per-channel slopes a
        compare, a multiply and a select."""
        slope = self.const(node, 1)
        if slope is None:
            return self.unknown(node, "PRelu with a slope computed by the network is not "
                                "supported")
        if np.asarray(slope).size == 1:
            x = self.act(node)
            name = self.add(Activation(self.label(node), (x.layer,), function="leaky_relu",
                                       slope=float(np.asarray(slope).reshape(-1)[0])))
            self.put(node.output[0], name, x.shape, x.perm, like=x)
            return None
        out = node.output[0]
        self.consts[f"{out}#zero"] = np.zeros(())
        negative = self.derived(node, "Less", [node.input[0], f"{out}#zero"],
                                f"{out}#negative", "less")
        scaled = self.derived(node, "Mul", [node.input[0], node.input[1]], f"{out}#scaled",
                              "mul")
        self.derived(node, "Where", [negative, scaled, node.input[0]], out, "where")
        return None

    def op_HardSigmoid(self, node) -> None:
        attrs = self.attrs(node)
        alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
        if math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5):
            return self.activation(node, "hardsigmoid")
        # clip(alpha·x + beta, 0, 1) is PyTorch's hardsigmoid of 6·alpha·x + 6·beta - 3 (ONNX's
        # default alpha 0.2, Keras's hard_sigmoid): one affine layer with the activation
        x = self.act(node)
        name = self.add(Affine(self.label(node), (x.layer,), scale="scalar", shift="scalar",
                               activation="hardsigmoid"))
        self.weights[name] = np.full((1, 1, 1), 6.0 * alpha)
        self.biases[name] = np.full((1, 1, 1), 6.0 * beta - 3.0)
        self.put(node.output[0], name, x.shape, x.perm, like=x)
        return None

    def op_LeakyRelu(self, node) -> None:
        slope = float(self.attrs(node).get("alpha", 0.01))
        if slope == 0.01:
            return self.activation(node, "leaky_relu")
        x = self.act(node)            # its own layer: a fused activation has no parameter
        name = self.add(Activation(self.label(node), (x.layer,), function="leaky_relu",
                                   slope=slope))
        self.put(node.output[0], name, x.shape, x.perm)
        return None

    def activation(self, node, function: str) -> None:
        if node.op_type == "Gelu":
            approximate = self.attrs(node).get("approximate", "none")
            if approximate not in ("none", "tanh"):
                return self.unknown(node, f"Gelu with approximate='{approximate}' is not "
                                    "supported (only 'none' and 'tanh')")
            function = "gelu_tanh" if approximate == "tanh" else function
        if node.op_type == "Swish" and float(self.attrs(node).get("alpha", 1.0)) != 1.0:
            return self.unknown(node, "Swish is supported with alpha 1 (SiLU) only")
        defaults = {"Elu": {"alpha": 1.0},
                    "Selu": {"alpha": SELU_ALPHA, "gamma": SELU_GAMMA},
                    "IsInf": {"detect_negative": 1.0, "detect_positive": 1.0}
                    }.get(node.op_type, {})
        for key, default in defaults.items():
            value = float(self.attrs(node).get(key, default))
            if not math.isclose(value, default, rel_tol=1e-6):
                return self.unknown(node, f"{node.op_type} with {key} {value:g} is not "
                                    f"supported (only ONNX's default, {default:g})")
        x = self.act(node)
        producer = self.layers[x.layer]
        if (hasattr(producer, "activation") and producer.activation is None
                and self.single_use(node.input[0]) and producer.kind != "input"):
            self.replace_layer(x.layer, activation=function)
            self.tensors[node.output[0]] = x
            return None
        name = self.add(Activation(self.label(node), (x.layer,), function=function))
        self.put(node.output[0], name, x.shape, x.perm)
        return None

    def op_Softmax(self, node) -> None:
        x = self.act(node)
        rank = len(x.shape)
        axis = self.axis(node, self.attrs(node).get("axis", -1 if self.opset >= 13 else 1),
                         x)
        # before opset 13, over everything from the axis on (the input flattened there)
        reduced = [axis] if self.opset >= 13 else list(range(axis, rank))
        perm, channels, groups = grouped_layout(x.shape, reduced, x)
        source = self.materialize(x, perm, channels, node.name or "softmax")
        name = self.add(Softmax(self.label(node), (source,), groups=groups))
        self.put(node.output[0], name, x.shape, perm)

    def op_RMSNormalization(self, node) -> None:
        """RMS norm (opset 23; also T5's and LLaMA's written in pieces, fusion.py)."""
        self.op_LayerNormalization(node, center=False)

    def op_LayerNormalization(self, node, center: bool = True) -> None:
        x = self.act(node)
        rank = len(x.shape)
        attrs = self.attrs(node)
        axis = self.axis(node, attrs.get("axis", -1), x)
        perm, channels, groups = grouped_layout(x.shape, list(range(axis, rank)), x)
        source = self.materialize(x, perm, channels, node.name or "layer_norm")
        name = self.add(LayerNorm(self.label(node), (source,), groups=groups,
                                  epsilon=float(attrs.get("epsilon", 1e-5)), center=center))
        gamma, beta = self.setting(node, 1), self.setting(node, 2)
        if gamma is not None:
            self.weights[name] = np.tile(gamma.reshape(-1), groups)
        if beta is not None:
            self.biases[name] = np.tile(beta.reshape(-1), groups)
        self.put(node.output[0], name, x.shape, perm)

    def op_Resize(self, node) -> None:
        """Resizing of an image's height and width to any size (by its scales, or to its
        sizes): nearest with ONNX's rounding modes, linear, or cubic; coordinates half_pixel,
        pytorch_half_pixel, align_corners, asymmetric, and tf_half_pixel_for_nn for nearest.
        Whole factors are kept as factors."""
        attrs = self.attrs(node)
        mode = attrs.get("mode", "nearest")
        old = node.op_type == "Upsample" or self.opset < 11     # no roi, no rounding modes
        rule = "asymmetric" if old else attrs.get("coordinate_transformation_mode",
                                                  "half_pixel")
        if rule == "half_pixel_symmetric":    # its adjustment is 1 at the whole sizes below
            rule = "half_pixel"
        rules = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                 *(("tf_half_pixel_for_nn",) if mode == "nearest" else ()))
        if mode not in ("nearest", "linear", "cubic") or rule not in rules:
            return self.unknown(node, f"{node.op_type} in mode '{mode}' with coordinates "
                                f"'{rule}' is not supported (nearest, linear or cubic, with "
                                "half_pixel, pytorch_half_pixel, align_corners or asymmetric "
                                "coordinates; tf_half_pixel_for_nn for nearest)")
        if mode == "cubic" and (attrs.get("exclude_outside", 0) or not math.isclose(
                attrs.get("cubic_coeff_a", -0.75), CUBIC_A)):
            return self.unknown(node, "cubic Resize is supported with cubic_coeff_a -0.75 "
                                "and exclude_outside 0 only")
        x = self.act(node)
        scales = self.setting(node, 1 if old else 2)
        sizes = None if old else self.setting(node, 3)
        axes = [int(a) % 4 for a in attrs.get("axes", range(4))]    # opset 18's axes
        given = scales if scales is not None and scales.size else sizes
        if given is None or given.size != len(axes) or len(x.shape) != 3:
            return self.unknown(node, f"{node.op_type} needs constant scales or sizes over "
                                "(N, C, H, W)")
        full = np.array([self.batch if x.batched else 1, *x.shape], dtype=np.float64)
        factors = np.ones(4)
        factors[axes] = np.asarray(given, dtype=np.float64).reshape(-1)
        if given is sizes:
            if attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
                return self.unknown(node, "Resize keeping the aspect ratio is not supported")
            factors[axes] = factors[axes] / full[axes]
        out = np.floor(full * factors + 1e-9).astype(np.int64)
        if list(out[:2]) != list(full[:2]) or min(out[2:]) < 1:
            return self.unknown(node, f"{node.op_type} by {[f'{f:g}' for f in factors]} is "
                                "not supported (height and width only)")
        if np.any(np.abs(factors[2:] * full[2:] - out[2:]) > 1e-6 * out[2:]):
            return self.unknown(node, f"{node.op_type} by {factors[2]:g} x {factors[3]:g} of "
                                f"{x.shape[1]} x {x.shape[2]} gives no whole size: not "
                                "supported")
        if mode != "nearest" and attrs.get("antialias", 0) and min(factors[2:]) < 1:
            return self.unknown(node, "Resize down with antialiasing is not supported")
        rounding = ("floor" if old else attrs.get("nearest_mode", "round_prefer_floor"))
        if old and min(factors[2:]) < 1:
            return self.unknown(node, f"{node.op_type} down at opset {self.opset} is not "
                                "supported")
        (h, w), (ho, wo) = full[2:].astype(int), out[2:]
        size = ({"scale": (int(ho // h), int(wo // w))} if ho % h == 0 and wo % w == 0
                else {"size": (int(ho), int(wo))})
        name = self.add(Upsample(self.label(node), (self.image(node, x),), mode=mode,
                                 coordinates=rule, **size,
                                 **({"nearest": rounding} if mode == "nearest" else {})))
        self.put(node.output[0], name, self.shape_of[name], (0, 1, 2))
        return None

    op_Upsample = op_Resize

    def constant_tensor(self, node, value: np.ndarray, like: Tensor) -> Tensor:
        """A constant operand of an activation ``like`` as a Constant layer (read from DRAM
        like an input), in row-major order."""
        value = np.asarray(value, dtype=np.float64)
        if like.batched and value.ndim == len(like.shape) + 1:
            if value.shape[0] != 1 and not np.all(value == value[:1]):
                raise self.error(node, "a constant that differs between the images of the "
                                 "batch is not supported")
            value = value[0]
        if value.ndim != len(like.shape):
            raise self.error(node, f"a constant of shape {list(value.shape)} next to an "
                             f"activation of per-image shape {list(like.shape)}")
        perm = tuple(range(value.ndim))
        shape = accelsim_shape(value.shape, perm, 1)
        name = self.add(Constant(self.unique(f"{node.name or node.op_type}.constant"), (),
                                 shape=shape))
        self.weights[name] = value.reshape(shape)
        return Tensor(name, tuple(value.shape), perm, like.batched)

    def op_Concat(self, node) -> None:
        given = [(i, n) for i, n in enumerate(node.input) if n not in self.empty]
        if not given:
            raise self.error(node, "every input is an empty slice")
        like = next((self.act(node, i) for i, n in given if n not in self.consts), None)
        parts = [self.constant_tensor(node, self.consts[n], like) if n in self.consts
                 else self.act(node, i) for i, n in given]
        if len(parts) == 1:                   # DenseNet's first dense layer: a copy
            self.tensors[node.output[0]] = parts[0]
            return None
        onnx_axis = self.required(node, "axis")
        parts = [self.batch_as_axis([onnx_axis], p) for p in parts]
        axis = self.axis(node, onnx_axis, parts[0])
        if len({(len(p.shape), p.batched, *p.shape[:axis], *p.shape[axis + 1:])
                for p in parts}) > 1:
            raise self.error(node, f"inputs of per-image shapes {[list(p.shape) for p in parts]}"
                             f" do not concatenate along axis {onnx_axis}")
        perm, channels, kind = axis_layout(parts[0], axis, prefer="channels")
        sources = tuple(self.materialize(p, perm, channels, node.name or "concat")
                        for p in parts)
        name = self.add(Concat(self.label(node), sources, axis=kind))
        shape = list(parts[0].shape)
        shape[axis] = sum(p.shape[axis] for p in parts)
        self.put(node.output[0], name, tuple(shape), perm, like=parts[0])
        return None

    def select(self, node, x: Tensor, axis: int, start: int, stop: int, keep: bool,
               output: str | None = None) -> None:
        """[start, stop) of ``axis`` as a view, into ``output`` (default: the node's first)."""
        output = output or node.output[0]
        perm, channels, kind = axis_layout(x, axis, prefer="height")
        inner = 1
        if kind == "channels" and in_same_order(x, perm):
            # the axis outermost among the channels the layer already holds: a range of them
            held = channel_axes(self.shape_of[x.layer], Tensor(x.layer, x.shape, perm))
            channels, inner = held, math.prod(x.shape[a] for a in perm[1:held])
        source = self.materialize(x, perm, channels, node.name or "slice")
        label = self.unique(output if output != node.output[0] else node.name or output)
        name = self.add(Slice(label, (source,), axis=kind, start=start * inner,
                              stop=stop * inner))
        shape = list(x.shape)
        shape[axis] = stop - start
        if keep:
            self.put(output, name, tuple(shape), perm)
            return
        del shape[axis]
        renumber = [a - (a > axis) for a in perm if a != axis]
        self.put(output, name, tuple(shape), tuple(renumber))

    def op_Split(self, node) -> None:
        """Each output a view of its part of the axis (ShuffleNet's channel split)."""
        x, attrs = self.act(node), self.attrs(node)
        at, sizes = attrs.get("axis", 0), self.setting(node, 1)
        sizes = attrs.get("split") if sizes is None else sizes
        whole = axis_size(x, at, self.batch)
        if len(node.output) == 1 and whole is not None and (
                sizes is None or np.asarray(sizes).reshape(-1).tolist() == [whole]):
            # One part: the whole axis, whichever it is (a detector's list of one image).
            self.tensors[node.output[0]] = x
            return None
        axis = self.axis(node, at, x)
        size = x.shape[axis]
        if sizes is None:                     # equal parts, the last one smaller (opset 18)
            parts = len(node.output)
            chunk = -(-size // parts)
            sizes = [min(chunk, size - i * chunk) for i in range(parts)]
        sizes = [int(s) for s in np.asarray(sizes).reshape(-1)]
        if len(sizes) != len(node.output) or sum(sizes) != size or min(sizes) < 1:
            raise self.error(node, f"splits an axis of {size} into {sizes}")
        start = 0
        for output, part in zip(node.output, sizes):
            if output:
                self.select(node, x, axis, start, start + part, keep=True, output=output)
            start += part

    def op_Slice(self, node) -> None:
        x = self.act(node)
        starts, ends, axes, steps = (self.setting(node, i) for i in range(1, 5))
        if starts is None or ends is None or starts.size != 1:
            return self.unknown(node, "Slice is supported on one axis with constant bounds")
        step = int(steps.reshape(-1)[0]) if steps is not None else 1
        axis = int(axes.reshape(-1)[0]) if axes is not None else 0
        axis = self.axis(node, axis, x)
        size = x.shape[axis]
        end = int(np.clip(ends.reshape(-1)[0], -2 ** 62, 2 ** 62))
        start, stop, step = slice(int(starts.reshape(-1)[0]), end, step).indices(size)
        if not range(start, stop, step):  # (Phi-3's pass-through half of a full rotary)
            self.empty.add(node.output[0])
            return None
        if step != 1:
            return self.take(node, x, axis, np.arange(start, stop, step))
        self.select(node, x, axis, start, stop, keep=True)
        return None
