"""Plans updated with what value mode measured: sparsity changes counts and MVM durations.

For every crossbar part: input cycles whose drives are all zero are skipped, zero inputs are
not driven, and tiles that hold only zero weights are not mapped (each as the device's
policies say). Counts become totals over the batch; each tile's MVM time becomes
(cycles run) x (one read + its sequential conversions) per vector.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from accelsim.energy.table import Action
from accelsim.mapping.plan import LayerPlan, PartPlan
from accelsim.spec.device import DeviceSpec
from accelsim.values import CrossbarStats, SystolicStats


def measured_plan(plan: LayerPlan, stats: CrossbarStats, device: DeviceSpec,
                  batch: int) -> LayerPlan:
    """``plan`` with its crossbar parts' counts and MVM cycles taken from ``stats``."""
    return replace(plan, parts=tuple(_measured_part(part, plan, stats, device, batch)
                                     for part in plan.parts))


def _measured_part(part: PartPlan, plan: LayerPlan, stats: CrossbarStats, device: DeviceSpec,
                   batch: int) -> PartPlan:
    cim, tiling = device.cim, plan.tiling
    tiles = part.tile_indices
    row_block = tiles // tiling.tile_cols
    active = np.stack([stats.active[b] for b in row_block])          # [tiles, vectors, cycles]
    kept = stats.tile_kept[tiles] if cim.skip_zero_weight_tiles else np.ones(tiles.size, bool)
    run = active > 0 if cim.skip_zero_input_cycles else np.ones_like(active, dtype=bool)
    cycles_run = run.sum(axis=2)                                      # [tiles, vectors]
    rows_used = tiling.rows_used[tiles][:, None]
    driven = (active.sum(axis=2) if cim.gate_zero_inputs else rows_used * cycles_run)
    cols_used = tiling.cols_used[tiles]
    per_cycle = cim.read_cycles + -(-cols_used // cim.adcs_per_tile) * cim.adc_cycles
    tile_cycles = (cycles_run * per_cycle[:, None]).astype(np.int64)
    counts = part.counts * batch
    dense = {action: counts[action] for action in (Action.DAC_CONVERT, Action.ARRAY_READ,
                                                    Action.ADC_CONVERT, Action.SHIFT_ADD)}
    counts = counts.copy()
    counts[Action.DAC_CONVERT] = counts[Action.ARRAY_READ] = float(driven[kept].sum())
    conversions = float((cols_used[kept][:, None] * cycles_run[kept]).sum())
    counts[Action.ADC_CONVERT] = counts[Action.SHIFT_ADD] = conversions
    for action, value in dense.items():
        assert counts[action] <= value + 1e-6, "measured counts cannot exceed dense ones"
    programming = part.programming
    if programming is not None and not kept.all():
        # Only mapped tiles are written, and only their weights come from DRAM.
        weight_bits = float(tiling.weights[tiles][kept].sum()) * cim.weight_bits
        burst_bits = device.dram.burst_bytes * 8
        written = programming.counts.copy()
        written[Action.CELL_WRITE] = float((tiling.rows_used[tiles] * cols_used)[kept].sum())
        written[Action.BUS_BIT] = weight_bits
        written[Action.DRAM_READ_BIT] = np.ceil(weight_bits / burst_bits) * burst_bits
        programming = replace(programming, counts=written)
    return replace(part, measured_tile_cycles=tile_cycles[kept], batch_counts=counts,
                   tiles=int(kept.sum()), tile_indices=tiles[kept], programming=programming)


def measured_systolic_plan(plan: LayerPlan, stats: SystolicStats, device: DeviceSpec,
                           batch: int) -> LayerPlan:
    """A systolic layer under the array's zero policy: gating saves the MAC and register-file
    energy of MACs with a zero operand; skipping saves their cycles too (spread evenly over
    the folds) and reads an index per remaining MAC."""
    policy = device.systolic.zero_policy
    (part,) = plan.parts
    counts = part.counts * batch
    if policy == "none" or stats.macs == 0:
        return replace(plan, parts=(replace(part, batch_counts=counts),))
    zeros = stats.macs - stats.nonzero_macs
    counts = counts.copy()
    counts[Action.PE_MAC] -= zeros
    counts[Action.RF_ACCESS] -= zeros
    folds = part.folds
    if policy == "skipping":
        counts[Action.PE_HOP] -= 2 * zeros
        counts[Action.PE_INDEX] += stats.nonzero_macs
        compute = [i for i, stage in enumerate(part.stages) if stage.kind == "compute"][0]
        folds = folds.copy()
        folds[:, compute] = -(-folds[:, compute] * stats.nonzero_macs // stats.macs)
    return replace(plan, parts=(replace(part, batch_counts=counts, folds=folds),))
