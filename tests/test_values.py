"""Value mode: kernels against naive twins, exactness, a hand-worked ADC, measured sparsity."""

import numpy as np
import pytest
from conftest import modified
from hypothesis import given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.energy.table import Action
from accelsim.kernels import crossbar_layer, crossbar_mvm, input_chunks, slice_weights
from accelsim.kernels.crossbar import COLUMN_CHUNK, VECTOR_GROUP
from accelsim.kernels.options import ValueOptions
from accelsim.kernels.quantize import quantized_weights
from accelsim.workload import Input, Linear, Workload
from accelsim.workload.weights import random_weights, weight_shape

NO_NOISE = np.zeros((0, 0, 0))


def naive_crossbar(drives, cells, step, low, high, cycle_weight, column_weight, column_output,
                   offset, noise, outputs):
    """The kernel's contract, written the slow, obvious way."""
    vectors, cycles, _ = drives.shape
    acc = np.zeros((vectors, outputs))
    active = (drives != 0).sum(axis=2)
    for v in range(vectors):
        for c in range(cycles):
            if active[v, c] == 0:
                continue
            for k in range(cells.shape[1]):
                total = float(drives[v, c] @ cells[:, k]) + offset[k]
                if noise.size:
                    total += noise[v, c, k]
                code = min(max(np.rint(total * (1.0 / step)), low), high)
                acc[v, column_output[k]] += code * step * cycle_weight[c] * column_weight[k]
    return acc, active


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_crossbar_kernel_matches_its_naive_twin(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    v, c = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    r = data.draw(st.integers(1, 20))
    outputs, slices = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 3))
    k = outputs * slices
    drives = rng.integers(-3, 4, size=(v, c, r)).astype(np.int32)
    drives[rng.random((v, c, r)) < 0.4] = 0
    cells = rng.integers(-7, 8, size=(r, k)).astype(np.float64)
    step = float(data.draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, 7.25])))
    low, high = (-np.inf, np.inf) if data.draw(st.booleans()) else (-4.0, 3.0)
    cycle_weight = 2.0 ** np.arange(c)
    column_weight = rng.choice([1.0, -1.0, 4.0], size=k)
    column_output = np.repeat(np.arange(outputs), slices)
    offset = rng.normal(size=k) if data.draw(st.booleans()) else np.zeros(k)
    noise = rng.normal(size=(v, c, k)) if data.draw(st.booleans()) else NO_NOISE
    acc = np.zeros((v, outputs))
    active = np.zeros((v, c), dtype=np.int32)
    crossbar_mvm(drives, cells, step, low, high, cycle_weight, column_weight, column_output,
                 offset, noise, acc, active)
    expected, expected_active = naive_crossbar(drives, cells, step, low, high, cycle_weight,
                                               column_weight, column_output, offset, noise,
                                               outputs)
    np.testing.assert_allclose(acc, expected, rtol=1e-12, atol=1e-9)
    assert np.array_equal(active, expected_active)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_layer_kernel_equals_block_by_block_calls(data):
    """crossbar_layer (bit-planes taken inside, every row block in one call) gives exactly
    what crossbar_mvm gives block by block on input_chunks' drives, the offset correction
    and the accumulation in the same order; its signal is the drive mask times the levels."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    # Up to 3 of the kernel's vector groups and 2 of its column chunks.
    v = data.draw(st.integers(1, 2 * VECTOR_GROUP + 3))
    dac_bits, cycles = data.draw(st.sampled_from([(1, 4), (2, 2), (4, 1), (1, 3)]))
    magnitude_bits = dac_bits * cycles
    groups, k, outputs = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 30)), \
        data.draw(st.sampled_from([1, 2, 5, COLUMN_CHUNK // 2 + 1]))
    slices, rows = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 12))
    limit = 2 ** magnitude_bits - 1
    q = rng.integers(-limit, limit + 1, size=(v, groups * k))
    q[rng.random(q.shape) < 0.3] = 0
    cells = rng.integers(-7, 8, size=(groups * k, groups * outputs * slices)).astype(float)
    blocks = [(g * k + r0, min(g * k + r0 + rows, (g + 1) * k), g * outputs,
               (g + 1) * outputs) for g in range(groups) for r0 in range(0, k, rows)]
    step = float(data.draw(st.sampled_from([1.0, 2.0, 0.5, 7.25])))
    low, high = (-np.inf, np.inf) if data.draw(st.booleans()) else (-6.0, 5.0)
    cycle_weight = (2.0 ** dac_bits) ** np.arange(cycles)
    column_weight = np.tile(rng.choice([1.0, -1.0, 4.0], size=slices), groups * outputs)
    offset = int(data.draw(st.sampled_from([0, 0, 8])))
    width = outputs * slices
    column_offset = (rng.normal(size=(len(blocks), width)) if data.draw(st.booleans())
                     else np.zeros((len(blocks), width)))
    row_level = rng.random(groups * k)
    drives = input_chunks(q, magnitude_bits, dac_bits, cycles)
    expected = np.zeros((v, groups * outputs))
    expected_active, expected_signal = [], []
    for b, (r0, r1, o0, o1) in enumerate(blocks):
        block = np.zeros((v, o1 - o0))
        active = np.zeros((v, cycles), dtype=np.int32)
        crossbar_mvm(np.ascontiguousarray(drives[:, :, r0:r1]),
                     np.ascontiguousarray(cells[r0:r1, o0 * slices:o1 * slices]), step, low,
                     high, cycle_weight, column_weight[:width],
                     np.repeat(np.arange(o1 - o0), slices), column_offset[b], NO_NOISE, block,
                     active)
        if offset:
            block -= offset * q[:, r0:r1].sum(axis=1, keepdims=True)
        expected[:, o0:o1] += block
        expected_active.append(active)
        expected_signal.append((drives[:, :, r0:r1] != 0) @ row_level[r0:r1])
    r0, r1, o0, o1 = np.array(blocks, dtype=np.int64).T
    expected_active = np.stack(expected_active)                  # [blocks, vectors, cycles]
    expected_signal = np.stack(expected_signal)
    # Integer cells summed in float32 or int16 (as value mode passes cells whose column sums
    # stay below 2**24 or 2**15) must give exactly the float64 results.
    for dtype, arithmetic in ((np.float64, np.float64), (np.float32, np.float32),
                              (np.int8, np.float32), (np.int16, np.float32),
                              (np.int8, np.int16), (np.int16, np.int16)):
        acc = np.zeros((v, groups * outputs))
        driven = np.zeros((len(blocks), v), dtype=np.int64)
        cycles_run = np.zeros((len(blocks), v), dtype=np.int64)
        signal = np.zeros((len(blocks), v))
        crossbar_layer(q, dac_bits, cycles, cells.astype(dtype), r0, r1, o0 * slices,
                       o1 * slices, o0, slices, step, low, high, cycle_weight, column_weight,
                       offset, column_offset, row_level, acc, driven, cycles_run, signal,
                       np.empty(0, dtype=arithmetic))
        assert np.array_equal(acc, expected), dtype
        assert np.array_equal(driven, expected_active.sum(axis=2))
        assert np.array_equal(cycles_run, (expected_active > 0).sum(axis=2))
        np.testing.assert_allclose(signal, expected_signal.sum(axis=2), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_column_peaks_are_the_largest_column_sums_of_a_naive_product(data):
    """kernels.crossbar.column_peaks (the calibrated ADC range's sums) against numpy: per row
    block and vector, the largest |column sum| over input cycles of input_chunks' drives
    times the block's cells, in each arithmetic value mode passes."""
    from accelsim.kernels.crossbar import column_peaks
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    v = data.draw(st.integers(1, 20))
    dac_bits, cycles = data.draw(st.sampled_from([(1, 4), (2, 2), (4, 1), (1, 3)]))
    k, width = data.draw(st.integers(1, 40)), data.draw(st.sampled_from([1, 3, COLUMN_CHUNK + 5]))
    rows = data.draw(st.integers(1, 16))
    limit = 2 ** (dac_bits * cycles) - 1
    q = rng.integers(-limit, limit + 1, size=(v, k))
    q[rng.random(q.shape) < 0.4] = 0
    cells = rng.integers(-7, 8, size=(k, 2 * width))
    r0 = np.arange(0, k, rows)
    r1 = np.minimum(r0 + rows, k)
    c0 = rng.integers(0, width, size=r0.size)            # blocks of any columns
    c1 = c0 + rng.integers(1, width + 1, size=r0.size)
    drives = input_chunks(q, dac_bits * cycles, dac_bits, cycles)       # [V, C, K]
    expected = np.array([[np.abs(drives[i, :, a:z] @ cells[a:z, b:e]).max()
                          for i in range(v)] for a, z, b, e in zip(r0, r1, c0, c1)])
    for dtype, arithmetic in ((np.float64, np.float64), (np.int8, np.float32),
                              (np.int8, np.int16)):
        peaks = np.full((r0.size, v), np.nan)
        column_peaks(q, dac_bits, cycles, cells.astype(dtype), r0, r1, c0, c1, peaks,
                     np.empty(0, dtype=arithmetic))
        assert np.array_equal(peaks, expected), dtype


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_slices_and_chunks_reconstruct_the_integers(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    bits, cell_bits = data.draw(st.integers(2, 8)), data.draw(st.integers(1, 8))
    encoding = data.draw(st.sampled_from(["cell", "offset", "differential"]))
    limit = 2 ** (bits - 1) - 1
    w = rng.integers(-limit, limit + 1, size=(5, 4))
    cells, column_weight, offset = slice_weights(w, bits, cell_bits, encoding)
    slices = cells.shape[1] // 4
    rebuilt = (cells * column_weight).reshape(5, 4, slices).sum(axis=2) - offset
    assert np.array_equal(rebuilt, w)
    if encoding != "cell":
        assert cells.min() >= 0 and cells.max() < 2 ** cell_bits
    dac, magnitude = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 8))
    q = rng.integers(-(2 ** magnitude - 1), 2 ** magnitude, size=(3, 6))
    cycles = -(-magnitude // dac)
    chunks = input_chunks(q, magnitude, dac, cycles)
    assert np.array_equal((chunks * (2 ** (dac * np.arange(cycles)))[:, None]).sum(axis=1), q)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_cell_matrix_writes_the_cells_of_slice_weights(data):
    """kernels.prepare.cell_matrix (value mode's one-pass slicing) against slice_weights, its
    numpy twin: the same cells in both dtypes, and each row's sum of |cell| over its block's
    weights summed by hand."""
    from accelsim.kernels.prepare import cell_matrix
    from accelsim.kernels.quantize import ENCODINGS, slice_layout
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    bits, cell_bits = data.draw(st.integers(2, 12)), data.draw(st.integers(1, 8))
    encoding = data.draw(st.sampled_from(ENCODINGS))
    k, n = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 7))
    limit = 2 ** (bits - 1) - 1
    w = rng.integers(-limit, limit + 1, size=(n, k)).T       # transposed, as value mode's
    cells, column_weight, offset = slice_weights(w, bits, cell_bits, encoding)
    per, layout_weight, layout_offset = slice_layout(bits, cell_bits, encoding, n)
    assert cells.shape == (k, n * per)
    assert np.array_equal(layout_weight, column_weight) and layout_offset == offset
    first = rng.integers(0, n, size=k)
    last = np.minimum(first + rng.integers(1, n + 1, size=k), n)
    for dtype in (np.float32, np.float64):
        out = np.full(cells.shape, np.nan, dtype=dtype)
        row_sum = np.full(k, np.nan)
        cell_matrix(w, cell_bits, -(-bits // cell_bits), ENCODINGS.index(encoding), offset,
                    first, last, out, row_sum)
        assert np.array_equal(out, cells.astype(dtype))
        expected = [sum(abs(int(c)) for c in cells[r, first[r] * per:last[r] * per])
                    for r in range(k)]
        assert np.array_equal(row_sum, expected)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_quantizers_equal_quantize(data):
    """quantized_inputs and quantized_weights (numba, one pass) give exactly what quantize()
    (numpy) gives: integers, scales and the signed flag, per channel or not."""
    from accelsim.kernels.quantize import quantize, quantized_inputs
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    v, k = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    bits = data.draw(st.integers(2, 12))
    x = rng.normal(size=(v, k)) * 10.0 ** data.draw(st.integers(-3, 3))
    if data.draw(st.booleans()):
        x = np.maximum(x, 0)                                    # unsigned, as after a ReLU
    if data.draw(st.booleans()):
        x[:, rng.integers(0, k)] = 0.0                           # an all-zero column
    if data.draw(st.booleans()):
        x[:] = 0.0
    dtype = data.draw(st.sampled_from([np.int64, np.int32]))
    q, scale, signed = quantized_inputs(x, bits, 0.0, dtype)
    assert signed == bool(x.min() < 0) and q.dtype == dtype
    expected, expected_scale = quantize(x, bits, signed=signed)
    assert np.array_equal(q, expected) and scale == float(expected_scale)
    w = x.T.copy().T                                             # F-ordered, as layers give
    for per_channel in (True, False):
        q, scale = quantized_weights(w, bits, per_channel, dtype)
        expected, expected_scale = quantize(w, bits, signed=True,
                                            axis=0 if per_channel else None)
        assert np.array_equal(q, expected)
        assert np.array_equal(scale, np.broadcast_to(np.ravel(expected_scale), (k,)))


def linear(k, n, weights, bias=None):
    wl = Workload.from_layers(f"linear-{k}x{n}", [Input("in", shape=(k, 1, 1)),
                                                  Linear("fc", ("in",), n)])
    return wl.with_weights({"fc": weights}, {"fc": bias} if bias is not None else None)


@pytest.mark.parametrize("device, encoding, cell_bits, k", [
    ("cim-16x16", "cell", 8, 50), ("cim-16x16", "offset", 2, 50),
    ("cim-16x16", "differential", 4, 40), ("cim-128x128-rram", "offset", 2, 300),
])
def test_ideal_adc_gives_the_integer_product_exactly(device, encoding, cell_bits, k):
    """Integer weights reaching +-127 and inputs reaching 255 quantize with scale 1, so the
    output must be exactly x @ W, across row tiles, slices and encodings."""
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    d = modified(read_yaml(data_dir("devices") / f"{device}.yaml"),
                 **{"cim.signed_weights": encoding, "cim.cell_bits": cell_bits})
    rng = np.random.default_rng(5)
    n = 24
    w = rng.integers(-127, 128, size=(n, k)).astype(float)
    w[:, 0] = 127                      # every output channel reaches the full range
    x = rng.integers(0, 256, size=(3, k, 1, 1)).astype(float)
    x[:, 0] = 255
    res = accelsim.simulate(linear(k, n, w), d, values=True, inputs=x,
                            value_options={"ideal_adc": True})
    assert np.array_equal(res.output[:, :, 0, 0], x[:, :, 0, 0] @ w.T)


@pytest.mark.parametrize("rows", [258, 259])
def test_column_sums_at_the_edge_of_int16_are_exact(rows):
    """258 rows of 8-bit signed cells at +-127 driven by every input bit: column sums reach
    +-32,766, the largest value mode sums in int16 (259 rows: 32,893, summed in float32).
    With an ideal ADC the output is exactly x @ W either way, the extreme columns included."""
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    d = modified(read_yaml(data_dir("devices") / "cim-16x16.yaml"), **{"cim.rows": rows})
    rng = np.random.default_rng(9)
    w = rng.integers(-127, 128, size=(6, rows)).astype(float)
    w[0], w[1] = 127, -127                  # columns whose every cell is at full scale
    x = rng.integers(0, 256, size=(2, rows, 1, 1)).astype(float)
    x[0] = 255                              # every row driven in every input cycle
    res = accelsim.simulate(linear(rows, 6, w), d, values=True, inputs=x,
                            value_options={"ideal_adc": True})
    assert np.array_equal(res.output[:, :, 0, 0], x[:, :, 0, 0] @ w.T)
    assert res.output[0, 0, 0, 0] == 255 * 127 * rows


def test_ternary_weights_and_signed_inputs_on_ania():
    rng = np.random.default_rng(1)
    w = rng.integers(-1, 2, size=(64, 1024)).astype(float)
    w[:, 0] = 1
    x = rng.integers(-63, 64, size=(1, 1024, 1, 1)).astype(float)   # 6 bits + sign
    x[0, 0] = 63
    res = accelsim.simulate(linear(1024, 64, w), "ania-like", values=True, inputs=x,
                            value_options={"ideal_adc": True})
    assert np.array_equal(res.output[0, :, 0, 0], x[0, :, 0, 0] @ w.T)


def test_hand_computed_3_bit_adc_on_one_16x16_tile(cim16_dict):
    """Every input is 255 (q = 255: all 8 bit-planes drive all 16 rows), column k holds the
    weight w_k in all 16 rows, so every input cycle's column sum is 16 * w_k.
    3-bit bipolar ADC, full scale 0.25 * 16 rows * 1 * 255 = 1020: step 1020 / 3 = 340,
    codes -4 ... 3. The output is 255 (the 8 cycles' shifts 1 + 2 + ... + 128) * code * 340."""
    levels = {127: 3, 85: 3, 40: 2, 0: 0, -21: -1, -127: -4}
    # 16 * 127 / 340 = 5.98 -> 6 -> clipped to 3;  16 * 85 / 340 = 4 -> clipped to 3
    # 16 * 40 / 340 = 1.88 -> 2;  16 * -21 / 340 = -0.99 -> -1;  16 * -127 / 340 -> -4 (clip)
    column_values = [127, 85, 40, 0, -21, -127] * 2 + [0, 0, 0, 0]
    w = np.array([[value] * 16 for value in column_values], dtype=float)   # [out, in]
    x = np.full((16, 1, 1), 255.0)
    device = modified(cim16_dict, **{"cim.adc_bits": 3})
    res = accelsim.simulate(linear(16, 16, w), device, values=True, inputs=x,
                            value_options={"adc_range": "array", "adc_full_scale": 0.25,
                                           "per_channel": False})
    expected = [255 * levels[value] * 340 for value in column_values]
    assert res.output[:, 0, 0].tolist() == expected
    assert expected[:6] == [260100, 260100, 173400, 0, -86700, -346800]


def test_a_calibrated_adc_range_spans_the_largest_column_sum_seen(cim16_dict):
    """The hand-computed tile above with adc_range calibrated: the largest |column sum| its
    inputs produce is 16 x 127 = 2032 (every cycle drives all 16 rows), so the 3-bit bipolar
    ADC's step is 2032 / 3 instead of the array range's 16 x 1 x 255 / 3 = 1360.
    16 * 127 / (2032/3) = 3;  16 * 85 -> 2.01 -> 2;  16 * 40 -> 0.94 -> 1;  16 * -21 -> -0.50
    -> 0 (rounded to even);  16 * -127 -> -3."""
    levels = {127: 3, 85: 2, 40: 1, 0: 0, -21: 0, -127: -3}
    column_values = [127, 85, 40, 0, -21, -127] * 2 + [0, 0, 0, 0]
    w = np.array([[value] * 16 for value in column_values], dtype=float)
    x = np.full((16, 1, 1), 255.0)
    device = modified(cim16_dict, **{"cim.adc_bits": 3})
    res = accelsim.simulate(linear(16, 16, w), device, values=True, inputs=x,
                            value_options={"adc_range": "calibrated", "per_channel": False})
    step = 16 * 127 / 3
    expected = [255 * levels[value] * step for value in column_values]
    assert res.output[:, 0, 0].tolist() == pytest.approx(expected, rel=1e-12)


def test_a_calibrated_range_keeps_the_signal_a_fixed_range_loses():
    """ania-like's fixed range rounds a 3-input Linear's every output to zero (the test below).
    Calibrated on the layer's own 10 input vectors, no column sum clips and every output lies
    within half an ADC step (the largest |sum| over 31 levels) of the exact integer product."""
    wl = Workload.from_layers("tiny", [Input("in", shape=(3, 10, 1)), Linear("fc", ("in",), 4)])
    x = np.random.default_rng(3).uniform(-1, 1, size=(1, 3, 10, 1))
    x[0, 0, 0, 0] = 1.0                                   # input scale 1/63: q = round(63 x)
    calibrated = accelsim.simulate(wl, "ania-like", values=True, inputs=x, seed=1,
                                   value_options={"adc_range": "calibrated",
                                                  "per_channel": False})
    exact = accelsim.simulate(wl, "ania-like", values=True, inputs=x, seed=1,
                              value_options={"ideal_adc": True, "per_channel": False})
    assert calibrated.zeroed_layers == () and calibrated.output.any()
    # the ternary weights' scale: weights quantize to -1, 0, 1 times max|w|; inputs to q / 63
    w = random_weights(wl, 1)["fc"]
    scale = np.abs(w).max() / 63
    sums = exact.output / scale                          # the exact integer column sums
    assert np.allclose(sums, np.round(sums))
    step = np.abs(sums).max() / 31
    assert np.abs(calibrated.output - exact.output).max() / scale <= step / 2 + 1e-9


def layer_row(res, name="fc"):
    index = [layer.name for layer in res.layers].index(name)
    return res.layers[index], dict(zip(Action, res.action_counts[index]))


def test_half_zero_inputs_skip_cycles_and_save_the_counted_energy(cim16):
    """32 inputs on two row tiles; the first 16 are zero, so tile row 0 never runs."""
    rng = np.random.default_rng(2)
    w = rng.integers(-127, 128, size=(16, 32)).astype(float)
    x = np.concatenate([np.zeros(16), rng.integers(1, 256, size=16)]).reshape(32, 1, 1)
    x[16] = 255                                       # quantization scale 1: q equals x
    wl = linear(32, 16, w)
    dense = accelsim.simulate(wl, cim16)
    sparse = accelsim.simulate(wl, cim16, values=True, inputs=x)
    _, dense_counts = layer_row(dense)
    _, counts = layer_row(sparse)
    assert dense_counts[Action.ADC_CONVERT] == 2 * 16 * 8
    assert counts[Action.ADC_CONVERT] == 16 * 8                     # half the conversions
    driven = int(sum(np.count_nonzero((x[16:, 0, 0].astype(int) >> b) & 1) for b in range(8)))
    assert counts[Action.DAC_CONVERT] == driven                      # only nonzero bits driven
    c = cim16.cim
    # Cells read: 16 per driven row (dense: every row of both tiles, every cycle). Their
    # signal: the stored level (|quantized weight| / 255 for 8-bit cells, averaged over the
    # row's 16 columns) of each driven row; fast mode takes half scale.
    q_w, _ = quantized_weights(w.T, 8, ValueOptions().per_channel)
    row_level = (np.abs(q_w) / 255).mean(axis=1)
    signal = sum(16 * row_level[r] for b in range(8) for r in range(16, 32)
                 if (int(x[r, 0, 0]) >> b) & 1)
    assert counts[Action.ARRAY_READ] == 16 * driven
    assert counts[Action.CELL_SIGNAL] == pytest.approx(signal)
    saved = ((dense_counts[Action.DAC_CONVERT] - driven) * c.dac_pj
             + (2 * 16 * 16 * 8 - 16 * driven) * c.cell_read_pj
             + (0.5 * 2 * 16 * 16 * 8 - signal) * c.cell_signal_pj
             + 16 * 8 * (c.adc_pj + c.shift_add_pj + c.column_read_pj + c.clock_pj))
    assert (dense_counts[Action.TILE_CLOCK], counts[Action.TILE_CLOCK]) == (256, 128)
    assert layer_row(dense)[0].energy_pj - layer_row(sparse)[0].energy_pj == pytest.approx(saved)
    assert sparse.skipped["fc"]["energy_saved_pj"] == pytest.approx(saved)
    assert sparse.skipped["fc"]["adc_convert"] == 16 * 8


def test_zero_weight_tiles_are_not_mapped():
    rng = np.random.default_rng(3)
    w = rng.integers(-127, 128, size=(16, 32)).astype(float)
    w[:, :16] = 0                                                    # tile row 0 all zero
    x = rng.integers(0, 256, size=(32, 1, 1)).astype(float)
    res = accelsim.simulate(linear(32, 16, w), "cim-16x16", values=True, inputs=x,
                            value_options={"ideal_adc": True})
    fc, counts = layer_row(res)
    assert fc.tiles == 1 and res.skipped["fc"]["tiles_not_mapped"] == 1
    assert counts[Action.ADC_CONVERT] == 16 * 8
    q_x = np.rint(x[:, 0, 0] / (x.max() / 255))
    assert np.allclose(res.output[:, 0, 0] / (x.max() / 255 * np.abs(w).max(axis=1) / 127),
                       q_x @ np.rint(w.T / (np.abs(w).max(axis=1) / 127)))


def test_noise_is_seeded_bit_for_bit():
    options = {"cell_variation": 0.05, "read_noise": 0.5, "adc_offset": 0.2}
    first = accelsim.simulate("lenet5", "cim-16x16", values=True, seed=7, value_options=options)
    again = accelsim.simulate("lenet5", "cim-16x16", values=True, seed=7, value_options=options)
    other = accelsim.simulate("lenet5", "cim-16x16", values=True, seed=8, value_options=options)
    clean = accelsim.simulate("lenet5", "cim-16x16", values=True, seed=7)
    assert np.array_equal(first.output, again.output)
    assert not np.array_equal(first.output, other.output)
    assert not np.array_equal(first.output, clean.output)


def test_value_mode_input_errors():
    with pytest.raises(accelsim.AccelsimError, match=r"inputs must have shape \(1, 32, 32\)"):
        accelsim.simulate("lenet5", "cim-16x16", values=True, inputs=np.zeros((3, 32, 32)))
    with pytest.raises(accelsim.AccelsimError, match="need values=True"):
        accelsim.simulate("lenet5", "cim-16x16", inputs=np.zeros((1, 32, 32)))
    with pytest.raises(accelsim.AccelsimError, match="value_options"):
        accelsim.simulate("lenet5", "cim-16x16", values=True, value_options={"adc_bits": 3})
    with pytest.raises(accelsim.WorkloadError, match="weight shape"):
        linear(4, 2, np.zeros((4, 2)))


def test_zero_threshold_treats_small_inputs_as_zero():
    rng = np.random.default_rng(4)
    w = rng.integers(-127, 128, size=(16, 32)).astype(float)
    x = rng.random((32, 1, 1))
    small = np.abs(x) <= 0.3 * np.abs(x).max()
    zeroed = np.where(small, 0.0, x)
    options = {"ideal_adc": True, "zero_threshold": 0.3}
    thresholded = accelsim.simulate(linear(32, 16, w), "cim-16x16", values=True, inputs=x,
                                    value_options=options)
    by_hand = accelsim.simulate(linear(32, 16, w), "cim-16x16", values=True, inputs=zeroed,
                                value_options={"ideal_adc": True})
    assert small.any()
    assert np.array_equal(thresholded.output, by_hand.output)
    assert np.array_equal(thresholded.action_counts, by_hand.action_counts)


def test_an_all_zero_layer_maps_and_programs_nothing():
    w = np.zeros((16, 32))
    x = np.random.default_rng(5).random((32, 1, 1))
    for mode in ("fast", "reference"):
        res = accelsim.simulate(linear(32, 16, w), "cim-16x16", values=True, inputs=x,
                                preload_weights=False, mode=mode)
        fc, counts = layer_row(res)
        assert fc.tiles == 0 and res.skipped["fc"]["tiles_not_mapped"] == 2
        assert counts[Action.CELL_WRITE] == 0 and counts[Action.ADC_CONVERT] == 0
        assert np.all(res.output == 0)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_kept_tiles_equals_a_tile_by_tile_check(data):
    from accelsim.hardware.crossbar_values import kept_tiles, row_blocks
    from accelsim.hardware.tiling import tile_layer
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    k, n, groups = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40)), \
        data.draw(st.integers(1, 4))
    rows, cols, cells = data.draw(st.sampled_from([(8, 8, 1), (16, 16, 2), (4, 12, 4)]))
    tiling = tile_layer(k, n, groups, rows=rows, cols=cols, cells_per_weight=cells)
    q_w = np.zeros((groups * k, groups * n), dtype=np.int64)
    for g in range(groups):
        block = rng.integers(-3, 4, size=(k, n))
        block[rng.random((k, n)) < data.draw(st.sampled_from([0.0, 0.7, 0.97, 1.0]))] = 0
        q_w[g * k:(g + 1) * k, g * n:(g + 1) * n] = block
    per_tile = cols // cells
    expected = [bool(np.any(q_w[r0:r1, o0 + c * per_tile:min(o0 + (c + 1) * per_tile, o1)]))
                for r0, r1, o0, o1 in row_blocks(tiling) for c in range(tiling.tile_cols)]
    assert kept_tiles(q_w, tiling).tolist() == expected


@pytest.mark.slow
def test_value_mode_compiles_when_numba_was_imported_first(tmp_path):
    """accelsim gives numba's pool one thread more than the cores only when numba has not read
    its configuration yet: changing NUMBA_NUM_THREADS after numba's import made the next
    compilation fail once the pool had started. An empty cache forces the compilations."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path)
    code = ("import numba\n"
            "from accelsim import simulate\n"
            "simulate('lenet5', 'cim-16x16', values=True, seed=1)\n"
            "simulate('lenet5', 'cim-128x128-rram', values=True, seed=1,\n"
            "         value_options={'read_noise': 0.1})\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("device, change, workload, message", [
    # He-normal weights are signed: a 1-bit symmetric code holds only zero
    ("cim-16x16", {"cim.weight_bits": 1}, "linear-20x20",
     "layer 'fc': its weights are signed, and cim.weight_bits: 1 leaves"),
    # ff2 reads ff1's outputs, which no activation clips to positive
    ("cim-16x16", {"cim.input_bits": 1}, "mlp-tokens",
     "layer 'ff2': its inputs are signed, and cim.input_bits: 1 leaves"),
    ("eyeriss", {"systolic.operand_bits": 1}, "mlp-tokens",
     "layer 'ff1': its weights are signed, and systolic.operand_bits: 1 leaves"),
    # signed cells give signed column sums: a 1-bit converter of them has only zero (found
    # by fuzzing devices: it was a ZeroDivisionError)
    ("cim-16x16", {"cim.adc_bits": 1}, "linear-20x20",
     "layer 'fc': its column sums are signed, and cim.adc_bits: 1 leaves"),
])
def test_value_mode_refuses_one_bit_signed_codes_naming_the_layer_and_field(
        device, change, workload, message):
    from accelsim.spec.yamlfile import read_yaml
    from accelsim.sweep.grid import apply
    dev = apply(read_yaml(accelsim.available_devices()[device]), change, source="test")
    accelsim.simulate(workload, dev)                        # fast mode has no values to code
    with pytest.raises(accelsim.AccelsimError, match=message):
        accelsim.simulate(workload, dev, values=True)


def test_cells_above_half_scale_read_dearer_than_the_dense_plan():
    # Found by fuzzing workloads: value mode on cim-128x128-rram stopped on an internal
    # assertion that measured counts never exceed the dense plan's. l4, a 1x1 conv from one
    # channel to 33 (one row of cells), reads its cells above the dense plan's half scale:
    # the signal energy can exceed the plan's; counts cannot.
    from accelsim.energy.table import Action
    wl = accelsim.workload_from_dict({"version": 1, "name": "fuzzed", "layers": [
        {"name": "input", "type": "input", "shape": [3, 8, 9]},
        {"name": "l1", "type": "elementwise", "function": "mul", "inputs": ["input", "input"]},
        {"name": "l2", "type": "conv2d", "out_channels": 4, "kernel": 5, "activation": "relu"},
        {"name": "l3", "type": "conv2d", "out_channels": 1, "kernel": 3},
        {"name": "l4", "type": "conv2d", "out_channels": 33, "kernel": 1, "stride": 3,
         "activation": "gelu"}]})
    dense = accelsim.simulate(wl, "cim-128x128-rram")
    data = accelsim.simulate(wl, "cim-128x128-rram", values=True, seed=1)
    row = [layer.name for layer in data.layers].index("l4")
    signal = Action.CELL_SIGNAL
    assert data.action_counts[row][signal] > dense.action_counts[row][signal]
    for action in (Action.ARRAY_READ, Action.ADC_CONVERT, Action.DAC_CONVERT):
        assert data.action_counts[row][action] <= dense.action_counts[row][action]
    # the saving lists the signal's negative count, so re-pricing with the same prices gives
    # the same saving
    assert data.skipped["l4"]["cell_signal"] < 0
    again = data.repriced("cim-128x128-rram").skipped["l4"]["energy_saved_pj"]
    assert again == pytest.approx(data.skipped["l4"]["energy_saved_pj"], rel=1e-12)


def test_a_layer_whose_every_output_quantization_lost_is_named_and_warned():
    """With the array range, ania-like's 6-bit ADC spans its 1024 rows' largest column sum
    (1024 rows x 127 x a 2-bit cell's 3, over 31 levels: a step of 12,585), while a 3-input
    Linear's sums of ternary weights stay within 3 x 127: every output rounds to zero. The
    run completes,
    but says so: a warning, the result's zeroed_layers, the report and the JSON. A finer ADC
    range keeps the signal (ideal_adc: exact sums)."""
    from accelsim.errors import AccelsimWarning
    from accelsim.results.report import totals_lines
    wl = Workload.from_layers("tiny", [Input("in", shape=(3, 1, 1)), Linear("fc", ("in",), 4)])
    x = np.full((1, 3, 1, 1), 0.5)
    with pytest.warns(AccelsimWarning, match="1 weighted layer.*'fc'.*adc_range"):
        res = accelsim.simulate(wl, "ania-like", values=True, inputs=x, seed=1,
                                value_options={"adc_range": "array"})
    assert res.zeroed_layers == ("fc",)
    assert not res.output.any()
    assert res.to_dict()["zeroed_layers"] == ["fc"]
    assert any(line.startswith("WARNING") and "'fc'" in line for line in totals_lines(res))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccelsimWarning)
        exact = accelsim.simulate(wl, "ania-like", values=True, inputs=x, seed=1,
                                  value_options={"ideal_adc": True})
    assert exact.zeroed_layers == () and exact.output.any()
    assert "zeroed_layers" not in exact.to_dict()
    # all-zero inputs give zero outputs without any loss to name
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccelsimWarning)
        zero = accelsim.simulate(wl, "ania-like", values=True, inputs=0 * x, seed=1)
    assert zero.zeroed_layers == ()


def test_value_options_on_the_command_line():
    from click.testing import CliRunner

    from accelsim.cli import main
    run = ["run", "-d", "ania-like", "-w", "mlp", "--values", "-q"]
    out = CliRunner().invoke(main, run)                     # the calibrated range, the default
    assert out.exit_code == 0 and "WARNING" not in out.output
    fixed = [*run, "--value-option", "adc_range=array"]
    out = CliRunner().invoke(main, fixed)
    assert out.exit_code == 0 and "WARNING" in out.output and "'fc1'" in out.output
    out = CliRunner().invoke(main, [*fixed, "--value-option", "adc_full_scale=0.01",
                                    "--value-option", "per_channel=false"])
    assert out.exit_code == 0 and "WARNING" not in out.output
    for bad, fragment in (("adc_full_scale=2", "adc_full_scale must be"),
                          ("adc_range=full", "adc_range must be one of array, calibrated"),
                          ("bogus=1", "unknown option 'bogus'"),
                          ("ideal_adc=yes", "true or false"),
                          ("read_noise", "not KEY=VALUE")):
        out = CliRunner().invoke(main, [*run, "--value-option", bad])
        assert out.exit_code == 2 and fragment in out.output, (bad, out.output)
    out = CliRunner().invoke(main, ["run", "-d", "ania-like", "-w", "mlp",
                                    "--value-option", "ideal_adc=true"])
    assert out.exit_code == 2 and "needs --values" in out.output


@pytest.mark.parametrize("device, adc_range", [
    ("cim-16x16", "array"), ("cim-128x128-rram", "array"), ("eyeriss", "array"),
    ("cim-16x16", "calibrated"), ("cim-128x128-rram", "calibrated"), ("ania-like", "calibrated")])
def test_an_image_does_not_depend_on_the_others_in_its_batch(device, adc_range):
    """Found by a relation check: inputs were quantized on the batch's largest value, so an
    image's output changed with the images beside it (LeNet-5 on cim-128x128-rram by more
    than its own largest output). Each image now has its own scale: its output is the same
    alone or in a batch, and the batch's counts are the sum of its images'. A calibrated ADC
    range is calibrated on each image's own vectors, for the same reason."""
    rng = np.random.default_rng(0)
    shape = accelsim.load_workload("lenet5").shapes["input"]
    x, y = rng.random(shape), 0.3 * rng.random(shape)
    options = {"adc_range": adc_range}
    alone = [accelsim.simulate("lenet5", device, values=True, inputs=v, seed=3,
                               value_options=options) for v in (x, y)]
    both = accelsim.simulate("lenet5", device, values=True, inputs=np.stack([x, y]), seed=3,
                             value_options=options)
    assert np.array_equal(both.output[0], alone[0].output)
    assert np.array_equal(both.output[1], alone[1].output)
    if device != "eyeriss":      # (a systolic batch merges into one GEMM: weights fetched once)
        assert np.allclose(both.action_counts.sum(axis=0),
                           sum(run.action_counts.sum(axis=0) for run in alone))


def test_per_image_input_scales_match_quantizing_each_image_alone():
    from accelsim.kernels.quantize import quantize, quantized_inputs
    rng = np.random.default_rng(1)
    columns = rng.random((3 * 5, 7)) * np.array([1.0, 0.2, 3.0]).repeat(5)[:, None]
    q, scale, signed = quantized_inputs(columns, 6, images=3)
    assert not signed and scale.shape == (15, 1)
    for image in range(3):
        rows = slice(5 * image, 5 * image + 5)
        expected, step = quantize(columns[rows], 6, signed=False)
        assert np.array_equal(q[rows], expected)
        assert np.allclose(scale[rows], step)


def test_of_several_outputs_value_mode_returns_the_one_listed_last():
    """Two heads read one input: 'wide' (8 outputs) and 'narrow' (3). The layers' order is
    the graph's (either listing gives the same figures), but Result.output is the output
    listed last, as the file has it: 'narrow' in one listing, 'wide' in the other."""
    from accelsim.workload import Input, Linear, Workload
    x = Input("x", shape=(16, 1, 1))
    wide, narrow = Linear("wide", ("x",), 8), Linear("narrow", ("x",), 3)
    image = np.random.default_rng(0).random((16, 1, 1))
    for listing, last in (([x, wide, narrow], 3), ([x, narrow, wide], 8)):
        wl = Workload.from_layers("heads", listing)
        res = accelsim.simulate(wl, "cim-16x16", values=True, inputs=image, seed=2)
        assert np.asarray(res.output).shape[0] == last


def test_a_value_run_records_its_seed_and_options():
    """A value-mode result says what produced its numbers: the seed and every value option,
    in to_dict() (so in the JSON) and in the report; a run without values has none."""
    from accelsim.results.report import totals_lines
    res = accelsim.simulate("lenet5", "cim-16x16", values=True, seed=7,
                            value_options={"adc_range": "array", "read_noise": 0.25})
    run = res.to_dict()["value_run"]
    assert run == {"seed": 7, "ideal_adc": False, "adc_range": "array", "adc_full_scale": 1.0,
                   "per_channel": True, "cell_variation": 0.0, "read_noise": 0.25,
                   "adc_offset": 0.0, "zero_threshold": 0.0}
    line = next(line for line in totals_lines(res) if line.startswith("values"))
    assert "seed 7" in line and "fixed" in line and "read_noise=0.25" in line
    assert "calibrated" in next(line for line in totals_lines(
        accelsim.simulate("lenet5", "cim-16x16", values=True)) if line.startswith("values"))
    fast = accelsim.simulate("lenet5", "cim-16x16")
    assert fast.value_run is None and "value_run" not in fast.to_dict()
    assert not any(line.startswith("values") for line in totals_lines(fast))
    with pytest.raises(accelsim.AccelsimError, match="value_options must be a ValueOptions"):
        accelsim.simulate("lenet5", "cim-16x16", values=True, value_options=[1])


@pytest.mark.parametrize("device", ["cim-16x16", "cim-128x128-rram"])
def test_the_block_by_block_path_calibrates_each_image_as_the_layer_path_does(device):
    """Read noise sends value mode down the block-by-block path. With noise below the
    resolution of any column sum (1e-300: even a sum on an exact half step rounds as without
    it) it must convert every sum as the one-call path does, each image of a batch on its
    own range (the two paths add some figures in another order: rel 1e-12)."""
    rng = np.random.default_rng(4)
    shape = accelsim.load_workload("lenet5").shapes["input"]
    x = np.stack([rng.random(shape), 0.2 * rng.random(shape)])
    quiet, noisy = (accelsim.simulate("lenet5", device, values=True, inputs=x, seed=5,
                                      value_options={"read_noise": noise})
                    for noise in (0.0, 1e-300))
    assert np.allclose(quiet.output, noisy.output, rtol=1e-12, atol=1e-12)
    assert np.allclose(quiet.action_counts, noisy.action_counts, rtol=1e-12)
    # and on this path too, the second image of the batch gives what it gives alone
    shared = accelsim.simulate("lenet5", device, values=True, inputs=x[1], seed=5)
    assert np.allclose(noisy.output[1], shared.output, rtol=1e-12, atol=1e-12)


def test_seeded_weights_are_drawn_once_and_kept_read_only(monkeypatch):
    """A second value-mode run of the same network and seed reuses the first's random
    weights: the same draws (numpy's own generator, layer by layer, is the reference), kept
    read-only; another seed or another network draws its own; a network whose weights
    exceed the budget is drawn at every run."""
    from accelsim.values import measure
    monkeypatch.setattr(measure, "_WEIGHTS", type(measure._WEIGHTS)())
    wl = accelsim.load_workload("lenet5")
    rng = np.random.default_rng(5)
    reference = {}
    for name in wl.order:
        if wl.layers[name].weighted:
            shape = weight_shape(wl, name)
            reference[name] = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:])), size=shape)
    first = measure.seeded_weights(wl, 5)
    assert first.keys() == reference.keys()
    assert all(np.array_equal(first[name], reference[name]) for name in reference)
    assert all(not array.flags.writeable for array in first.values())
    assert measure.seeded_weights(accelsim.load_workload("lenet5"), 5) is first
    assert measure.seeded_weights(wl, 6) is not first
    assert measure.seeded_weights(accelsim.load_workload("small-cnn"), 5).keys() != first.keys()
    one = accelsim.simulate(wl, "cim-16x16", values=True, seed=5)
    two = accelsim.simulate(wl, "cim-16x16", values=True, seed=5)
    assert np.array_equal(one.output, two.output) and one.energy_pj == two.energy_pj
    monkeypatch.setattr(measure, "WEIGHT_CACHE_BYTES", 1000)
    monkeypatch.setattr(measure, "_WEIGHTS", type(measure._WEIGHTS)())
    drawn = measure.seeded_weights(wl, 5)
    assert measure.seeded_weights(wl, 5) is not drawn and not measure._WEIGHTS
    assert all(array.flags.writeable for array in drawn.values())
