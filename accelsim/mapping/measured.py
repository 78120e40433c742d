"""Plans updated with what value mode measured: sparsity changes counts and MVM durations.

For every crossbar part: input cycles whose drives are all zero are skipped, zero inputs are
not driven, and tiles that hold only zero weights are not mapped (each as the device's
policies say). Counts become totals over the batch; each tile's MVM time becomes
(cycles run) x (one read + its sequential conversions) per vector.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from accelsim.energy.table import Action, Operand, dram_read
from accelsim.mapping.plan import LayerPlan, PartPlan, count_dram
from accelsim.spec.device import DeviceSpec
from accelsim.values import CrossbarStats, SystolicStats


def measured_plan(plan: LayerPlan, stats: CrossbarStats, device: DeviceSpec,
                  batch: int) -> tuple[LayerPlan, np.ndarray, int]:
    """``plan`` with its crossbar parts' counts and MVM cycles taken from ``stats``.

    Returns (plan, actions avoided against the dense plan, tiles not mapped).
    """
    parts = tuple(_measured_part(part, plan, stats, device, batch) for part in plan.parts)
    dense = sum(part.counts for part in plan.parts) * batch
    avoided = dense - sum(part.batch_counts for part in parts)
    assert avoided.min() >= -1e-6, "measured counts cannot exceed dense ones"
    return (replace(plan, parts=parts), avoided,
            plan.tiling.tiles - sum(part.tiles for part in parts))


def _measured_part(part: PartPlan, plan: LayerPlan, stats: CrossbarStats, device: DeviceSpec,
                   batch: int) -> PartPlan:
    cim, tiling = device.cim, plan.tiling
    tiles = part.tile_indices
    # Tiles of one row of tiles see the same inputs: reduce once per row block, then fan out.
    blocks, row_block = np.unique(tiles // tiling.tile_cols, return_inverse=True)
    active = np.stack([stats.active[b] for b in blocks])              # [blocks, vectors, cycles]
    run = active > 0 if cim.skip_zero_input_cycles else np.ones_like(active, dtype=bool)
    cycles_run = run.sum(axis=2)[row_block]                            # [tiles, vectors]
    rows_used = tiling.rows_used[tiles][:, None]
    driven = (active.sum(axis=2)[row_block] if cim.gate_zero_inputs
              else rows_used * cycles_run)
    kept = stats.tile_kept[tiles] if cim.skip_zero_weight_tiles else np.ones(tiles.size, bool)
    cols_used = tiling.cols_used[tiles]
    tile_cycles = (cycles_run * cim.cycles_per_input_cycle(cols_used)[:, None]).astype(np.int64)
    counts = part.counts * batch
    counts[Action.DAC_CONVERT] = counts[Action.ARRAY_READ] = float(driven[kept].sum())
    conversions = float((cols_used[kept][:, None] * cycles_run[kept]).sum())
    counts[Action.ADC_CONVERT] = counts[Action.SHIFT_ADD] = conversions
    programming = part.programming
    if programming is not None and not kept.all():
        # Only mapped tiles are written, and only their weights come from DRAM.
        weight_bits = float(tiling.weights[tiles][kept].sum()) * cim.weight_bits
        written = programming.counts.copy()
        written[Action.CELL_WRITE] = float((tiling.rows_used[tiles] * cols_used)[kept].sum())
        # bits times hops on a mesh: the share of the part's weights still written
        written[Action.BUS_BIT] *= weight_bits / (float(tiling.weights[tiles].sum())
                                                  * cim.weight_bits)
        written[dram_read(Operand.WEIGHTS)] = written[Action.DRAM_ACTIVATE] = 0
        count_dram(written, device, read=True, bits=weight_bits, operand=Operand.WEIGHTS)
        programming = replace(programming, counts=written) if kept.any() else None
    return replace(part, measured_tile_cycles=tile_cycles[kept], batch_counts=counts,
                   tiles=int(kept.sum()), tile_indices=tiles[kept], programming=programming)


def measured_systolic_plan(plan: LayerPlan, stats: SystolicStats, device: DeviceSpec,
                           batch: int) -> tuple[LayerPlan, np.ndarray, int]:
    """A systolic layer under the array's zero policy: gating saves the MAC and register-file
    energy of MACs with a zero operand; skipping saves their cycles too (spread evenly over
    the folds) and reads an index per remaining MAC.

    Returns (plan, actions avoided against the dense plan, 0 tiles not mapped).
    """
    policy = device.systolic.zero_policy
    (part,) = plan.parts
    dense = part.counts * (batch // part.images)
    counts = dense.copy()
    if policy == "none" or stats.macs == 0:
        return replace(plan, parts=(replace(part, batch_counts=counts),)), dense - counts, 0
    zeros = stats.macs - stats.nonzero_macs
    counts[Action.PE_MAC] -= zeros
    counts[Action.RF_ACCESS] -= zeros
    folds = part.folds
    if policy == "skipping":
        counts[Action.PE_HOP] -= 2 * zeros
        counts[Action.PE_INDEX] += stats.nonzero_macs
        compute = [i for i, stage in enumerate(part.stages) if stage.kind == "compute"][0]
        folds = folds.copy()
        folds[:, compute] = -(-folds[:, compute] * stats.nonzero_macs // stats.macs)
    return (replace(plan, parts=(replace(part, batch_counts=counts, folds=folds),)),
            dense - counts, 0)
