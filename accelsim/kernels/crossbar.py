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
