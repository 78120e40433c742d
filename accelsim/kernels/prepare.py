"""Value mode's operands prepared in one pass each (numba): quantized inputs and weights, and
the weights sliced into cells. Each equals its numpy twin in kernels.quantize bit for bit
(the tests hold them to it); rows are independent, so the threads change no result.
"""

from __future__ import annotations

import numpy as np

from accelsim._jit import jit_parallel_exact, prange

BAND = 8                  # cell_matrix: rows per band


@jit_parallel_exact
def row_extremes(x, peak, low):
    """peak[r] = max |x[r, :]| and low[r] = min x[r, :] of a 2-D array."""
    for r in prange(x.shape[0]):
        top = 0.0
        least = np.inf
        for c in range(x.shape[1]):
            value = x[r, c]
            top = max(top, abs(value))
            least = min(least, value)
        peak[r] = top
        low[r] = least


@jit_parallel_exact
def quantize_rows(x, scale, low, high, out):
    """out[r, c] = clip(rint(x[r, c] / scale[r]), low, high), as quantize.quantize computes
    it."""
    for r in prange(x.shape[0]):
        s = scale[r]
        for c in range(x.shape[1]):
            out[r, c] = np.int64(min(max(np.rint(x[r, c] / s), low), high))


@jit_parallel_exact
def cell_matrix(w, cell_bits, slices, encoding, offset, row_first, row_last, cells, row_sum):
    """The cells of integer weights w [K, N] written into ``cells`` [K, N * per] (int8, int16,
    float32 or float64) in one pass, laid out as quantize.slice_weights lays them out; and
    row_sum[r], the sum of |cell| of row r over weights row_first[r]:row_last[r] (its row
    block's).

    encoding: 0 "cell" (two's-complement slices, the top one signed), 1 "offset" (w + offset
    in unsigned slices), 2 "differential" (max(w, 0) then max(-w, 0), unsigned slices).
    """
    k_rows, n = w.shape
    mask = (1 << cell_bits) - 1
    per = slices * 2 if encoding == 2 else slices
    # Rows in bands of BAND, weight by weight across the band: reads stay contiguous when w
    # is column-major (a transposed layer), and writes go to BAND row streams.
    bands = (k_rows + BAND - 1) // BAND
    for band in prange(bands):
        r_lo = band * BAND
        r_hi = min(k_rows, r_lo + BAND)
        for r in range(r_lo, r_hi):
            row_sum[r] = 0.0
        for j in range(n):
            base = j * per
            for r in range(r_lo, r_hi):
                x = w[r, j]
                part = 0
                if encoding == 2:
                    plus = x if x > 0 else 0
                    minus = -x if x < 0 else 0
                    for s in range(slices):
                        high = (plus >> (s * cell_bits)) & mask
                        low = (minus >> (s * cell_bits)) & mask
                        cells[r, base + s] = high
                        cells[r, base + slices + s] = low
                        part += high + low
                else:
                    if encoding == 1:
                        x += offset
                    for s in range(slices):
                        digit = (x >> (s * cell_bits)) & mask if s < slices - 1 \
                            or encoding == 1 else x >> (s * cell_bits)
                        cells[r, base + s] = digit
                        part += digit if digit >= 0 else -digit
                if row_first[r] <= j < row_last[r]:
                    row_sum[r] += part
