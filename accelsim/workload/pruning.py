"""Pruning helpers: unstructured magnitude pruning and tile-aligned block pruning.

Block pruning zeroes whole R x floor(C / S) blocks of a layer's weight matrix, the exact
footprint of one crossbar tile, so every pruned block is a tile that is never mapped.
Unstructured pruning at the same density leaves zeros scattered over every tile and saves
almost nothing on crossbars.
"""

from __future__ import annotations

import numpy as np

from accelsim.arith import ceil_div
from accelsim.errors import AccelsimError
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import load_device
from accelsim.workload.graph import Workload


def _check(density: float) -> None:
    if not 0 < density <= 1:
        raise AccelsimError(f"density must be in (0, 1], got {density}")


def magnitude_prune(workload: Workload, density: float) -> Workload:
    """Keep the ``density`` fraction of each layer's weights with the largest magnitude."""
    _check(density)
    pruned = {}
    for name, weight in workload.weights.items():
        keep = max(1, int(round(density * weight.size)))
        threshold = np.partition(np.abs(weight).ravel(), weight.size - keep)[weight.size - keep]
        mask = np.abs(weight) >= threshold
        if mask.sum() > keep:             # ties at the threshold: keep the first ones
            flat = np.flatnonzero(mask.ravel())
            mask.ravel()[flat[keep:]] = False
        pruned[name] = np.where(mask, weight, 0.0)
    return workload.with_weights(pruned, workload.biases)


def block_prune(workload: Workload, device: DeviceSpec | str, density: float) -> Workload:
    """Keep the ``density`` fraction of each layer's tile-sized weight blocks with the largest
    L1 norm; zero the rest. Blocks are those of ``device``'s crossbar tiling."""
    _check(density)
    cim = load_device(device).cim
    if cim is None:
        raise AccelsimError("block pruning aligns blocks to crossbar tiles: the device has none")
    pruned = {}
    for name, weight in workload.weights.items():
        layer = workload.layers[name]
        k, n, groups = layer.matrix(workload.input_shapes(name))
        rows, cols = cim.rows, max(1, cim.cols // cim.cells_per_weight)
        # [groups, K, N] matrices as they sit on the crossbars (weights are [out, in...]).
        matrix = weight.reshape(groups, n, k).transpose(0, 2, 1)
        row_blocks, col_blocks = ceil_div(k, rows), ceil_div(n, cols)
        padded = np.zeros((groups, row_blocks * rows, col_blocks * cols))
        padded[:, :k, :n] = matrix
        blocks = padded.reshape(groups, row_blocks, rows, col_blocks, cols)
        norms = np.abs(blocks).sum(axis=(2, 4))                  # [groups, rb, cb]
        keep = max(1, int(round(density * norms.size)))
        order = np.argsort(-norms.ravel(), kind="stable")
        mask = np.zeros(norms.size, dtype=bool)
        mask[order[:keep]] = True
        blocks = blocks * mask.reshape(norms.shape)[:, :, None, :, None]
        matrix = blocks.reshape(groups, row_blocks * rows, col_blocks * cols)[:, :k, :n]
        pruned[name] = matrix.transpose(0, 2, 1).reshape(weight.shape)
    return workload.with_weights(pruned, workload.biases)


def density(workload: Workload) -> float:
    """Fraction of nonzero weights."""
    total = sum(w.size for w in workload.weights.values())
    return sum(np.count_nonzero(w) for w in workload.weights.values()) / max(total, 1)
