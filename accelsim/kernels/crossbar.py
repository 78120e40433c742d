"""The crossbar matrix-vector kernel: analog column sums, the ADC, and shift-and-add.

One call covers one block of rows (one row of tiles) for many input vectors. Random read noise
is drawn by the caller and passed in, so the kernel is deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from accelsim._jit import jit_parallel


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


@jit_parallel
def crossbar_layer(q, dac_bits, cycles, cells, row_start, row_end, col_start, col_end,
                   out_start, slices, step, code_low, code_high, cycle_weight, column_weight,
                   offset, column_offset, row_level, acc, active_rows, signal):
    """A whole layer's row blocks for many input vectors in one parallel call: the bit-planes
    of the inputs are taken inside (no [V, C, K] array of drives), and each vector's blocks
    run in order on one thread, with the sums of crossbar_mvm in the same order.

    q [V, K] int64: quantized inputs (sign-magnitude: cycle c drives
    sign(q) * ((|q| >> c * dac_bits) & (2^dac_bits - 1))).
    cells [K, W] float64: the layer's cells; block b holds rows row_start[b]:row_end[b] and
    cell columns col_start[b]:col_end[b], adding into outputs out_start[b] + column // slices.
    column_weight [W]: shift factor of each cell column; column_offset [B, width]: the ADC
    offset of each block's columns, in units of the column sum.
    offset: the digital correction of offset encoding (offset x the block's input sum).
    row_level [K]: the stored level of each row (mean over its block's columns).
    acc [V, N] (in/out); active_rows [V, B, C] int32 and signal [V, B, C] float64 (out): rows
    driven, and their summed stored level, per block and input cycle.
    """
    vectors = q.shape[0]
    blocks = row_start.size
    mask = (1 << dac_bits) - 1
    inverse = 1.0 / step
    width = 0
    for b in range(blocks):
        width = max(width, col_end[b] - col_start[b])
    for v in prange(vectors):
        sums = np.empty(width)
        converted = np.empty(width)
        local = np.empty(width)
        for b in range(blocks):
            r0, r1, c0 = row_start[b], row_end[b], col_start[b]
            columns = col_end[b] - c0
            outputs = columns // slices
            converted[:columns] = 0.0
            for c in range(cycles):
                sums[:columns] = 0.0
                active = 0
                level = 0.0
                shift_bits = c * dac_bits
                for r in range(r0, r1):
                    x = q[v, r]
                    magnitude = x if x >= 0 else -x
                    drive = (magnitude >> shift_bits) & mask
                    if drive != 0:
                        if x < 0:
                            drive = -drive
                        active += 1
                        level += row_level[r]
                        for k in range(columns):
                            sums[k] += drive * cells[r, c0 + k]
                active_rows[v, b, c] = active
                signal[v, b, c] = level
                if active == 0:
                    continue
                shift = cycle_weight[c]
                for k in range(columns):
                    total = sums[k] + column_offset[b, k]
                    code = min(max(np.rint(total * inverse), code_low), code_high)
                    converted[k] += code * shift
            local[:outputs] = 0.0
            for k in range(columns):
                local[k // slices] += converted[k] * step * column_weight[c0 + k]
            if offset != 0:
                total_input = 0
                for r in range(r0, r1):
                    total_input += q[v, r]
                correction = offset * total_input
                for o in range(outputs):
                    local[o] -= correction
            first = out_start[b]
            for o in range(outputs):
                acc[v, first + o] += local[o]
