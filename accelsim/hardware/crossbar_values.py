"""Value mode on crossbar tiles: quantized inputs driven bit-serially into sliced weights, the
ADC, shift-and-add and the row tiles' partial sums, as the hardware computes them; and what
the data lets the tiles skip (rows driven per input cycle, tiles of zero weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.arith import ceil_div, evenly_spaced
from accelsim.hardware.tiling import CrossbarTiling
from accelsim.kernels.options import ValueOptions
from accelsim.kernels.quantize import (
    ENCODINGS,
    code_levels,
    image_count,
    input_chunks,
    quantized_inputs,
    quantized_weights,
    slice_layout,
)
from accelsim.spec.device import DeviceSpec


@dataclass
class CrossbarStats:
    """Measured per row of tiles of one layer, summed over the input cycles: [row blocks,
    vectors] arrays."""

    driven: np.ndarray                    # rows driven (nonzero input)
    cycles: np.ndarray                    # input cycles with at least one row driven
    # the stored level (fraction of full scale, mean over the block's columns) summed over
    # the rows driven; and [row blocks]: over all of the block's rows
    signal: np.ndarray
    level: np.ndarray
    tile_kept: np.ndarray                 # per tile: holds a nonzero weight (is mapped)

    @classmethod
    def from_cycles(cls, active: np.ndarray, signal: np.ndarray, level: np.ndarray,
                    tile_kept: np.ndarray) -> CrossbarStats:
        """From per-cycle counts, [vectors, row blocks, input cycles]: active the rows driven,
        signal their summed stored level (added cycle by cycle in order, as crossbar_layer
        adds them)."""
        levels = np.zeros(signal.shape[:2])
        for c in range(signal.shape[2]):
            levels += signal[:, :, c]
        return cls(active.sum(axis=2, dtype=np.int64).T, (active > 0).sum(axis=2).T,
                   levels.T, level, tile_kept)


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


def crossbar_product(columns: np.ndarray, matrix: np.ndarray, tiling: CrossbarTiling,
                     device: DeviceSpec, options: ValueOptions, rng: np.random.Generator,
                     images: int = 1):
    """The product of input vectors [V, K] (``images`` images' in turn, each quantized on its
    own scale) and a weight matrix [K, N] on the device's tiles, and the statistics the
    energy ledger uses."""
    cim = device.cim
    # int32 integers where they fit (half the memory of int64)
    q_x, scale_x, signed_inputs = quantized_inputs(
        columns, cim.input_bits, options.zero_threshold,
        np.int32 if cim.input_bits <= 31 else np.int64, images=images)
    q_w, scale_w = quantized_weights(matrix, cim.weight_bits, options.per_channel,
                                     np.int32 if cim.weight_bits <= 30 else np.int64)
    magnitude_bits = cim.input_bits - 1 if signed_inputs else cim.input_bits
    slices, column_weight, offset = slice_layout(cim.weight_bits, cim.cell_bits,
                                                 cim.signed_weights, q_w.shape[1])
    blocks = np.array(row_blocks(tiling), dtype=np.int64).reshape(-1, 4)
    r0, r1, o0, o1 = blocks.T
    cell_peak = 2 ** cim.cell_bits - 1
    # The largest |cell|: cell_peak in every encoding, or the largest quantized weight when a
    # signed cell holds a whole weight.
    top = (2 ** (cim.weight_bits - 1) - 1 if cim.signed_weights == "cell"
           and cim.cell_bits >= cim.weight_bits else cell_peak)
    # Without cell variation every partial column sum is an integer, at most the rows times
    # the largest drive times the largest |cell|. Below 2**24 float32 adds them exactly, so
    # crossbar_layer sums twice as many columns per vector instruction, with results
    # identical to float64's, from cells stored as small integers; below 2**15 int16 adds
    # them exactly too, twice as many again and with no conversion of the cells.
    largest = int((r1 - r0).max(initial=0)) * (2 ** cim.dac_bits - 1) * top
    exact = options.cell_variation == 0 and options.read_noise == 0 and largest < 2 ** 24
    storage = (np.float64 if not exact else np.int8 if top <= 127
               else np.int16 if top <= 32767 else np.float32)
    arithmetic = (np.float64 if not exact else np.int16 if largest < 2 ** 15
                  else np.float32)
    # Each row belongs to one block; its stored level is the mean |cell| / cell_peak over
    # that block's columns (before cell variation).
    row_first = np.repeat(o0, r1 - r0)
    row_last = np.repeat(o1, r1 - r0)
    cells = np.empty((q_w.shape[0], q_w.shape[1] * slices), dtype=storage)
    row_sum = np.empty(q_w.shape[0])
    from accelsim._jit import balanced  # numba: on first use
    from accelsim.kernels.prepare import BAND, cell_matrix
    with balanced(ceil_div(q_w.shape[0], BAND)):
        cell_matrix(q_w, cim.cell_bits, ceil_div(cim.weight_bits, cim.cell_bits),
                    ENCODINGS.index(cim.signed_weights), offset, row_first, row_last, cells,
                    row_sum)
    row_level = row_sum / (cell_peak * (row_last - row_first) * slices)
    level = np.add.reduceat(row_level, r0) if r0.size else np.zeros(0)
    if options.cell_variation > 0:
        cells = cells * (1.0 + options.cell_variation * rng.standard_normal(cells.shape))
    bipolar = signed_inputs or cim.signed_weights == "cell"
    vectors, count = q_x.shape[0], len(blocks)
    # The vectors' parts with their own ADC step: the whole layer, or with a calibrated range
    # each image (calibrated on its own vectors, as its inputs are quantized on their own
    # scale: an image's result does not depend on the others of its batch).
    if options.adc_range == "calibrated" and not options.ideal_adc:
        parts_of = image_count(vectors, images)
        per_image = vectors // parts_of or 1
        bounds = [(v, v + per_image) for v in range(0, vectors, per_image)] or [(0, 0)]
        spans = calibrated_spans(q_x, parts_of, cells, blocks, slices, cim, arithmetic)
    else:
        bounds, spans = [(0, vectors)], [cim.rows * (2 ** cim.dac_bits - 1) * cell_peak]
    if options.ideal_adc:
        steps, low, high = [1.0], -np.inf, np.inf
    else:
        levels = code_levels(cim.adc_bits, bipolar, "column sums")
        steps = [max(1.0, span * options.adc_full_scale / levels) for span in spans]
        low, high = (-(levels + 1), levels) if bipolar else (0, levels)
    parts = list(zip(bounds, steps))
    cycle_weight = (2.0 ** cim.dac_bits) ** np.arange(cim.input_cycles)
    accumulated = np.zeros((vectors, q_w.shape[1]))
    widths = (o1 - o0) * slices
    if options.read_noise == 0:
        # Every row block in one parallel kernel call per part, the same sums in the same
        # order as block by block (below). ADC offsets are drawn block by block, as the
        # per-block path does, in ADC steps.
        drawn = ([rng.standard_normal(width) for width in widths]
                 if options.adc_offset > 0 else [])
        driven = np.empty((count, vectors), dtype=np.int64)
        cycles_run = np.empty((count, vectors), dtype=np.int64)
        signal = np.empty((count, vectors))
        from accelsim.kernels.crossbar import VECTOR_GROUP, crossbar_layer
        whole = len(parts) == 1
        for (v0, v1), step in parts:
            column_offset = np.zeros((count, int(widths.max(initial=0))))
            for b, normal in enumerate(drawn):
                column_offset[b, :normal.size] = options.adc_offset * step * normal
            out = ((driven, cycles_run, signal) if whole else
                   (np.empty((count, v1 - v0), dtype=np.int64),
                    np.empty((count, v1 - v0), dtype=np.int64), np.empty((count, v1 - v0))))
            with balanced(ceil_div(v1 - v0, VECTOR_GROUP)):
                crossbar_layer(q_x[v0:v1], cim.dac_bits,
                               cim.input_cycles, cells, r0, r1, o0 * slices, o1 * slices, o0,
                               slices, step, low, high, cycle_weight, column_weight,
                               int(offset), column_offset, row_level, accumulated[v0:v1], *out,
                               np.empty(0, dtype=arithmetic))
            if not whole:
                driven[:, v0:v1], cycles_run[:, v0:v1], signal[:, v0:v1] = out
        stats = CrossbarStats(driven, cycles_run, signal, level, kept_tiles(q_w, tiling))
    else:
        # Read noise is drawn per row block, interleaved with the ADC offsets: block by block.
        drives = input_chunks(q_x, magnitude_bits, cim.dac_bits, cim.input_cycles)
        active = np.zeros((vectors, count, cim.input_cycles), dtype=np.int32)
        signal = np.zeros((vectors, count, cim.input_cycles))
        from accelsim.kernels.crossbar import crossbar_mvm  # numba: on first use
        for b, (a, z, first, last) in enumerate(blocks):
            width = int(widths[b])
            normal = rng.standard_normal(width) if options.adc_offset > 0 else None
            noise = options.read_noise * rng.standard_normal((vectors, cim.input_cycles,
                                                              width))
            block = np.zeros((vectors, last - first))
            block_cells = np.ascontiguousarray(cells[a:z, first * slices:last * slices])
            column_output = np.repeat(np.arange(last - first), slices)
            for (v0, v1), step in parts:
                offsets = (options.adc_offset * step * normal if normal is not None
                           else np.zeros(width))
                with balanced(v1 - v0):
                    crossbar_mvm(np.ascontiguousarray(drives[v0:v1, :, a:z]), block_cells,
                                 step, low, high, cycle_weight, column_weight[:width],
                                 column_output, offsets, noise[v0:v1], block[v0:v1],
                                 active[v0:v1, b])
            if offset:
                block -= offset * q_x[:, a:z].sum(axis=1, keepdims=True)
            accumulated[:, first:last] += block
            signal[:, b] = np.stack([(drives[:, c, a:z] != 0) @ row_level[a:z]
                                     for c in range(cim.input_cycles)], axis=1)
        stats = CrossbarStats.from_cycles(active, signal, level, kept_tiles(q_w, tiling))
    return accumulated * scale_x * scale_w, stats


def calibrated_spans(q_x: np.ndarray, images: int, cells: np.ndarray, blocks: np.ndarray,
                     slices: int, cim, arithmetic) -> list[float]:
    """Per image (``images`` equal runs of the vectors): the largest |column sum| any ADC of
    the layer sees on its calibration sample, up to CALIBRATION_VECTORS of its input vectors,
    evenly spaced: the sums crossbar_layer converts (kernels.crossbar.column_peaks), each
    input cycle's drives times the cells as programmed (with their variation, as a
    calibration run on the chip measures them), in the arithmetic crossbar_layer uses."""
    from accelsim._jit import balanced
    from accelsim.kernels.crossbar import column_peaks
    from accelsim.kernels.options import CALIBRATION_VECTORS
    per_image = q_x.shape[0] // images
    picked = evenly_spaced(per_image, CALIBRATION_VECTORS)
    sample = q_x[(np.arange(images)[:, None] * per_image + picked).ravel()]
    r0, r1, o0, o1 = blocks.T
    peaks = np.zeros((len(blocks), sample.shape[0]))
    with balanced(sample.shape[0]):
        column_peaks(sample, cim.dac_bits, cim.input_cycles, cells, r0, r1, o0 * slices,
                     o1 * slices, peaks, np.empty(0, dtype=arithmetic))
    return [float(peak) for peak in
            peaks.reshape(len(blocks), images, picked.size).max(axis=(0, 2), initial=0.0)]


def kept_tiles(q_w: np.ndarray, tiling: CrossbarTiling) -> np.ndarray:
    """Which tiles hold at least one nonzero weight (all-zero tiles are never mapped).

    Tiles are numbered row block by row block, the tile columns of a row block in order."""
    per_tile = tiling.cols // tiling.cells_per_weight
    blocks = row_blocks(tiling)
    if not blocks:
        return np.zeros(0, dtype=bool)
    nonzero = q_w != 0
    # Rows of each block at once (blocks are consecutive, disjoint row ranges in order).
    starts = np.array([r0 for r0, *_ in blocks])
    rows_any = np.logical_or.reduceat(nonzero, starts, axis=0)
    kept = np.zeros((len(blocks), tiling.tile_cols), dtype=bool)
    for b, (_, _, o0, o1) in enumerate(blocks):
        segment = rows_any[b, o0:o1]
        firsts = np.arange(0, segment.size, per_tile)
        kept[b, :firsts.size] = np.logical_or.reduceat(segment, firsts)
    return kept.ravel()
