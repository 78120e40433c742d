"""The crossbar matrix-vector kernel: analog column sums, the ADC, and shift-and-add.

One call covers one block of rows (one row of tiles) for many input vectors. Random read noise
is drawn by the caller and passed in, so the kernel is deterministic.
"""

from __future__ import annotations

import numpy as np

from accelsim._jit import jit, jit_parallel, prange


@jit_parallel
def crossbar_mvm(drives, cells, step, code_low, code_high, cycle_weight, column_weight,
                 column_output, offset, noise, acc, active_rows):
    """Accumulate converted, shifted column sums into ``acc``; count driven rows.

    drives [V, C, R] int32: signed input chunk per vector, input cycle and row.
    cells [R, K] float64: cell values of the block's K columns.
    step, code_low, code_high: the ADC returns clip(rint(sum / step), low, high) * step.
    cycle_weight [C], column_weight [K]: shift factors of input cycles and of column slices.
    column_output [K] int64: the output (weight) each column adds into.
    offset [K]: ADC offset per column, in units of the column sum.
    noise: [V, C, K] read noise added to the sums, or a (0, 0, 0) array for none.
    acc [V, N] float64 (in/out); active_rows [V, C] int32 (out): rows driven (nonzero input).
    Rows not driven cost no work; a cycle with no row driven is not converted at all.
    """
    vectors, cycles, rows = drives.shape
    columns = cells.shape[1]
    noisy = noise.size > 0
    inverse = 1.0 / step
    for v in prange(vectors):
        sums = np.empty(columns)
        converted = np.zeros(columns)
        for c in range(cycles):
            sums[:] = 0.0
            active = 0
            for r in range(rows):
                drive = drives[v, c, r]
                if drive != 0:
                    active += 1
                    for k in range(columns):
                        sums[k] += drive * cells[r, k]
            active_rows[v, c] = active
            if active == 0:
                continue
            shift = cycle_weight[c]
            for k in range(columns):
                total = sums[k] + offset[k]
                if noisy:
                    total += noise[v, c, k]
                code = min(max(np.rint(total * inverse), code_low), code_high)
                converted[k] += code * shift
        for k in range(columns):
            acc[v, column_output[k]] += converted[k] * step * column_weight[k]


@jit
def _column_sums(cells, rows, drives, count, c0, span, sums):
    """sums[:span] = the column sums of cells[rows[a], c0:c0 + span] times drives[a] over the
    ``count`` driven rows, added in row order (as crossbar_mvm adds them), four rows per pass
    over the sums, in the arithmetic of the drives' and sums' dtype.
    (Indexing by slices and range variables lets LLVM vectorize the column loops.)"""
    out = sums[:span]
    out[:] = 0.0
    a = 0
    while a + 4 <= count:
        da, db, dc, dd = drives[a], drives[a + 1], drives[a + 2], drives[a + 3]
        xa = cells[rows[a], c0:c0 + span]
        xb = cells[rows[a + 1], c0:c0 + span]
        xc = cells[rows[a + 2], c0:c0 + span]
        xd = cells[rows[a + 3], c0:c0 + span]
        for k in range(span):
            out[k] = (((out[k] + da * xa[k]) + db * xb[k]) + dc * xc[k]) + dd * xd[k]
        a += 4
    while a < count:
        d = drives[a]
        x = cells[rows[a], c0:c0 + span]
        for k in range(span):
            out[k] += d * x[k]
        a += 1


@jit
def _drives(x, r0, r1, dac_bits, cycles, row_level, driven, drives, active, level):
    """One vector's drives of rows r0:r1 in every input cycle, from its quantized inputs x
    (sign-magnitude: cycle c drives sign(x) * ((|x| >> c * dac_bits) & (2^dac_bits - 1))):
    per cycle c, the active[c] rows driven (driven[c, :active[c]], in row order), their
    drives (drives[c], in its dtype) and their summed stored level (level[c])."""
    mask = (1 << dac_bits) - 1
    active[:] = 0
    level[:] = 0.0
    for r in range(r0, r1):
        value = x[r]
        if value == 0:
            continue
        magnitude = value if value >= 0 else -value
        sign = -1 if value < 0 else 1
        weight = row_level[r]
        for c in range(cycles):  # without branches: the slot is kept if driven
            drive = (magnitude >> (c * dac_bits)) & mask
            n = active[c]
            driven[c, n] = r
            drives[c, n] = sign * drive
            on = 1 if drive != 0 else 0
            active[c] = n + on
            level[c] += weight * on


# crossbar_layer's working set: a thread takes this many vectors at a time, so each cell read
# from memory serves all of them, and this many columns of a row block at a time, so that
# the block's cells and the vectors' sums stay in the core's caches (256 columns of 128 rows:
# 32 kB of int8 cells, 256 kB of float64 ones). Wider chunks mean fewer calls per vector and
# cycle: 256 took ResNet-18's kernel time on 128-row tiles from 0.20 to 0.17 s against 128
# (float32 cells then).
VECTOR_GROUP = 8
COLUMN_CHUNK = 256


@jit_parallel
def crossbar_layer(q, dac_bits, cycles, cells, row_start, row_end, col_start, col_end,
                   out_start, slices, step, code_low, code_high, cycle_weight, column_weight,
                   offset, column_offset, row_level, acc, driven_rows, cycles_run, signal,
                   arithmetic):
    """A whole layer's row blocks for many input vectors in one parallel call: the bit-planes
    of the inputs are taken inside (no [V, C, K] array of drives), and each vector's blocks
    run in order, with the sums of crossbar_mvm in the same order. Vectors go in groups of
    VECTOR_GROUP (one thread each) and columns in chunks of COLUMN_CHUNK, so the cells are
    read from memory once per group rather than once per vector; every vector's arithmetic
    is the same, in the same order.

    q [V, K] int32 or int64: quantized inputs (sign-magnitude: cycle c drives
    sign(q) * ((|q| >> c * dac_bits) & (2^dac_bits - 1))).
    cells [K, W]: the layer's cells; block b holds rows row_start[b]:row_end[b] and cell
    columns col_start[b]:col_end[b], adding into outputs out_start[b] + column // slices.
    arithmetic: an empty array whose dtype the column sums are computed in. float64 with
    float64 cells; or, when every partial column sum is an integer below 2**24, float32
    (then exactly equal, and twice as many columns per vector instruction) with integer
    cells (int8 or int16: a quarter or half of the memory of float32 cells); or, below
    2**15, int16 (exactly equal again, twice as many columns again, no conversion).
    column_weight [W]: shift factor of each cell column; column_offset [B, width]: the ADC
    offset of each block's columns, in units of the column sum.
    offset: the digital correction of offset encoding (offset x the block's input sum).
    row_level [K]: the stored level of each row (mean over its block's columns).
    acc [V, N] (in/out). Out, per block and vector [B, V], summed over the input cycles in
    order: driven_rows (int64) the rows driven, cycles_run (int64) the cycles with a row
    driven, signal (float64) the stored level of the rows driven.
    """
    vectors = q.shape[0]
    blocks = row_start.size
    inverse = 1.0 / step
    width = 0
    height = 0
    for b in range(blocks):
        width = max(width, col_end[b] - col_start[b])
        height = max(height, row_end[b] - row_start[b])
    groups = (vectors + VECTOR_GROUP - 1) // VECTOR_GROUP
    for g in prange(groups):
        v0 = g * VECTOR_GROUP
        count = min(VECTOR_GROUP, vectors - v0)
        sums = np.empty(COLUMN_CHUNK, dtype=arithmetic.dtype)
        converted = np.empty((VECTOR_GROUP, width))
        # Per vector of the group and input cycle: its driven rows, their drives (in the
        # sums' dtype, so that the column sums stay in it), how many, their summed level.
        driven = np.empty((VECTOR_GROUP, cycles, height), dtype=np.int64)
        drives = np.empty((VECTOR_GROUP, cycles, height), dtype=arithmetic.dtype)
        active = np.empty((VECTOR_GROUP, cycles), dtype=np.int64)
        level = np.empty((VECTOR_GROUP, cycles))
        for b in range(blocks):
            r0, r1, c0 = row_start[b], row_end[b], col_start[b]
            columns = col_end[b] - c0
            outputs = columns // slices
            converted[:count, :columns] = 0.0
            for i in range(count):
                _drives(q[v0 + i], r0, r1, dac_bits, cycles, row_level, driven[i], drives[i],
                        active[i], level[i])
                rows_driven = 0
                cycles_driven = 0
                levels = 0.0
                for c in range(cycles):
                    rows_driven += active[i, c]
                    cycles_driven += 1 if active[i, c] > 0 else 0
                    levels += level[i, c]
                driven_rows[b, v0 + i] = rows_driven
                cycles_run[b, v0 + i] = cycles_driven
                signal[b, v0 + i] = levels
            for c in range(cycles):
                shift = cycle_weight[c]
                for k0 in range(0, columns, COLUMN_CHUNK):
                    span = min(COLUMN_CHUNK, columns - k0)
                    offsets = column_offset[b, k0:k0 + span]
                    for i in range(count):
                        n = active[i, c]
                        if n == 0:
                            continue
                        _column_sums(cells, driven[i, c], drives[i, c], n, c0 + k0, span, sums)
                        out = converted[i, k0:k0 + span]
                        for k in range(span):
                            total = sums[k] + offsets[k]
                            code = min(max(np.rint(total * inverse), code_low), code_high)
                            out[k] += code * shift
            first = out_start[b]
            for i in range(count):       # shift-and-add of the slices into the outputs
                correction = 0.0
                if offset != 0:
                    total_input = 0
                    for r in range(r0, r1):
                        total_input += q[v0 + i, r]
                    correction = offset * total_input
                if slices == 1:          # the same sums, in a loop LLVM vectorizes
                    for o in range(outputs):
                        acc[v0 + i, first + o] += (0.0 + converted[i, o] * step
                                                   * column_weight[c0 + o]) - correction
                    continue
                for o in range(outputs):
                    part = 0.0
                    for s in range(slices):
                        k = o * slices + s
                        part += converted[i, k] * step * column_weight[c0 + k]
                    acc[v0 + i, first + o] += part - correction


@jit_parallel
def column_peaks(q, dac_bits, cycles, cells, row_start, row_end, col_start, col_end, peaks,
                 arithmetic):
    """peaks[b, v] = the largest |column sum| of block b's columns over vector v's input
    cycles: the sums crossbar_layer converts (the same rows, drives and order, before any ADC
    offset), with no conversion. Arguments as crossbar_layer's."""
    vectors = q.shape[0]
    blocks = row_start.size
    height = 0
    for b in range(blocks):
        height = max(height, row_end[b] - row_start[b])
    unused = np.zeros(q.shape[1])
    for v in prange(vectors):
        sums = np.empty(COLUMN_CHUNK, dtype=arithmetic.dtype)
        driven = np.empty((cycles, height), dtype=np.int64)
        drives = np.empty((cycles, height), dtype=arithmetic.dtype)
        active = np.empty(cycles, dtype=np.int64)
        level = np.empty(cycles)
        for b in range(blocks):
            _drives(q[v], row_start[b], row_end[b], dac_bits, cycles, unused, driven, drives,
                    active, level)
            columns = col_end[b] - col_start[b]
            peak = 0.0
            for c in range(cycles):
                n = active[c]
                if n == 0:
                    continue
                for k0 in range(0, columns, COLUMN_CHUNK):
                    span = min(COLUMN_CHUNK, columns - k0)
                    _column_sums(cells, driven[c], drives[c], n, col_start[b] + k0, span, sums)
                    for k in range(span):
                        peak = max(peak, abs(float(sums[k])))
            peaks[b, v] = peak
