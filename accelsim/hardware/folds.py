"""Systolic-array folds: SCALE-Sim's compute timing and each fold's operand traffic.

A GEMM of M x K inputs by K x N weights runs on an R x C array in folds. Per dataflow
(SCALE-Sim 3, checked in tests/test_systolic.py):

    ws  weights stationary: folds over (K/R, N/C), each 2R + C + M - 2 cycles
    os  outputs stationary: folds over (M/R, N/C), each  R + C + K - 2 cycles
    is  inputs stationary:  folds over (K/R, M/C), each 2R + C + N - 2 cycles

and SCALE-Sim reports folds x cycles - 1 for a layer (a grouped conv: per group). The last fold
here is therefore one cycle shorter, so the array's busy time equals SCALE-Sim's exactly.

Each MAC reads or updates one register-file entry, its stationary operand's (plus one access
per operand loaded into or drained from a PE), and two operands move on to neighbouring PEs:
the streamed one and the partial sum (ws, is) or the input and the weight (os). (Row stationary, the
fourth dataflow, has its own mapping and counts: hardware.row_stationary.)

Traffic per fold (elements), with r x c the part of the array a fold uses:
    ws  weights r*c, inputs M*r, outputs M*c (partial sums while K is not done: read back
        and written at accumulator width)
    os  inputs r*K, weights K*c, outputs r*c
    is  inputs r*c, weights N*r, outputs N*c (partial sums as for ws)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Folds:
    """Per-fold arrays for one group of a layer (all int64)."""

    cycles: np.ndarray
    macs: np.ndarray
    input_reads: np.ndarray
    weight_reads: np.ndarray
    psum_reads: np.ndarray        # partial sums read back (accumulator width)
    psum_writes: np.ndarray       # partial sums written (accumulator width)
    output_writes: np.ndarray     # final outputs written (operand width)
    # register-file reads and writes, and operands moved into a PE from a neighbour or over
    # the array's network, by operand
    rf_inputs: np.ndarray
    rf_weights: np.ndarray
    rf_psums: np.ndarray
    hop_inputs: np.ndarray
    hop_weights: np.ndarray
    hop_psums: np.ndarray
    new_weights: np.ndarray       # weights the fold uses for the first time (fetched for it)
    # inputs the fold brings on chip when the layer's input is in DRAM: all its inputs, or
    # (row stationary, a kept window) only those no earlier fold brought
    new_inputs: np.ndarray
    # the same when each input slice stays in the buffer for the folds that share it (ws: a
    # K slice of M x r, shared by its blocks of N; os: a block of M's r x K, shared by its
    # blocks of N; is: no two folds share inputs): only a slice's first fold brings it
    first_inputs: np.ndarray
    # Output vectors (rows of M, in order) whose inputs the fold reads: it reads inputs of
    # vectors below reach, and none of those at or above it. And the output vectors the fold
    # completes (every output channel of each done): those below completes, or 0 for none.
    # Both per image (an M of one image), so that a pipeline can start a fold when its
    # inputs have come and hand on outputs as folds complete them.
    reach: np.ndarray
    completes: np.ndarray

    @property
    def count(self) -> int:
        return int(self.cycles.size)

    @property
    def rf_accesses(self) -> np.ndarray:
        return self.rf_inputs + self.rf_weights + self.rf_psums

    @property
    def pe_hops(self) -> np.ndarray:
        return self.hop_inputs + self.hop_weights + self.hop_psums


def compute_cycles(m: int, n: int, k: int, *, rows: int, cols: int, dataflow: str) -> int:
    """SCALE-Sim's compute cycles for one M x K by K x N GEMM."""
    per_fold, folds = _per_fold(m, n, k, rows, cols, dataflow)
    return folds * per_fold - 1


def _per_fold(m, n, k, rows, cols, dataflow):
    if dataflow == "ws":
        return 2 * rows + cols + m - 2, math.ceil(k / rows) * math.ceil(n / cols)
    if dataflow == "os":
        return rows + cols + k - 2, math.ceil(m / rows) * math.ceil(n / cols)
    if dataflow == "is":
        return 2 * rows + cols + n - 2, math.ceil(k / rows) * math.ceil(m / cols)
    raise ValueError(f"unknown dataflow {dataflow!r}")


def slice_held(m: int, k: int, *, rows: int, dataflow: str, depth: int = 1) -> int:
    """Input elements the buffer holds at once when input slices stay there for the folds
    that share them (Folds.first_inputs): ws the K slices of one group of ``depth``, M x rows
    each; os one block of M's rows x K; is none."""
    if dataflow == "ws":
        return min(k, depth * rows) * m
    if dataflow == "os":
        return min(m, rows) * k
    return 0


def _spans(total: int, size: int) -> np.ndarray:
    """Sizes of the pieces of ``total`` cut into chunks of ``size``."""
    return np.minimum(size, total - size * np.arange(math.ceil(total / size), dtype=np.int64))


def fold_schedule(m: int, n: int, k: int, *, rows: int, cols: int, dataflow: str,
                  depth: int = 1) -> Folds:
    """The folds of one GEMM in execution order (outer loop over the first fold index).

    ``depth`` (ws and is): stationary operands each PE holds. The K folds of one output
    tile then run in groups of ``depth``, back to back, and keep their partial sums in the
    array within a group: only between groups do they go to the buffer and back. Folds run
    group by group, output tiles within a group, K folds innermost; at depth 1 that is
    SCALE-Sim's order (K outer, output tiles inner)."""
    per_fold, folds = _per_fold(m, n, k, rows, cols, dataflow)
    if dataflow == "ws":
        outer, inner = _spans(k, rows), _spans(n, cols)          # r: K part, c: N part
    elif dataflow == "os":
        outer, inner = _spans(m, rows), _spans(n, cols)          # r: M part, c: N part
    else:
        outer, inner = _spans(k, rows), _spans(m, cols)          # r: K part, c: M part
    if dataflow == "os":
        depth = 1                                 # its partial sums never leave the array
    # the outer (K) index of each fold, and its inner (output tile) index
    ks = np.arange(outer.size)
    group, within = ks // depth, ks % depth
    order = np.lexsort((np.repeat(within, inner.size), np.tile(np.arange(inner.size),
                                                                outer.size),
                        np.repeat(group, inner.size)))
    k_of = np.repeat(ks, inner.size)[order]
    r = outer[k_of]
    c = np.tile(inner, outer.size)[order]
    starts_group = k_of % depth == 0
    ends_group = (k_of % depth == depth - 1) | (k_of == outer.size - 1)
    first = k_of == 0
    last = k_of == outer.size - 1
    cycles = np.full(folds, per_fold, dtype=np.int64)
    cycles[-1] -= 1
    zero = np.zeros(folds, dtype=np.int64)
    # The block of M a fold covers (os: its r rows of M; is: its c columns), as an end.
    inner_index = np.tile(np.arange(inner.size), outer.size)[order]
    if dataflow == "os":
        m_end = np.cumsum(outer)[k_of]
        macs = r * c * k
        weights = k * c                 # the same weights again for every block of M
        # Each MAC updates the PE's output register (drained once per fold); inputs move
        # right and weights down. A block of M is done when its last block of N is.
        return Folds(cycles, macs=macs, input_reads=r * k,
                     weight_reads=weights, psum_reads=zero, psum_writes=zero,
                     output_writes=r * c, rf_inputs=zero, rf_weights=zero,
                     rf_psums=macs + r * c, hop_inputs=macs, hop_weights=macs, hop_psums=zero,
                     new_weights=np.where(first, weights, 0), new_inputs=r * k,
                     first_inputs=np.where(inner_index == 0, r * k, 0),
                     reach=m_end, completes=np.where(inner_index == inner.size - 1, m_end, 0))
    if dataflow == "ws":                 # every fold streams all of M, done at the last K
        reach = np.full(folds, m, dtype=np.int64)
        completes = np.where(np.arange(folds) == folds - 1, m, 0)
    else:                                # is: a fold holds its columns of M
        m_end = np.cumsum(inner)[inner_index]
        reach, completes = m_end, np.where(last, m_end, 0)
    streamed = m if dataflow == "ws" else n        # vectors streamed through the array
    macs = streamed * r * c
    outputs = streamed * c
    inputs, weights = (streamed * r, r * c) if dataflow == "ws" else (r * c, streamed * r)
    return Folds(cycles, macs=macs, input_reads=inputs, weight_reads=weights,
                 psum_reads=np.where(starts_group & ~first, outputs, 0),
                 psum_writes=np.where(ends_group & ~last, outputs, 0),
                 output_writes=np.where(last, outputs, 0),
                 # Each MAC reads the PE's stationary operand (loaded once per fold); the
                 # streamed operand moves right and the psums move down.
                 rf_inputs=zero if dataflow == "ws" else macs + r * c,
                 rf_weights=macs + r * c if dataflow == "ws" else zero,
                 rf_psums=zero, hop_inputs=macs if dataflow == "ws" else zero,
                 hop_weights=zero if dataflow == "ws" else macs, hop_psums=macs,
                 # ws: every fold its own weights; is: the same weights for every block of M
                 new_weights=weights if dataflow == "ws"
                 else np.where(np.tile(np.arange(inner.size) == 0, outer.size)[order],
                               weights, 0),
                 new_inputs=inputs,
                 first_inputs=np.where(inner_index == 0, inputs, 0) if dataflow == "ws"
                 else inputs,
                 reach=reach, completes=completes)
