"""Quantization and bit slicing (vectorized numpy; small pure functions).

Inputs are sign-magnitude: the magnitude is applied ``dac_bits`` at a time (least significant
chunk first) and the DAC drives the sign, so each input cycle's column sum may be negative.
Weights are sliced into ``cell_bits`` cells in one of three encodings (see slice_weights).
"""

from __future__ import annotations

import numpy as np

from accelsim.arith import ceil_div


def quantize(x: np.ndarray, bits: int, *, signed: bool, axis: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric linear quantization to integers; returns (integers, scale).

    Signed values use [-(2^(bits-1) - 1), 2^(bits-1) - 1], unsigned [0, 2^bits - 1]; ``axis``
    gives a scale per slice along that axis (per output channel), else one scale.
    x ≈ integers * scale.
    """
    levels = code_levels(bits, signed)
    peak = np.max(np.abs(x), axis=axis, keepdims=axis is not None) if x.size else np.zeros(1)
    scale = np.where(peak > 0, peak / levels, 1.0)
    q = np.clip(np.rint(x / scale), -levels if signed else 0, levels).astype(np.int64)
    return q, scale


def input_chunks(q: np.ndarray, magnitude_bits: int, dac_bits: int, cycles: int) -> np.ndarray:
    """Signed drive values per input cycle: q [..., rows] -> [..., cycles, rows] (int32).

    Cycle c drives sign(q) * ((|q| >> (c * dac_bits)) & (2^dac_bits - 1)).
    """
    magnitude = np.abs(q)
    if magnitude.size and magnitude.max() >= 2 ** magnitude_bits:
        raise ValueError(f"inputs exceed {magnitude_bits} magnitude bits")
    sign = np.sign(q)
    mask = (1 << dac_bits) - 1
    shifts = dac_bits * np.arange(cycles)
    chunks = (magnitude[..., None, :] >> shifts[:, None]) & mask
    return (chunks * sign[..., None, :]).astype(np.int32)


ENCODINGS = ("cell", "offset", "differential")


def slice_layout(weight_bits: int, cell_bits: int, encoding: str, n: int
                 ) -> tuple[int, np.ndarray, int]:
    """How slice_weights lays out n weights: (cell columns per weight, column_weight [n *
    that], offset)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown signed-weight encoding {encoding!r}")
    slices = ceil_div(weight_bits, cell_bits)
    place = (2 ** cell_bits) ** np.arange(slices, dtype=np.float64)
    if encoding == "differential":
        return 2 * slices, np.tile(np.concatenate([place, -place]), n), 0
    return slices, np.tile(place, n), 2 ** (weight_bits - 1) if encoding == "offset" else 0


def slice_weights(w: np.ndarray, weight_bits: int, cell_bits: int, encoding: str
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """Slice integer weights w [K, N] into cells [K, N * S], weight by weight, side by side.

    Returns (cells, column_weight [N * S], offset): a column's converted sum is multiplied by
    its column_weight and added into its weight's output; ``offset`` (for "offset" encoding)
    times the sum of the inputs is then subtracted digitally.

    cell:          two's-complement slices, the most significant one signed.
    offset:        w + 2^(weight_bits-1) >= 0 in unsigned slices.
    differential:  |w| in unsigned slices on a positive and a negative set of columns.

    (Value mode writes the same cells in one pass with kernels.prepare.cell_matrix; this
    is its numpy twin.)
    """
    k, n = w.shape
    per, column_weight, offset = slice_layout(weight_bits, cell_bits, encoding, n)
    slices = ceil_div(weight_bits, cell_bits)
    if encoding == "offset":
        cells = _unsigned_slices(w + offset, slices, cell_bits)
    elif encoding == "differential":
        cells = np.concatenate([_unsigned_slices(np.maximum(w, 0), slices, cell_bits),
                                _unsigned_slices(np.maximum(-w, 0), slices, cell_bits)],
                               axis=2)                               # [K, N, 2S]
    else:
        cells = _unsigned_slices(w, slices, cell_bits)               # two's complement digits
        cells[..., -1] = w >> (cell_bits * (slices - 1))             # arithmetic shift: signed
    return cells.reshape(k, n * per), column_weight, offset


def _unsigned_slices(w: np.ndarray, slices: int, cell_bits: int) -> np.ndarray:
    mask = (1 << cell_bits) - 1
    shifts = cell_bits * np.arange(slices)
    return ((w[..., None] >> shifts) & mask).astype(np.int64, copy=False)


class NoLevels(ValueError):
    """A signed value in a 1-bit code: the symmetric code -(2^(b-1)-1) ... 2^(b-1)-1 has no
    level but zero. ``operand`` is "inputs" or "weights" where the caller knows it."""

    def __init__(self, bits: int, signed: bool, operand: str = "values") -> None:
        self.bits, self.signed, self.operand = bits, signed, operand
        super().__init__(f"{bits} bits leave no levels for "
                         f"{'signed' if signed else 'unsigned'} {operand}")


def code_levels(bits: int, signed: bool, operand: str = "values") -> int:
    """The largest code of a ``bits``-bit code (symmetric when ``signed``); NoLevels when it
    has no level but zero."""
    levels = (2 ** (bits - 1) - 1) if signed else (2 ** bits - 1)
    if levels < 1:
        raise NoLevels(bits, signed, operand)
    return levels


def _extremes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max |x|, min x) of each row of a 2-D array, by a numba kernel. x is passed read-only,
    as weights arrive: numba compiles once per argument type and read-only is a type of its
    own, so the kernel compiles once rather than twice (about 1 s with an empty cache)."""
    from accelsim._jit import balanced  # numba: on first use
    from accelsim.kernels.prepare import row_extremes
    x = x.view()
    x.flags.writeable = False
    peak, least = np.empty(x.shape[0]), np.empty(x.shape[0])
    with balanced(x.shape[0]):
        row_extremes(x, peak, least)
    return peak, least


def _rounded(x: np.ndarray, scale: np.ndarray, low: int, high: int, dtype) -> np.ndarray:
    """clip(rint(x / scale per row), low, high) as ``dtype``, by a numba kernel (x read-only,
    as in _extremes)."""
    from accelsim._jit import balanced  # numba: on first use
    from accelsim.kernels.prepare import quantize_rows
    x = x.view()
    x.flags.writeable = False
    q = np.empty(x.shape, dtype=dtype)
    with balanced(x.shape[0]):
        quantize_rows(x, scale, low, high, q)
    return q


def image_count(vectors: int, images: int) -> int:
    """How many images ``vectors`` input vectors are taken as, each on its own scale:
    ``images`` when they split evenly into that many, else one."""
    return images if images > 1 and vectors and vectors % images == 0 else 1


def quantized_inputs(columns: np.ndarray, bits: int, zero_threshold: float = 0.0,
                     dtype=np.int64, images: int = 1):
    """Input vectors [V, K] quantized for a layer: (integers of ``dtype``, scale, signed), as
    quantize() gives them, in one pass of a numba kernel. Inputs with |x| at most
    ``zero_threshold`` times the largest are taken as zero first.

    With ``images`` > 1 the vectors are that many images' in turn, and each image has its own
    scale (and zero threshold), from its own largest input: an image's result does not
    depend on the other images of its batch. The scale is then a [V, 1] array (a float for
    one image). Whether the code is signed is decided for the whole batch."""
    images = image_count(columns.shape[0], images) if columns.ndim == 2 and columns.size else 1
    if zero_threshold > 0 and columns.size:
        largest = (np.abs(columns).max() if images == 1 else
                   np.repeat(np.abs(columns).reshape(images, -1).max(axis=1),
                             columns.shape[0] // images)[:, None])
        columns = np.where(np.abs(columns) <= zero_threshold * largest, 0.0, columns)
    if columns.ndim != 2 or not columns.size:
        signed = bool(columns.size and columns.min() < 0)
        q, scale = quantize(columns, bits, signed=signed)
        return q.astype(dtype), float(np.asarray(scale).ravel()[0]), signed
    x = np.ascontiguousarray(columns, dtype=np.float64)
    peak, least = _extremes(x)
    signed = bool(least.min() < 0)
    levels = code_levels(bits, signed, "inputs")
    top = peak.reshape(images, -1).max(axis=1)
    per_image = np.where(top > 0, top / levels, 1.0)
    rows = np.repeat(per_image, x.shape[0] // images)
    q = _rounded(x, rows, -levels if signed else 0, levels, dtype)
    return q, (float(per_image[0]) if images == 1 else rows[:, None]), signed


def quantized_weights(matrix: np.ndarray, bits: int, per_channel: bool = True,
                      dtype=np.int64):
    """A [K, N] weight matrix quantized: (integers of ``dtype``, scale per output column), as
    quantize() gives them, in one pass of a numba kernel (over the transpose: a column's
    weights are contiguous in the [N, K] layout weights come in)."""
    if matrix.ndim != 2 or not matrix.size:
        q, scale = quantize(matrix, bits, signed=True, axis=0 if per_channel else None)
        return q.astype(dtype), np.broadcast_to(np.asarray(scale).ravel(), (matrix.shape[1],))
    levels = code_levels(bits, True, "weights")
    rows = np.ascontiguousarray(matrix.T, dtype=np.float64)            # [N, K]
    peak, _ = _extremes(rows)
    if not per_channel:
        peak = np.full(rows.shape[0], peak.max())
    scale = np.where(peak > 0, peak / levels, 1.0)
    q = _rounded(rows, scale, -levels, levels, dtype)
    return q.T, scale if per_channel else np.broadcast_to(scale[:1], (matrix.shape[1],))
