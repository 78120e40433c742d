"""Value mode: real numbers through the network, as the hardware would compute them.

Crossbar layers quantize their inputs (sign-magnitude, ``input_bits``) and weights (per output
channel, ``weight_bits``), slice the weights into cells, drive the inputs ``dac_bits`` per input
cycle, convert every column sum with the ADC (resolution, range, clipping, optional noise and
offset), shift and add, add the partial sums of the row tiles, then dequantize, add the bias and
apply the activation. Systolic layers compute the same quantized product exactly. Pooling,
additions and activations run in floating point. Along the way the rows each input cycle
drives are counted per row of tiles: the sparsity statistics the energy ledger uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.kernels.crossbar import crossbar_mvm
from accelsim.kernels.quantize import input_chunks, quantize, slice_weights
from accelsim.mapping.crossbar import CrossbarTiling
from accelsim.spec.device import DeviceSpec
from accelsim.workload.graph import Workload
from accelsim.workload.layers import (Activation, Affine, Concat, Conv2d, Elementwise, Flatten,
                                      GlobalAvgPool, Input, LayerNorm, Linear, MatMul, Pool2d,
                                      Reshape, Slice, Softmax)

_NO_NOISE = np.zeros((0, 0, 0))


@dataclass(frozen=True)
class ValueOptions:
    """How value mode quantizes and which non-idealities it adds (all seeded).

    ADC resolution is the device's (cim.adc_bits), which also prices each conversion; to study
    it, vary the device. ideal_adc: enough levels and range for every column sum, so results
    equal the integer computation exactly (values only: energy is still the device's ADC).
    adc_full_scale: the ADC
    range as a fraction of the largest possible column sum (smaller: finer steps, more
    clipping). per_channel: one weight scale per output channel (else one per layer).
    cell_variation: relative std-dev of each programmed cell value. read_noise: std-dev of
    each column sum, in units of one input step times one cell step. adc_offset: std-dev of a
    fixed offset per column, in ADC steps. zero_threshold: inputs with |x| at most this
    fraction of the layer's largest input are treated as zero.
    """

    ideal_adc: bool = False
    adc_full_scale: float = 1.0
    per_channel: bool = True
    cell_variation: float = 0.0
    read_noise: float = 0.0
    adc_offset: float = 0.0
    zero_threshold: float = 0.0

    def __post_init__(self):
        for name in ("ideal_adc", "per_channel"):
            if not isinstance(getattr(self, name), bool):
                raise AccelsimError(f"value_options.{name} must be true or false, got "
                                    f"{getattr(self, name)!r}")
        numbers = {"adc_full_scale": (0, 1), "cell_variation": (0, 10), "read_noise": (0, 1e6),
                   "adc_offset": (0, 1e6), "zero_threshold": (0, 1)}
        for name, (low, high) in numbers.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or not low <= value <= high \
                    or (name == "adc_full_scale" and value == 0):
                allowed = (f"in (0, {high}]" if name == "adc_full_scale"
                           else f"from {low} to {high:g}")
                raise AccelsimError(f"value_options.{name} must be a finite number {allowed}, "
                                    f"got {value!r}")


@dataclass
class CrossbarStats:
    """Measured per row of tiles of one layer: rows driven per vector and input cycle."""

    active: list[np.ndarray]              # per row block: [vectors, input cycles] int32
    tile_kept: np.ndarray                 # per tile: holds a nonzero weight (is mapped)


@dataclass
class SystolicStats:
    """Measured on a systolic layer: MACs whose operands are both nonzero, of all MACs."""

    nonzero_macs: int
    macs: int


@dataclass
class ValueRun:
    output: np.ndarray
    activations: dict[str, np.ndarray] = field(repr=False)
    crossbar_stats: dict[str, CrossbarStats] = field(repr=False)
    systolic_stats: dict[str, SystolicStats] = field(default_factory=dict, repr=False)


def row_blocks(tiling: CrossbarTiling) -> list[tuple[int, int, int, int]]:
    """(first row, end row, first output, end output) of each row of tiles, in tiling order,
    in the layer's block-diagonal matrix of groups * K rows by groups * N outputs."""
    blocks = []
    k, n, rows = tiling.k, tiling.n, tiling.rows
    for block in range(tiling.blocks):
        if tiling.groups_per_tile > 1:            # several groups packed in one tile
            first_group = block * tiling.groups_per_tile
            held = int(tiling.rows_used[block] // k)
            blocks.append((first_group * k, (first_group + held) * k,
                           first_group * n, (first_group + held) * n))
            continue
        for row in range(tiling.tile_rows):
            r0 = block * k + row * rows
            blocks.append((r0, min(r0 + rows, (block + 1) * k), block * n, (block + 1) * n))
    return blocks


def run_values(workload: Workload, device: DeviceSpec, plans, inputs,
               options: ValueOptions, seed: int) -> ValueRun:
    """The network's output for ``inputs`` and the crossbar statistics.

    ``inputs`` is [batch, C, H, W] for a network with one input layer, else a dict
    {input layer: [batch, C, H, W]}."""
    rng = np.random.default_rng(seed)
    plan_of = {plan.name: plan for plan in plans}
    stats: dict[str, CrossbarStats] = {}
    systolic: dict[str, SystolicStats] = {}

    def hardware_product(name: str, columns: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        plan = plan_of[name]
        if plan.unit == "cim":
            product, stats[name] = _crossbar_product(columns, matrix, plan.tiling, device,
                                                     options, rng)
        else:
            macs = workload.layer_macs(name) * columns.shape[0] // _positions(workload, name)
            product, systolic[name] = _systolic_product(
                columns, matrix, device.systolic.operand_bits, options, macs)
        return product

    output, acts = _forward(workload, inputs, hardware_product)
    return ValueRun(output, acts, stats, systolic)


def reference_forward(workload: Workload, inputs) -> np.ndarray:
    """The network in float64 without quantization: the accuracy reference for value mode."""
    if isinstance(inputs, dict):
        inputs = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    else:
        inputs = np.asarray(inputs, dtype=np.float64)
    return _forward(workload, inputs, lambda name, columns, matrix: columns @ matrix)[0]


def _positions(workload: Workload, name: str) -> int:
    _, h, w = workload.shapes[name]
    return h * w


def _forward(workload: Workload, inputs: np.ndarray, product):
    """Walk the layer graph; ``product(name, columns, matrix)`` multiplies a weighted layer's
    input vectors by its weight matrix. Returns (the sink's output, every layer's output)."""
    acts: dict[str, np.ndarray] = {}
    for name in workload.order:
        layer = workload.layers[name]
        xs = [acts[source] for source in layer.inputs]
        if isinstance(layer, Input):
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
            y = _digital(layer, xs, workload)
        acts[name] = y
    sinks = [n for n in workload.order if workload.graph.out_degree(n) == 0]
    return acts[sinks[-1]], acts


def _digital(layer, xs: list[np.ndarray], workload: Workload) -> np.ndarray:
    """Pooling, elementwise, activation, normalization, activation products and view layers
    (floating point in both modes)."""
    if isinstance(layer, Pool2d):
        return _pool(xs[0], layer)
    if isinstance(layer, GlobalAvgPool):
        return xs[0].mean(axis=(2, 3), keepdims=True)
    if isinstance(layer, Elementwise):
        y = xs[0]
        for x in xs[1:]:
            y = y + x if layer.function == "add" else y * x
        return activate(y, layer.activation)
    if isinstance(layer, Activation):
        return activate(xs[0], layer.function)
    if isinstance(layer, Flatten):
        return xs[0].reshape(xs[0].shape[0], -1, 1, 1)
    if isinstance(layer, Concat):
        return np.concatenate(xs, axis=1 if layer.axis == "channels" else 2)
    if isinstance(layer, Slice):
        return (xs[0][:, layer.start:layer.stop] if layer.axis == "channels"
                else xs[0][:, :, layer.start:layer.stop])
    if isinstance(layer, Reshape):
        batch = xs[0].shape[0]
        moved = xs[0].reshape(batch, *layer.source).transpose(0, *(p + 1 for p in layer.perm))
        return moved.reshape(batch, *layer.shape)
    if isinstance(layer, MatMul):
        return _matmul(layer, *xs)
    if isinstance(layer, Affine):
        y = xs[0]
        if layer.name in workload.weights:
            y = y * workload.weights[layer.name]
        if layer.name in workload.biases:
            y = y + workload.biases[layer.name]
        return activate(y, layer.activation)
    if isinstance(layer, LayerNorm):
        x = xs[0]
        grouped = _grouped(x, layer.groups)
        mean = grouped.mean(axis=2, keepdims=True)
        var = grouped.var(axis=2, keepdims=True)
        y = ((grouped - mean) / np.sqrt(var + layer.epsilon)).reshape(x.shape)
        gamma = workload.weights.get(layer.name)
        beta = workload.biases.get(layer.name)
        if gamma is not None:
            y = y * gamma[:, None, None]
        if beta is not None:
            y = y + beta[:, None, None]
        return y
    if isinstance(layer, Softmax):
        return _softmax(xs[0], layer.groups)
    raise AccelsimError(f"layer '{layer.name}': value mode cannot run a {layer.kind} layer")


def _matmul(layer: MatMul, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per head: [M, K] @ [K, N], from the layouts MatMul documents."""
    batch, _, h, w = a.shape
    heads = layer.heads
    a_heads = a.reshape(batch, heads, -1, h * w).transpose(0, 1, 3, 2)       # [B, h, M, K]
    b_heads = b.reshape(batch, heads, -1, b.shape[2] * b.shape[3])         # [B, h, ., .]
    b_heads = b_heads if layer.transpose_b else b_heads.transpose(0, 1, 3, 2)
    # with transpose_b: [B, h, K, N] as stored; without: stored [B, h, N, K] -> [B, h, K, N]
    product = a_heads @ b_heads                                             # [B, h, M, N]
    return product.transpose(0, 1, 3, 2).reshape(batch, -1, h, w)


def activate(x: np.ndarray, function: str | None) -> np.ndarray:
    if function is None:
        return x
    if function == "relu":
        return np.maximum(x, 0.0)
    if function == "relu6":
        return np.clip(x, 0.0, 6.0)
    if function == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if function == "tanh":
        return np.tanh(x)
    if function == "gelu":                      # the exact form (PyTorch's and ONNX's default)
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if function == "hardswish":
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if function == "erf":
        return _erf(x)
    if function == "softmax":
        return _softmax(x, 1)
    raise AccelsimError(f"unknown activation {function!r}")


def _grouped(x: np.ndarray, groups: int) -> np.ndarray:
    """[batch, C, H, W] viewed as [batch, groups, C / groups, H, W]."""
    return x.reshape(x.shape[0], groups, -1, *x.shape[2:])


def _softmax(x: np.ndarray, groups: int) -> np.ndarray:
    """Softmax over the channels of each position, within each of ``groups`` groups."""
    grouped = _grouped(x, groups)
    e = np.exp(grouped - grouped.max(axis=2, keepdims=True))
    return (e / e.sum(axis=2, keepdims=True)).reshape(x.shape)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 1964, formula 7.1.26), vectorized."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


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
    matrix = np.zeros((groups * k, groups * n))
    for g in range(groups):
        matrix[g * k:(g + 1) * k, g * n:(g + 1) * n] = weight[g * n:(g + 1) * n].reshape(n, k).T
    return matrix


def _quantized_inputs(columns: np.ndarray, bits: int, options: ValueOptions):
    if options.zero_threshold > 0 and columns.size:
        columns = np.where(np.abs(columns) <= options.zero_threshold * np.abs(columns).max(),
                           0.0, columns)
    signed = bool(columns.size and columns.min() < 0)
    q, scale = quantize(columns, bits, signed=signed)
    return q, float(np.asarray(scale).ravel()[0]), signed


def _quantized_weights(matrix: np.ndarray, bits: int, options: ValueOptions):
    q, scale = quantize(matrix, bits, signed=True, axis=0 if options.per_channel else None)
    return q, np.broadcast_to(np.asarray(scale).ravel(), (matrix.shape[1],))


def _systolic_product(columns, matrix, bits: int, options: ValueOptions, macs: int):
    q_x, scale_x, _ = _quantized_inputs(columns, bits, options)
    q_w, scale_w = _quantized_weights(matrix, bits, options)
    # Each weight row k meets every input in column k: pairs with both nonzero.
    nonzero = int(np.count_nonzero(q_x, axis=0) @ np.count_nonzero(q_w, axis=1))
    return (q_x @ q_w).astype(np.float64) * scale_x * scale_w, SystolicStats(nonzero, macs)


def _crossbar_product(columns, matrix, tiling: CrossbarTiling, device: DeviceSpec,
                      options: ValueOptions, rng: np.random.Generator):
    cim = device.cim
    q_x, scale_x, signed_inputs = _quantized_inputs(columns, cim.input_bits, options)
    q_w, scale_w = _quantized_weights(matrix, cim.weight_bits, options)
    magnitude_bits = cim.input_bits - 1 if signed_inputs else cim.input_bits
    drives = input_chunks(q_x, magnitude_bits, cim.dac_bits, cim.input_cycles)
    cells, column_weight, offset = slice_weights(q_w, cim.weight_bits, cim.cell_bits,
                                                 cim.signed_weights)
    slices = cells.shape[1] // q_w.shape[1]
    cells = cells.astype(np.float64)
    if options.cell_variation > 0:
        cells = cells * (1.0 + options.cell_variation * rng.standard_normal(cells.shape))
    bits = cim.adc_bits
    cell_peak = 2 ** cim.cell_bits - 1
    bipolar = signed_inputs or cim.signed_weights == "cell"
    full_scale = cim.rows * (2 ** cim.dac_bits - 1) * cell_peak * options.adc_full_scale
    levels = 2 ** (bits - 1) - 1 if bipolar else 2 ** bits - 1
    if options.ideal_adc:
        step, low, high = 1.0, -np.inf, np.inf
    else:
        step = max(1.0, full_scale / levels)
        low, high = (-(levels + 1), levels) if bipolar else (0, levels)
    cycle_weight = (2.0 ** cim.dac_bits) ** np.arange(cim.input_cycles)
    accumulated = np.zeros((q_x.shape[0], q_w.shape[1]))
    active = []
    for r0, r1, o0, o1 in row_blocks(tiling):
        block_cells = cells[r0:r1, o0 * slices:o1 * slices]
        width = block_cells.shape[1]
        offsets = (options.adc_offset * step * rng.standard_normal(width)
                   if options.adc_offset > 0 else np.zeros(width))
        noise = (options.read_noise * rng.standard_normal((q_x.shape[0], cim.input_cycles,
                                                           width))
                 if options.read_noise > 0 else _NO_NOISE)
        counts = np.zeros((q_x.shape[0], cim.input_cycles), dtype=np.int32)
        block = np.zeros((q_x.shape[0], o1 - o0))
        crossbar_mvm(np.ascontiguousarray(drives[:, :, r0:r1]),
                     np.ascontiguousarray(block_cells), step, low, high, cycle_weight,
                     column_weight[:width], np.repeat(np.arange(o1 - o0), slices), offsets,
                     noise, block, counts)
        if offset:
            block -= offset * q_x[:, r0:r1].sum(axis=1, keepdims=True)
        accumulated[:, o0:o1] += block
        active.append(counts)
    product = accumulated * scale_x * scale_w
    return product, CrossbarStats(active, _kept_tiles(q_w, tiling))


def _kept_tiles(q_w: np.ndarray, tiling: CrossbarTiling) -> np.ndarray:
    """Which tiles hold at least one nonzero weight (all-zero tiles are never mapped).

    Tiles are numbered row block by row block, the tile columns of a row block in order."""
    per_tile = tiling.cols // tiling.cells_per_weight
    kept = []
    for r0, r1, o0, o1 in row_blocks(tiling):
        for c in range(tiling.tile_cols):
            c0 = o0 + c * per_tile
            kept.append(bool(np.any(q_w[r0:r1, c0:min(c0 + per_tile, o1)])))
    return np.array(kept, dtype=bool)


def _pool(x: np.ndarray, layer: Pool2d) -> np.ndarray:
    (kh, kw), (sh, sw), (ph, pw) = layer.kernel, layer.stride, layer.padding
    fill = -np.inf if layer.function == "max" else 0.0
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
    ho = (x.shape[2] + 2 * ph - kh) // sh + 1
    wo = (x.shape[3] + 2 * pw - kw) // sw + 1
    windows = windows[:, :, ::sh, ::sw][:, :, :ho, :wo]
    return windows.max(axis=(4, 5)) if layer.function == "max" else windows.mean(axis=(4, 5))
