"""The graph walk of value mode and of its floating-point reference."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accelsim.arith import evenly_spaced
from accelsim.errors import AccelsimError
from accelsim.hardware.context import PlanContext
from accelsim.hardware.registry import unit
from accelsim.kernels.options import ValueOptions
from accelsim.kernels.quantize import NoLevels
from accelsim.spec.device import DeviceSpec
from accelsim.workload.graph import Workload
from accelsim.workload.layers import Constant, Conv2d, Input, Linear
from accelsim.workload.ops import activate, forward

# Each weighted layer's product is held against the exact product of the same input vectors
# on this many of them (evenly spaced; all when fewer): a float64 product of that many
# vectors per layer (ResNet-18: 0.02 s on one core, 3 % of a value-mode run; 64 took 0.026 s).
AGREEMENT_VECTORS = 32


@dataclass
class ValueRun:
    output: np.ndarray
    activations: dict[str, np.ndarray] = field(repr=False)
    stats: dict[str, object] = field(repr=False)     # per weighted layer: its unit's measures
    # Weighted layers whose hardware product was zero everywhere although their inputs were
    # not: quantization (an ADC step coarser than every column sum) lost the whole signal.
    zeroed: list[str] = field(default_factory=list)
    # Per weighted layer: output_agreement() of its hardware product with the exact float64
    # product of the same input vectors (before bias and activation; see AGREEMENT_VECTORS)
    agreement: dict[str, dict[str, float | None]] = field(default_factory=dict)


def run_values(workload: Workload, device: DeviceSpec, plans, inputs,
               options: ValueOptions, seed: int, on_layer=None) -> ValueRun:
    """The network's output for ``inputs`` and each weighted layer's measured statistics.

    ``inputs`` is [batch, C, H, W] for a network with one input layer, else a dict
    {input layer: [batch, C, H, W]}."""
    rng = np.random.default_rng(seed)
    plan_of = {plan.name: plan for plan in plans}
    stats: dict[str, object] = {}
    zeroed: list[str] = []
    agreement: dict[str, dict[str, float | None]] = {}
    ctx = PlanContext(workload, device)

    def hardware_product(name: str, columns: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        plan = plan_of[name]
        try:
            product, stats[name] = unit(plan.unit).product(ctx, plan, columns, matrix,
                                                           options, rng)
        except NoLevels as exc:
            key = ("cim.adc_bits" if exc.operand == "column sums" else
                   f"cim.{'input' if exc.operand == 'inputs' else 'weight'}_bits"
                   if plan.unit == "cim" else f"{plan.unit}.operand_bits")
            raise AccelsimError(
                f"{device.name}: value mode cannot run layer '{name}': its {exc.operand} are "
                f"signed, and {key}: {exc.bits} leaves a signed code no level but zero "
                f"(-(2^(b-1)-1) ... 2^(b-1)-1); give {key} 2 or more, "
                + ("use the value option ideal_adc, " if key == "cim.adc_bits" else "")
                + "or simulate without values") from None
        if not product.any() and columns.any() and matrix.any():
            zeroed.append(name)
        sample = evenly_spaced(columns.shape[0], AGREEMENT_VECTORS)
        agreement[name] = output_agreement(product[sample], columns[sample] @ matrix)
        return product

    output, acts = _forward(workload, inputs, hardware_product, on_layer)
    return ValueRun(output, acts, stats, zeroed, agreement)


def reference_forward(workload: Workload, inputs) -> np.ndarray:
    """The network in float64 without quantization: the accuracy reference for value mode."""
    return _reference(workload, inputs)[0]


def reference_outputs(workload: Workload, inputs) -> dict[str, np.ndarray]:
    """Every layer's output of the float64 reference (a network with several outputs)."""
    return _reference(workload, inputs)[1]


class ReferenceOutput:
    """A value-mode run's float64 reference output (reference_forward of its network, weights
    and inputs), computed on the first call and kept; the network and inputs are then let go.
    ``first``: the first image's output only (one image given without a batch axis). Pickles
    as that output (computing it if it was not yet), not as the network and its weights."""

    def __init__(self, workload: Workload, inputs, first: bool = False) -> None:
        self._workload, self._inputs, self._first = workload, inputs, first
        self._output: np.ndarray | None = None

    def of_first_image(self) -> ReferenceOutput:
        return ReferenceOutput(self._workload, self._inputs, first=True)

    def __call__(self) -> np.ndarray:
        if self._output is None:
            output = reference_forward(self._workload, self._inputs)
            self._output = output[0] if self._first else output
            self._workload = self._inputs = None
        return self._output

    def __getstate__(self) -> dict:
        return {"_output": self(), "_workload": None, "_inputs": None, "_first": self._first}


def output_agreement(output: np.ndarray, reference: np.ndarray) -> dict[str, float | None]:
    """How close value mode's ``output`` comes to the float64 ``reference`` of the same
    size: ``correlation``, Pearson's over every element (1 is exact; None when either is
    constant, as an output that rounded to zeros is), and ``relative_error``,
    ||output - reference|| / ||reference|| (Euclidean norms over every element; None when the
    reference is zero)."""
    y = np.asarray(output, dtype=np.float64).ravel()
    r = np.asarray(reference, dtype=np.float64).ravel()
    if y.shape != r.shape:
        raise ValueError(f"output has {y.size} elements, the reference {r.size}")
    dy, dr = y - y.mean(), r - r.mean()
    spread = float(np.sqrt(np.dot(dy, dy) * np.dot(dr, dr)))
    norm = float(np.linalg.norm(r))
    return {"correlation": float(np.dot(dy, dr)) / spread if spread > 0 else None,
            "relative_error": float(np.linalg.norm(y - r)) / norm if norm > 0 else None}


def _reference(workload: Workload, inputs):
    if isinstance(inputs, dict):
        inputs = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    else:
        inputs = np.asarray(inputs, dtype=np.float64)
    return _forward(workload, inputs, lambda name, columns, matrix: columns @ matrix)


def _forward(workload: Workload, inputs, product, on_layer=None):
    """Walk the layer graph; ``product(name, columns, matrix)`` multiplies a weighted layer's
    input vectors by its weight matrix; ``on_layer(1, name)`` is called after each layer.
    Returns (the sink's output, every layer's output)."""
    acts: dict[str, np.ndarray] = {}
    for name in workload.order:
        if on_layer is not None:
            on_layer(0, name)
        layer = workload.layers[name]
        xs = [acts[source] for source in layer.inputs]
        if isinstance(layer, Constant):
            batch = next(iter(inputs.values())).shape[0] if isinstance(inputs, dict) \
                else inputs.shape[0]
            if name not in workload.weights:
                raise AccelsimError(f"layer '{name}': value mode needs the constant's values "
                                    "(give them as its weights)")
            y = np.broadcast_to(workload.weights[name], (batch, *workload.shapes[name]))
        elif isinstance(layer, Input):
            y = inputs[name] if isinstance(inputs, dict) else inputs
        elif isinstance(layer, (Conv2d, Linear)):
            columns = _lowered_inputs(layer, xs[0], workload.shapes[name])
            result = product(name, columns, _layer_matrix(workload, name))
            if name in workload.biases:
                result = result + workload.biases[name]
            _, h, w = workload.shapes[name]
            y = result.reshape(xs[0].shape[0], h, w, -1).transpose(0, 3, 1, 2)
            y = activate(y, layer.activation)
        else:
            y = forward(layer, xs, workload)
        acts[name] = y
        if on_layer is not None:
            on_layer(1)
    # the network's output: of several, the one listed last (as before the order stopped
    # following the listing), the other outputs are in ``acts``
    listed = [name for name in workload.layers if not workload.consumers(name)]
    return acts[listed[-1]], acts


def _lowered_inputs(layer, x: np.ndarray, out_shape) -> np.ndarray:
    """Input vectors [batch * positions, groups * K] (per group: channel, kh, kw order)."""
    batch = x.shape[0]
    if isinstance(layer, Linear):
        return x.transpose(0, 2, 3, 1).reshape(batch * x.shape[2] * x.shape[3], x.shape[1])
    (ph, pw), (sh, sw), (dh, dw), (kh, kw) = (layer.padding, layer.stride, layer.dilation,
                                              layer.kernel)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    _, ho, wo = out_shape
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    windows = np.lib.stride_tricks.sliding_window_view(padded, (span_h, span_w), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw][:, :, :ho, :wo, ::dh, ::dw]   # [B, C, Ho, Wo, kh, kw]
    cin = x.shape[1]
    groups = layer.groups
    per_group = windows.reshape(batch, groups, cin // groups, ho, wo, kh, kw)
    return per_group.transpose(0, 3, 4, 1, 2, 5, 6).reshape(batch * ho * wo, -1)


def _layer_matrix(workload: Workload, name: str) -> np.ndarray:
    """The block-diagonal [groups * K, groups * N] weight matrix of a layer."""
    if name not in workload.weights:
        raise AccelsimError(f"layer '{name}' has no weights; give them with "
                            "workload.with_weights(...) or let simulate() draw random ones")
    layer = workload.layers[name]
    weight = workload.weights[name]
    k, n, groups = layer.matrix(workload.input_shapes(name))
    if groups == 1:
        return weight.reshape(n, k).T
    # Column-major, as the transposed weight of groups == 1 is: quantized_weights reads the
    # columns (an output's weights) contiguously, without a copy.
    matrix = np.zeros((groups * k, groups * n), order="F")
    for g in range(groups):
        matrix[g * k:(g + 1) * k, g * n:(g + 1) * n] = weight[g * n:(g + 1) * n].reshape(n, k).T
    return matrix
