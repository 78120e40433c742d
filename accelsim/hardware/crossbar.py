"""Crossbar tiles (analog compute in memory): prices and leakage, how a conv or linear layer
is planned on them, and what value mode's measurements change.

A layer's weights occupy a grid of tiles (hardware.tiling). Per output vector, its inputs are
read from the global buffer (or, with tile buffers, staged there), cross the interconnect, are
driven into the tiles input cycle by input cycle, converted by the ADCs, shifted and added;
partial sums of row tiles are added beside the tiles, and the outputs cross back and are
written. A layer whose tiles exceed the chip is split into parts that run one after another,
with the tiles reprogrammed in between and partial sums kept in the global buffer.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from accelsim.arith import ceil_div
from accelsim.energy.table import Action, Operand, buffer_read, buffer_write, dram_read
from accelsim.errors import MappingError
from accelsim.hardware import crossbar_figures
from accelsim.hardware.context import PlanContext, count_dram
from accelsim.hardware.crossbar_values import CrossbarStats, crossbar_product
from accelsim.hardware.plan import (
    BUS,
    CrossbarPart,
    InputStream,
    LayerPlan,
    Measured,
    Programming,
    Resource,
    ResourceKind,
    Stage,
    StageKind,
    Staging,
    UnitKind,
    copied,
)
from accelsim.hardware.registry import Unit, register
from accelsim.hardware.tiling import CrossbarTiling, tile_layer
from accelsim.spec.device import DeviceSpec
from accelsim.workload.layers import Conv2d

HALF_SCALE = 0.5     # mean stored level of a cell, as a fraction of full scale, in fast mode


@register
class Crossbars(Unit):
    name = UnitKind.CIM
    section = "cim"
    order = 30
    components = ("dac", "array", "adc", "shift_add", "accumulator")
    weighted = True

    def estimates(self, device: DeviceSpec):
        return crossbar_figures.estimates(device)

    def area(self, device: DeviceSpec):
        return crossbar_figures.area(device)

    def latencies(self, device: DeviceSpec):
        return crossbar_figures.latencies(device)

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        cim = device.cim
        return {Action.DAC_CONVERT: cim.dac_pj, Action.ARRAY_READ: cim.cell_read_pj,
                Action.CELL_SIGNAL: cim.cell_signal_pj, Action.COLUMN_READ: cim.column_read_pj,
                Action.ADC_CONVERT: cim.adc_pj, Action.SHIFT_ADD: cim.shift_add_pj,
                Action.ACCUMULATE: cim.accumulate_pj, Action.CELL_WRITE: cim.cell_write_pj,
                Action.TILE_CLOCK: cim.clock_pj}

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        # All tiles leak for the whole run (no power gating).
        return {"array": device.cim.tiles * device.cim.tile_leakage_mw}

    def plan(self, ctx: PlanContext, name: str) -> LayerPlan:
        """Layers that differ only in name and inputs have the same plan but for the names
        in it: the first is planned, the others are renamed copies of it (a deep network
        repeats a few layer shapes; see _renamed)."""
        if ctx.dev.cim is None:
            raise MappingError(f"layer '{name}': device '{ctx.dev.name}' has no CIM tiles")
        key = _plan_key(ctx, name)
        try:
            first = ctx.memo.get(key) if key is not None else None
        except TypeError:          # a parameter that cannot be hashed: planned, not shared
            first = key = None
        if first is not None:
            return _renamed(*first, name, ctx.needs(name))
        plan = self._plan(ctx, name)
        if key is not None:
            ctx.memo[key] = (plan, _named_stages(plan))
            _freeze(plan)
        return plan

    def _plan(self, ctx: PlanContext, name: str) -> LayerPlan:
        layer = ctx.wl.layers[name]
        cim = ctx.dev.cim
        k, n, groups = layer.matrix(ctx.wl.input_shapes(name))
        tiling = tile_layer(k, n, groups, rows=cim.rows, cols=cim.cols,
                            cells_per_weight=cim.cells_per_weight)
        # A layer larger than the chip splits into many parts, most alike (a chip of a few
        # tiles: thousands of one-tile parts of three or four kinds). A part's plan depends
        # on its tiles only through _signature: alike parts share one plan, renamed.
        planned: dict[bytes, CrossbarPart] = {}
        parts = []
        for index, tiles in enumerate(_split(tiling, cim.tiles)):
            signature = _signature(tiling, tiles)
            like = planned.get(signature)
            if like is None:
                like = planned[signature] = _part(ctx, name, layer, tiling, index, tiles)
                parts.append(like)
            else:
                parts.append(_moved(like, index, tiles))
        return LayerPlan(name, layer.kind, UnitKind.CIM, ctx.wl.layer_macs(name), tuple(parts),
                         tiling, parameters=layer.params())

    def product(self, ctx, plan, columns, matrix, options, rng):
        _, h, w = ctx.wl.shapes[plan.name]
        return crossbar_product(columns, matrix, plan.tiling, ctx.dev, options, rng,
                                images=columns.shape[0] // (h * w))

    def measured(self, plan: LayerPlan, stats: CrossbarStats, device: DeviceSpec,
                 batch: int) -> tuple[LayerPlan, np.ndarray, int]:
        """Input cycles whose drives are all zero are skipped, zero inputs are not driven,
        and tiles that hold only zero weights are not mapped (each as the device's policies
        say). Counts become totals over the batch; each tile's MVM time becomes (cycles run)
        x (one read + its sequential conversions) per vector."""
        parts = tuple(_measured_part(part, plan, stats, device, batch) for part in plan.parts)
        dense = sum(part.counts for part in plan.parts) * batch
        avoided = dense - sum(part.batch_counts for part in parts)
        # Every count can only fall, but the array's signal energy follows the stored levels:
        # the dense plan reads cells at half scale, so weights coded above it read dearer (a
        # negative saving; docs/models.md).
        counted = np.arange(avoided.size) != Action.CELL_SIGNAL
        assert avoided[counted].min() >= -1e-6, "measured counts cannot exceed dense ones"
        return (replace(plan, parts=parts), avoided,
                plan.tiling.tiles - sum(part.tiles for part in parts))


def _plan_key(ctx: PlanContext, name: str):
    """What a crossbar plan depends on besides names: the layer's parameters and the shapes
    it reads and writes (the device and batch are the context's)."""
    layer = ctx.wl.layers[name]
    return (Crossbars.name, copied(layer, name="", inputs=()),
            tuple(ctx.wl.input_shapes(name)), ctx.wl.shapes[name])


def _freeze(plan: LayerPlan) -> None:
    """Make a shared plan's arrays read-only, so that an in-place change fails loudly."""
    arrays = [plan.tiling.__dict__.values()] if plan.tiling is not None else []
    for part in plan.parts:
        arrays.append([part.counts, part.tile_cycles, part.tile_indices])
        if part.programming is not None:
            arrays.append([part.programming.counts])
    for group in arrays:
        for array in group:
            if isinstance(array, np.ndarray):
                array.flags.writeable = False


def _named_stages(plan: LayerPlan) -> list[tuple[list[int], list[int]]]:
    """Per part, which of its stages and of its programming stages hold a resource keyed by
    the layer's name (see _renamed)."""
    def named(stages) -> list[int]:
        return [i for i, stage in enumerate(stages) if stage.resource.kind in _NAMED]
    return [(named(part.stages),
             named(part.programming.stages) if part.programming is not None else [])
            for part in plan.parts]


def _renamed(plan: LayerPlan, named: list[tuple[list[int], list[int]]], name: str,
             needs) -> LayerPlan:
    """``plan`` for layer ``name`` reading through ``needs``: the parts' layer and their
    array and tile-buffer resources ("layer#part", the stages ``named`` lists) renamed. The
    arrays are shared with ``plan`` (nothing changes a plan's arrays in place)."""
    parts = []
    for part, (in_part, in_programming) in zip(plan.parts, named):
        key = f"{name}#{part.part}"
        programming = part.programming
        if programming is not None:
            programming = copied(programming,
                                 stages=_keyed(programming.stages, key, in_programming))
        parts.append(copied(part, layer=name, needs=needs,
                             stages=_keyed(part.stages, key, in_part), programming=programming))
    return copied(plan, name=name, parts=tuple(parts))


_NAMED = (ResourceKind.ARRAY, ResourceKind.TILE_BUFFER)    # resources keyed "layer#part"


def _keyed(stages: tuple[Stage, ...], key: str, which: list[int] | None = None
           ) -> tuple[Stage, ...]:
    """``stages`` with their array and tile-buffer resources keyed ``key`` ("layer#part"):
    those at the indices ``which`` (see _named_stages), or by default every stage on one."""
    if which is None:
        which = [i for i, stage in enumerate(stages) if stage.resource.kind in _NAMED]
    new = list(stages)
    for i in which:
        new[i] = copied(stages[i], resource=Resource(stages[i].resource.kind, key))
    return tuple(new)


def _part(ctx: PlanContext, name, layer, tiling: CrossbarTiling, index: int,
          tiles: np.ndarray) -> CrossbarPart:
    """Plan the tiles ``tiles`` (indices into the layer's tiling) as one schedulable part."""
    cim, dev = ctx.dev.cim, ctx.dev
    rows_used, cols_used = tiling.rows_used[tiles], tiling.cols_used[tiles]
    counts = ctx.counts()
    cycles_in = cim.input_cycles
    counts[Action.DAC_CONVERT] = rows_used.sum() * cycles_in
    counts[Action.ARRAY_READ] = (rows_used * cols_used).sum() * cycles_in
    # Without the data, cells are taken at half scale (value mode counts their levels).
    counts[Action.CELL_SIGNAL] = HALF_SCALE * counts[Action.ARRAY_READ]
    counts[Action.ADC_CONVERT] = cols_used.sum() * cycles_in
    counts[Action.COLUMN_READ] = counts[Action.ADC_CONVERT]
    counts[Action.SHIFT_ADD] = cols_used.sum() * cycles_in
    in_slices, out_slices, depth = _slices(tiling, tiles)
    # With tile buffers, a fraction `fetched` of the window inputs leaves the global
    # buffer (1 when the layer reuses nothing or its window does not fit).
    staging = _staging(ctx, name, layer, tiling, tiles)
    fetched = staging.fetched if staging is not None else 1.0
    in_words = int(ctx.words(in_slices, ctx.in_bits).sum())
    # Partial sums of row tiles are added by adder trees beside the tiles; a part that
    # holds only some row tiles of a column writes its sums to the buffer for the next part.
    counts[Action.ACCUMULATE] = float(np.sum(out_slices * (depth["rows"] - 1)))
    first, last = depth["first"], depth["last"]
    carried_in = out_slices[~first]
    carried_out = out_slices[~last]
    psum_read = int(ctx.words(carried_in, cim.psum_bits).sum())
    psum_write = int(ctx.words(carried_out, cim.psum_bits).sum())
    counts[Action.ACCUMULATE] += carried_in.sum()
    final = out_slices[last]
    out_words = int(ctx.words(final.sum(), ctx.out_bits)) if final.size else 0
    ctx.activation_counts(counts, layer.activation, int(final.sum()))
    counts[buffer_read(Operand.INPUTS)] = fetched * in_words
    counts[buffer_read(Operand.PSUMS)] = psum_read
    counts[buffer_write(Operand.OUTPUTS)] = out_words
    counts[buffer_write(Operand.PSUMS)] = psum_write
    if staging is not None:
        counts[Action.TILE_BUFFER_READ] = staging.reads
        counts[Action.TILE_BUFFER_WRITE] = fetched * staging.reads
    bus = dev.interconnect
    counts[Action.BUS_BIT] = (fetched * in_slices.sum() * ctx.in_bits
                              + final.sum() * ctx.out_bits
                              + (carried_in.sum() + carried_out.sum()) * cim.psum_bits)
    tile_cycles = cycles_in * cim.cycles_per_input_cycle(cols_used)
    # A shift-and-add register is clocked when it takes a converted value (enable-gated).
    counts[Action.TILE_CLOCK] = counts[Action.SHIFT_ADD]
    flits_in = (math.ceil(fetched * ctx.flits(in_slices, ctx.in_bits))
                + ctx.flits(carried_in, cim.psum_bits))
    flits_out = ctx.flits(final, ctx.out_bits) + ctx.flits(carried_out, cim.psum_bits)
    tree = math.ceil(math.log2(int(depth["rows"].max()))) if depth["rows"].max() > 1 else 0
    key = f"{name}#{index}"
    resource = Resource(ResourceKind.ARRAY, key)
    local = ((Stage(StageKind.TILE_BUFFER, Resource(ResourceKind.TILE_BUFFER, key),
                    staging.occupancy),) if staging is not None else ())
    _, h, w = ctx.wl.shapes[name]
    stages = (
        ctx.buffer_stage(StageKind.BUFFER_READ, math.ceil(fetched * in_words) + psum_read,
                         h * w),
        Stage(StageKind.BUS_IN, BUS, flits_in, bus.latency_cycles),
        *local,
        Stage(StageKind.MVM, resource, int(tile_cycles.max())),
        Stage(StageKind.BUS_OUT, BUS, flits_out, bus.latency_cycles + tree),
        ctx.digital_stage(counts, h * w),
        ctx.buffer_stage(StageKind.BUFFER_WRITE, out_words + psum_write, h * w),
    )
    return CrossbarPart(name, index, UnitKind.CIM, h * w, stages, counts * (h * w),
                        ctx.needs(name), tiles=int(tiles.size), tile_cycles=tile_cycles,
                        tile_indices=tiles,
                        programming=_programming(ctx, tiling, tiles, resource),
                        carries_from_previous_part=bool(carried_in.size), staging=staging,
                        inputs=None if carried_in.size else InputStream(
                            (_window(layer), in_slices.tobytes(), fetched, ctx.in_bits, h * w),
                            fetched * in_words, fetched * float(in_slices.sum()) * ctx.in_bits))


def _window(layer) -> tuple:
    """What decides which input vectors a weighted layer reads of its input tensors."""
    values = (getattr(layer, field, None)
              for field in ("kernel", "stride", "padding", "dilation", "groups"))
    return (layer.kind, *(tuple(v) if isinstance(v, list) else v for v in values))


def _signature(tiling: CrossbarTiling, tiles: np.ndarray) -> bytes:
    """What _part reads of ``tiles``: each tile's rows, columns and weights used, whether it
    is its column's first or last row tile, and which input slice and output column it
    reads and adds into, numbered from the part's first (with those slices' sizes); its
    length gives the number of tiles. Two parts with equal signatures have equal plans but
    for the part's index and tiles."""
    rows, cols = tiling.tile_rows, tiling.tile_cols
    block, rest = np.divmod(tiles, rows * cols)
    row, col = np.divmod(rest, cols)
    input_id = block * rows + row
    column = block * cols + col
    return np.stack([tiling.rows_used[tiles], tiling.cols_used[tiles], tiling.weights[tiles],
                     (row == 0) + 2 * (row == rows - 1), input_id - input_id.min(),
                     column - column.min(), tiling.input_slices[input_id],
                     tiling.output_slices[column]]).astype(np.int64).tobytes()


def _moved(part: CrossbarPart, index: int, tiles: np.ndarray) -> CrossbarPart:
    """``part`` (planned by _part) as part ``index`` holding ``tiles``, of equal signature:
    its array and tile-buffer resources renamed; counts and cycles shared."""
    key = f"{part.layer}#{index}"
    programming = part.programming
    if programming is not None:
        programming = copied(programming, stages=_keyed(programming.stages, key))
    return copied(part, part=index, stages=_keyed(part.stages, key), tile_indices=tiles,
                  programming=programming)


def _staging(ctx: PlanContext, name: str, layer, tiling: CrossbarTiling,
             tiles: np.ndarray) -> Staging | None:
    """How a part's inputs pass through the tile buffers (None: the device has none).

    The part's tiles fill buffers ``crossbars`` at a time, tiles that read the same input
    slice next to each other; a buffer holds the slices its tiles read. A conv can keep a
    sliding window of input rows there: ((kernel height - 1) x dilation + 1) rows of the
    input, across the channels of its slices. When every buffer holds its window, each
    input is fetched from the global buffer once per image instead of once per window
    covering it; otherwise nothing is kept and every window is fetched again (the extra
    reads are the spill).
    """
    buffer = ctx.dev.tile_buffer
    if buffer is None:
        return None
    rows, cols = tiling.tile_rows, tiling.tile_cols
    block, rest = np.divmod(tiles, rows * cols)
    input_id = block * rows + rest // cols
    # Tiles reading the same inputs share a buffer where they can: one read feeds them all.
    owner = np.empty(tiles.size, dtype=np.int64)
    owner[np.argsort(input_id, kind="stable")] = np.arange(tiles.size) // buffer.crossbars
    pairs = np.unique(np.stack([owner, input_id]), axis=1)
    slices = tiling.input_slices[pairs[1]]
    words = ceil_div(slices * ctx.in_bits, buffer.word_bits)
    per_buffer_words = np.bincount(pairs[0], weights=words)
    per_buffer_inputs = np.bincount(pairs[0], weights=slices)
    fetched = 1.0
    if isinstance(layer, Conv2d):
        _, h_in, w_in = ctx.wl.input_shapes(name)[0]
        _, h_out, w_out = ctx.wl.shapes[name]
        kh, kw = layer.kernel
        window_rows = (kh - 1) * layer.dilation[0] + 1
        need = per_buffer_inputs.max() / (kh * kw) * window_rows * w_in * ctx.in_bits / 8
        if need <= buffer.size_bytes:
            fetched = min(1.0, h_in * w_in / (kh * kw * h_out * w_out))
    # One port per bank, shared by the writes that fill a buffer and the reads from it.
    occupancy = math.ceil(per_buffer_words.max() * (1 + fetched) / buffer.banks)
    return Staging(fetched, float(per_buffer_words.sum()), occupancy, int(owner.max()) + 1)


def _programming(ctx: PlanContext, tiling: CrossbarTiling, tiles: np.ndarray,
                 resource: Resource) -> Programming:
    """Writing a part's weights: DRAM read, bus transfer, then rows written into the tiles."""
    cim, dev = ctx.dev.cim, ctx.dev
    weight_bits = int(tiling.weights[tiles].sum()) * cim.weight_bits
    counts = ctx.counts()
    dram = ctx.dram_stage(StageKind.DRAM_READ, weight_bits, counts, Operand.WEIGHTS)
    counts[Action.BUS_BIT] = weight_bits
    counts[Action.CELL_WRITE] = np.sum(tiling.rows_used[tiles] * tiling.cols_used[tiles])
    bus = dev.interconnect
    stages = (dram, Stage(StageKind.BUS_IN, BUS, math.ceil(weight_bits / bus.width_bits),
                          bus.latency_cycles),
              Stage(StageKind.PROGRAM, resource,
                    int(tiling.rows_used[tiles].max()) * cim.write_cycles_per_row))
    return Programming(stages, counts)


def _split(tiling: CrossbarTiling, chip_tiles: int) -> list[np.ndarray]:
    """Tile indices of each part: chunks of at most ``chip_tiles`` tiles, taken column by
    column so that a part completes as many output columns as it can."""
    index = np.arange(tiling.tiles).reshape(tiling.blocks, tiling.tile_rows, tiling.tile_cols)
    order = index.transpose(0, 2, 1).reshape(-1)
    return [order[i:i + chip_tiles] for i in range(0, order.size, chip_tiles)]


def _slices(tiling: CrossbarTiling, tiles: np.ndarray):
    """Input slices read, output slices produced and per-column reduction facts of a part.

    Returns (input slice sizes, output slice sizes, dict of per-output-slice arrays: ``rows``
    row tiles reduced here, ``first``/``last`` whether the part holds the first/last row tile).
    """
    rows, cols = tiling.tile_rows, tiling.tile_cols
    block, rest = np.divmod(tiles, rows * cols)
    row, col = np.divmod(rest, cols)
    input_ids = np.unique(block * rows + row)
    columns, inverse = np.unique(block * cols + col, return_inverse=True)
    rows_here = np.bincount(inverse, minlength=columns.size)
    first_row = np.full(columns.size, rows, dtype=np.int64)
    last_row = np.full(columns.size, -1, dtype=np.int64)
    np.minimum.at(first_row, inverse, row)
    np.maximum.at(last_row, inverse, row)
    return (tiling.input_slices[input_ids], tiling.output_slices[columns],
            {"rows": rows_here, "first": first_row == 0, "last": last_row == rows - 1})


def _measured_part(part: CrossbarPart, plan: LayerPlan, stats: CrossbarStats,
                   device: DeviceSpec, batch: int) -> CrossbarPart:
    cim, tiling = device.cim, plan.tiling
    tiles = part.tile_indices
    # Tiles of one row of tiles see the same inputs: the counts are summed over the vectors
    # once per row block, then weighted by what the block's mapped tiles hold.
    blocks, row_block = np.unique(tiles // tiling.tile_cols, return_inverse=True)
    kept = stats.tile_kept[tiles] if cim.skip_zero_weight_tiles else np.ones(tiles.size, bool)
    cycles = (stats.cycles[blocks] if cim.skip_zero_input_cycles
              else np.full((blocks.size, stats.cycles.shape[1]), cim.input_cycles))
    cols_used = tiling.cols_used[tiles]
    # per row block: its mapped tiles' columns, and rows times columns
    held = row_block[kept]
    cols = np.bincount(held, cols_used[kept], minlength=blocks.size)
    rows_cols = np.bincount(held, (tiling.rows_used[tiles] * cols_used)[kept],
                            minlength=blocks.size)
    cycles_run = cycles.sum(axis=1)                                     # [blocks]
    counts = part.counts * batch
    if cim.gate_zero_inputs:
        driven = stats.driven[blocks].sum(axis=1)
        counts[Action.DAC_CONVERT] = float(driven @ np.bincount(held, minlength=blocks.size))
        counts[Action.ARRAY_READ] = float(driven @ cols)
        # levels stored in the driven rows, per column (the mean over the row block's columns)
        counts[Action.CELL_SIGNAL] = float(stats.signal[blocks].sum(axis=1) @ cols)
    else:
        counts[Action.DAC_CONVERT] = float(
            cycles_run @ np.bincount(held, tiling.rows_used[tiles][kept], minlength=blocks.size))
        counts[Action.ARRAY_READ] = float(cycles_run @ rows_cols)
        counts[Action.CELL_SIGNAL] = float((stats.level[blocks] * cycles_run) @ cols)
    conversions = float(cycles_run @ cols)
    counts[Action.ADC_CONVERT] = counts[Action.SHIFT_ADD] = conversions
    counts[Action.COLUMN_READ] = conversions
    counts[Action.TILE_CLOCK] = counts[Action.SHIFT_ADD]   # clocked per converted value
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
    measured = Measured(counts, cycles, row_block[kept],
                        np.asarray(cim.cycles_per_input_cycle(cols_used[kept]), dtype=np.int64))
    return replace(part, measured=measured, tiles=int(kept.sum()),
                   tile_indices=tiles[kept], programming=programming)
