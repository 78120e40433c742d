"""Tiling a layer's weight matrices onto R x C crossbars.

A group's K x N matrix needs S cells per weight side by side, so a tile holds floor(C / S)
weights per row (weights are not split across tiles). Groups small enough to share a tile
(depthwise convs) are packed block-diagonally; otherwise each group gets a TR x TC grid with
TR = ceil(K / R) and TC = ceil(N / floor(C / S)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.errors import MappingError


@dataclass(frozen=True)
class CrossbarTiling:
    """Where a layer's weights sit. Arrays are per tile or per input/output slice."""

    rows: int
    cols: int
    k: int                       # rows of one group's weight matrix
    n: int                       # columns (outputs) of one group's weight matrix
    groups: int
    cells_per_weight: int
    groups_per_tile: int         # > 1 when small groups share a tile block-diagonally
    rows_used: np.ndarray        # per tile: rows holding weights
    cols_used: np.ndarray        # per tile: columns (cells) holding weights
    weights: np.ndarray          # per tile: weights stored
    input_slices: np.ndarray     # per block and tile row: input elements sent per vector
    output_slices: np.ndarray    # per block and tile column: outputs produced per vector
    blocks: int                  # independent tile grids (groups, or packed tiles)
    tile_rows: int               # row tiles per block: partial sums added for one output
    tile_cols: int               # column tiles per block
    # Tiles are numbered block-major, then row-major within a block's grid.

    @property
    def reduction_depth(self) -> int:
        return self.tile_rows

    @property
    def tiles(self) -> int:
        return int(self.rows_used.size)

    @property
    def useful_cells(self) -> int:
        return self.k * self.n * self.groups * self.cells_per_weight

    @property
    def written_cells(self) -> int:
        """Cells programmed: every row x column a tile uses (zeros between packed groups too)."""
        return int(np.sum(self.rows_used.astype(np.int64) * self.cols_used))

    @property
    def utilization(self) -> float:
        """Useful cells over the cells of the tiles occupied."""
        return self.useful_cells / (self.tiles * self.rows * self.cols)


def _grid(k: int, n: int, groups: int, rows: int, cols: int,
          cells_per_weight: int) -> tuple[int, int, int, int]:
    """(weights per tile column, matrices packed in one tile (0: not packed), tile rows,
    tile columns) of ``groups`` k x n matrices on rows x cols crossbars."""
    if min(k, n, groups) < 1:
        raise MappingError(f"cannot tile a {k}x{n} matrix in {groups} groups")
    per_tile = cols // cells_per_weight
    if per_tile < 1:
        raise MappingError(f"a weight needs {cells_per_weight} cells but a tile has {cols}")
    if k <= rows and n <= per_tile:
        return per_tile, min(rows // k, per_tile // n), 1, 1
    return per_tile, 0, math.ceil(k / rows), math.ceil(n / per_tile)


def tile_count(k: int, n: int, groups: int, *, rows: int, cols: int,
               cells_per_weight: int) -> int:
    """The tiles tile_layer maps, without building its per-tile arrays."""
    _, packed, tile_rows, tile_cols = _grid(k, n, groups, rows, cols, cells_per_weight)
    return math.ceil(groups / packed) if packed else tile_rows * tile_cols * groups


def tile_layer(k: int, n: int, groups: int, *, rows: int, cols: int,
               cells_per_weight: int) -> CrossbarTiling:
    """Tile ``groups`` weight matrices of ``k`` x ``n`` onto ``rows`` x ``cols`` crossbars."""
    per_tile, packed, tile_rows, tile_cols = _grid(k, n, groups, rows, cols, cells_per_weight)
    if packed:
        tiles = math.ceil(groups / packed)
        held = np.full(tiles, packed, dtype=np.int64)
        held[-1] = groups - packed * (tiles - 1)
        return CrossbarTiling(rows, cols, k, n, groups, cells_per_weight, packed,
                              rows_used=held * k, cols_used=held * n * cells_per_weight,
                              weights=held * k * n, input_slices=held * k,
                              output_slices=held * n, blocks=tiles, tile_rows=1, tile_cols=1)
    row_sizes = np.minimum(rows, k - rows * np.arange(tile_rows, dtype=np.int64))
    col_sizes = np.minimum(per_tile, n - per_tile * np.arange(tile_cols, dtype=np.int64))
    rows_used = np.tile(np.repeat(row_sizes, tile_cols), groups)
    cols_used = np.tile(np.tile(col_sizes * cells_per_weight, tile_rows), groups)
    return CrossbarTiling(rows, cols, k, n, groups, cells_per_weight, 1,
                          rows_used=rows_used, cols_used=cols_used,
                          weights=rows_used * cols_used // cells_per_weight,
                          input_slices=np.tile(row_sizes, groups),
                          output_slices=np.tile(col_sizes, groups),
                          blocks=groups, tile_rows=tile_rows, tile_cols=tile_cols)
