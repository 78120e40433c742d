"""A digital systolic (PE) array: prices and leakage, how a conv or linear layer is planned on
it fold by fold (timing as SCALE-Sim, see hardware.folds), and value mode's exact product and
zero-operand statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from accelsim.arith import ceil_div
from accelsim.energy.table import (
    Action,
    Operand,
    buffer_read,
    buffer_write,
    pe_hop,
    rf_access,
)
from accelsim.errors import MappingError
from accelsim.hardware import systolic_figures
from accelsim.hardware.context import PlanContext, count_dram, count_dram_per_transfer
from accelsim.hardware.folds import Folds, fold_schedule, slice_held
from accelsim.hardware.plan import (
    BUFFER,
    BUS,
    DIGITAL,
    DRAM,
    SYSTOLIC,
    LayerPlan,
    Measured,
    Need,
    NeedRule,
    Stage,
    StageKind,
    SystolicPart,
    UnitKind,
)
from accelsim.hardware.registry import Unit, register
from accelsim.hardware.row_stationary import ConvShape, RsMapping, best_mapping, spads
from accelsim.hardware.row_stationary import passes as rs_passes
from accelsim.kernels.quantize import quantized_inputs, quantized_weights
from accelsim.models import Estimate
from accelsim.spec.device import DeviceSpec
from accelsim.workload.layers import Conv2d
from accelsim.workload.ops import DIGITAL_ACTIONS


@dataclass
class SystolicStats:
    """Measured on a systolic layer: MACs whose operands are both nonzero, of all MACs."""

    nonzero_macs: int
    macs: int


@register
class SystolicArray(Unit):
    name = UnitKind.SYSTOLIC
    section = "systolic"
    order = 50
    components = ("systolic",)
    weighted = True

    def estimates(self, device: DeviceSpec) -> dict[str, Estimate]:
        return systolic_figures.estimates(device)

    def area(self, device: DeviceSpec) -> dict[str, Estimate]:
        return systolic_figures.area(device)

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        return systolic_figures.prices(device)

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        return {"systolic": device.systolic.leakage_mw}

    def prices_decide(self, device: DeviceSpec) -> bool:
        # Every dataflow: staged weights (mapping.plan._weights_to_stage), a merged batch
        # (simulate) and the row-stationary mapping search all weigh energy x delay.
        return True

    def plan(self, ctx: PlanContext, name: str) -> LayerPlan:
        """The layer's plan (see _plan). A layer whose spilled input may come back once
        (_back_share) is also planned streaming it all (a row-stationary mapping for an
        input on chip may fetch weights more often): the lower energy x delay is kept."""
        layer, dev = ctx.wl.layers[name], ctx.dev
        if dev.systolic is None:
            raise MappingError(f"layer '{name}': device '{dev.name}' has no systolic array")
        k, n, groups = layer.matrix(ctx.wl.input_shapes(name))
        images = ctx.batch if ctx.merge and merges_batch(ctx.wl, dev, ctx.batch, name) else 1
        in_dram, streamed = _streamed_operands(ctx, name,
                                               k * n * groups * dev.systolic.operand_bits / 8)
        share = _back_share(ctx, name, images, in_dram)
        if share <= 0:
            return self._plan(ctx, name, images, in_dram, streamed, 0.0)
        from accelsim.hardware.pricing import energy_per_action
        price = energy_per_action(dev)
        plans = [self._plan(ctx, name, images, in_dram, streamed, back)
                 for back in (share, 0.0)]
        return min(plans, key=lambda plan: math.prod(fold_cost(plan, ctx.batch, price)))

    def _plan(self, ctx: PlanContext, name: str, images: int, in_dram: float,
              streamed: bool, back_share: float) -> LayerPlan:
        """One step per fold. The batch is merged into the GEMM: the array multiplies
        M = batch x positions input vectors by the weights in one pass, so each fold's weights
        serve every image (as SCALE-Sim and a TPU-style batch do). The layer then starts once
        every image's inputs are ready, and its counts and folds cover the whole batch.
        Unless merging is what overflows the buffer (merges_batch): then the layer runs
        image by image, each image's pass planned as at batch 1.

        Operands that do not fit the global buffer stream from DRAM fold by fold: the share
        of the input held in DRAM (see mapping.memory) is read from there by every fold that
        reads inputs (the input elements under the fold's part of the lowered input matrix:
        a conv window's overlap is expanded on chip; a row-stationary mapping that keeps its
        strip's window reads it once, into the buffer; and ``back_share`` of it, spilled by
        its producer, comes back once, into the buffer, spread over the folds in order: see
        _back_share), and weights that
        do not fit beside the activations are not staged but read from DRAM by every fold
        that uses them. Weights that fit are fetched once per batch, each by the first fold
        that uses it, into the buffer (double buffered: loading overlaps the folds before).
        Each fold then waits for its DRAM transfer (a stage of its own on the DRAM channels),
        which shows in cycles.
        """
        layer, dev = ctx.wl.layers[name], ctx.dev
        array, bus = dev.systolic, dev.interconnect
        k, n, groups = layer.matrix(ctx.wl.input_shapes(name))
        _, h, w = ctx.wl.shapes[name]
        bits, acc = array.operand_bits, array.accumulator_bits
        mapping = ""
        if array.dataflow == "rs":
            one, chosen = row_stationary_folds(ctx, name, streamed, in_dram - back_share,
                                               images)
            mapping = chosen.notation
            unique = 1.0          # its input reads are input tensor elements already
        else:
            one, unique = _gemm_folds(ctx.wl, dev, name, images)
        folds = _grouped(one, groups, _groups_per_fold(array, k, n, one.count))
        none = np.zeros_like(folds.weight_reads)
        once_in = none
        if back_share > 0:
            # Read once, into the buffer, spread over the folds as they read inputs.
            spilled = back_share * images * ctx.wl.stored_elements(layer.inputs[0])
            share = np.cumsum(folds.input_reads) / max(1, int(folds.input_reads.sum()))
            once_in = np.diff(np.rint(spilled * share), prepend=0).astype(np.int64)
            in_dram = 0.0 if in_dram - back_share < 1e-9 else in_dram - back_share
        if in_dram > 0:
            # A fold's input slice that the folds after it share (the same K slice for every
            # block of N, ws; the same block of M, os) stays in the buffer for them when it
            # fits, double buffered, beside the weights held there; else every fold fetches
            # its own.
            brought = folds.new_inputs
            if array.dataflow != "rs":
                room = _slice_room(ctx.wl, dev, name, images, unique)
                tensor = images * ctx.wl.stored_elements(layer.inputs[0]) * bits / 8
                if _slices_stay(dev, room, ctx.room(name)):
                    # The room comes from the input's resident part, which then streams
                    # from DRAM with the rest.
                    in_dram = min(1.0, in_dram + room / tensor)
                    brought = folds.first_inputs
            inputs_from_dram = np.rint(in_dram * unique * brought).astype(np.int64)
            kept = bool((brought != folds.input_reads).any())
        else:
            inputs_from_dram, kept = none, True
        # Inputs from DRAM go straight to the array, every fold fetching its own; or a slice
        # stays for the folds that share it, or a row-stationary window is kept for several
        # folds, into the buffer, from which every fold reads them (as the share read once).
        staged = once_in + (inputs_from_dram if kept else none)
        direct = none if kept else inputs_from_dram
        # Weights that fit are fetched fold by fold as folds first need them (double
        # buffered: a fold waits only for its own), written to the buffer and read from it
        # by every fold that uses them; weights that do not fit go from DRAM straight to the
        # array, every fold fetching its own.
        fetched = none if streamed else folds.new_weights
        weights_from_dram = folds.weight_reads if streamed else none
        words = ctx.words
        input_words = words(folds.input_reads - direct, bits)
        weight_words = words(folds.weight_reads - weights_from_dram, bits)
        fetched_words = words(fetched, bits)
        staged_words = words(staged, bits)
        psum_words = words(folds.psum_reads, acc)
        read_words = input_words + weight_words + psum_words
        psum_write_words = words(folds.psum_writes, acc)
        output_words = words(folds.output_writes, bits)
        write_words = psum_write_words + output_words
        bits_in = ((folds.input_reads + folds.weight_reads + fetched + staged) * bits
                   + folds.psum_reads * acc)
        bits_out = folds.psum_writes * acc + folds.output_writes * bits
        counts = ctx.counts()
        counts[Action.PE_MAC] = folds.macs.sum()
        counts[Action.PE_CLOCK] = systolic_figures.clock_count(dev.systolic, folds.cycles.sum())
        for operand, rf, hop in ((Operand.INPUTS, folds.rf_inputs, folds.hop_inputs),
                                 (Operand.WEIGHTS, folds.rf_weights, folds.hop_weights),
                                 (Operand.PSUMS, folds.rf_psums, folds.hop_psums)):
            counts[rf_access(operand)] = rf.sum()
            counts[pe_hop(operand)] = hop.sum()
        counts[buffer_read(Operand.INPUTS)] = input_words.sum()
        counts[buffer_read(Operand.WEIGHTS)] = weight_words.sum()
        counts[buffer_read(Operand.PSUMS)] = psum_words.sum()
        counts[buffer_write(Operand.WEIGHTS)] = fetched_words.sum()
        counts[buffer_write(Operand.INPUTS)] = staged_words.sum()
        counts[buffer_write(Operand.PSUMS)] = psum_write_words.sum()
        counts[buffer_write(Operand.OUTPUTS)] = output_words.sum()
        counts[Action.BUS_BIT] = bits_in.sum() + bits_out.sum()
        activation = ctx.counts()
        ctx.activation_counts(activation, layer.activation, 1)
        counts += activation * folds.output_writes.sum()
        digital_ops = int(sum(activation[a] for a in DIGITAL_ACTIONS))
        banks, width = dev.global_buffer.banks, bus.width_bits
        # The buffer's banks write a fold's fetched operands before it reads its operands.
        columns = [ceil_div(read_words + fetched_words + staged_words, banks),
                   ceil_div(bits_in, width),
                   folds.cycles,
                   ceil_div(bits_out, width),
                   ceil_div(folds.output_writes * digital_ops, dev.digital.lanes),
                   ceil_div(write_words, banks)]
        stages = [Stage(StageKind.BUFFER_READ, BUFFER, 0),
                  Stage(StageKind.BUS_IN, BUS, 0, bus.latency_cycles),
                  Stage(StageKind.COMPUTE, SYSTOLIC, 0),
                  Stage(StageKind.BUS_OUT, BUS, 0, bus.latency_cycles),
                  Stage(StageKind.DIGITAL, DIGITAL, 0),
                  Stage(StageKind.BUFFER_WRITE, ctx.buffer_resource(StageKind.BUFFER_WRITE), 0)]
        if once_in.any() or inputs_from_dram.any() or weights_from_dram.any() or fetched.any():
            # Each fold's streamed operands as one sequential transfer per operand. Staged
            # weights are the layer's weight tensor read in order, one transfer split over
            # the folds that first need them (counted once, in whole bursts), and so is an
            # input read once.
            fetch = fetched * bits
            if fetched.any():
                count_dram(counts, dev, read=True, bits=int(fetch.sum()),
                           operand=Operand.WEIGHTS)
            if once_in.any():
                fetch = fetch + once_in * bits
                count_dram(counts, dev, read=True, bits=int(once_in.sum()) * bits,
                           operand=Operand.INPUTS)
            for operand, elements in ((Operand.INPUTS, inputs_from_dram),
                                      (Operand.WEIGHTS, weights_from_dram)):
                fetch = fetch + count_dram_per_transfer(counts, dev, elements * bits, operand)
            # Whole cycles up to each fold's end: back-to-back transfers share cycles, so the
            # folds add up to the bits moved over the bandwidth (a fold of a few bytes does
            # not take a cycle of its own).
            reached = np.ceil(np.cumsum(fetch) / 8 / dev.dram_bytes_per_cycle - 1e-9)
            columns.insert(0, np.diff(reached, prepend=0).astype(np.int64))
            stages.insert(0, Stage(StageKind.OPERAND_READ, DRAM, 0,
                                   dev.cycles(dev.dram.latency_ns)))
        if images == 1:
            # A fold reads the inputs of the output vectors below its reach, and the groups
            # of a grouped layer each cover every vector: one is done when the last group's
            # fold completes it.
            per_group = one.cycles.size
            completes = folds.completes.copy()
            completes[:-per_group] = 0
            reach, needs = folds.reach, ctx.needs(name)
        else:                  # a pass of several images needs all of their inputs first
            reach = completes = None
            needs = tuple((source, Need(NeedRule.ALL)) for source in layer.inputs)
        part = SystolicPart(name, 0, UnitKind.SYSTOLIC, h * w, tuple(stages), counts, needs,
                            images=images, folds=np.stack(columns, axis=1), reach=reach,
                            completes=completes)
        return LayerPlan(name, layer.kind, UnitKind.SYSTOLIC, ctx.wl.layer_macs(name), (part,),
                         parameters=layer.params(), mapping=mapping)

    def product(self, ctx, plan, columns, matrix, options, rng):
        """The exact quantized product, and the MACs whose operands are both nonzero."""
        bits = ctx.dev.systolic.operand_bits
        _, h, w = ctx.wl.shapes[plan.name]
        macs = ctx.wl.layer_macs(plan.name) * columns.shape[0] // (h * w)
        q_x, scale_x, _ = quantized_inputs(columns, bits, options.zero_threshold,
                                           images=columns.shape[0] // (h * w))
        q_w, scale_w = quantized_weights(matrix, bits, options.per_channel)
        # Each weight row k meets every input in column k: pairs with both nonzero.
        nonzero = int(np.count_nonzero(q_x, axis=0) @ np.count_nonzero(q_w, axis=1))
        return ((q_x @ q_w).astype(np.float64) * scale_x * scale_w,
                SystolicStats(nonzero, macs))

    def given_zeros(self, plan: LayerPlan, fraction: float, workload,
                    batch: int) -> SystolicStats:
        """The batch's MACs, of which those meeting a zero input (weights taken as dense)."""
        macs = workload.layer_macs(plan.name) * batch
        return SystolicStats(macs - round(macs * fraction), macs)

    def measured(self, plan: LayerPlan, stats: SystolicStats, device: DeviceSpec,
                 batch: int) -> tuple[LayerPlan, np.ndarray, int]:
        """The array's zero policy: gating saves the MAC and register-file energy of MACs
        with a zero operand; skipping saves their cycles too (spread evenly over the folds)
        and reads an index per remaining MAC."""
        policy = device.systolic.zero_policy
        (part,) = plan.parts
        dense = part.counts * (batch // part.images)
        counts = dense.copy()
        if policy == "none" or stats.macs == 0:
            return (replace(plan, parts=(replace(part, measured=Measured(counts)),)),
                    dense - counts, 0)
        zeros = stats.macs - stats.nonzero_macs
        dataflow = device.systolic.dataflow
        counts[Action.PE_MAC] -= zeros
        # A MAC with a zero operand skips its register-file accesses: its stationary
        # operand's, or in a row-stationary PE the weight read and the psum read and write
        # (the input is read to see it is zero).
        skipped = {"ws": {Operand.WEIGHTS: 1}, "os": {Operand.PSUMS: 1},
                   "is": {Operand.INPUTS: 1}, "rs": {Operand.WEIGHTS: 1, Operand.PSUMS: 2}}
        for operand, per_mac in skipped[dataflow].items():
            counts[rf_access(operand)] -= per_mac * zeros
        folds = part.folds
        if policy == "skipping":
            # Its two moving operands are not passed on either (row stationary delivers rows,
            # not per-MAC operands).
            moving = {"ws": (Operand.INPUTS, Operand.PSUMS), "os": (Operand.INPUTS,
                      Operand.WEIGHTS), "is": (Operand.WEIGHTS, Operand.PSUMS), "rs": ()}
            for operand in moving[dataflow]:
                counts[pe_hop(operand)] -= zeros
            counts[Action.PE_INDEX] += stats.nonzero_macs
            compute = [i for i, stage in enumerate(part.stages)
                       if stage.kind == StageKind.COMPUTE][0]
            folds = folds.copy()
            folds[:, compute] = ceil_div(folds[:, compute] * stats.nonzero_macs, stats.macs)
            counts[Action.PE_CLOCK] = systolic_figures.clock_count(
                device.systolic, folds[:, compute].sum() * (batch // part.images))
        return (replace(plan, parts=(replace(part, measured=Measured(counts), folds=folds),)),
                dense - counts, 0)


def merges_batch(workload, device: DeviceSpec, batch: int, name: str) -> bool:
    """Whether the systolic layer ``name`` runs the batch as one GEMM (its images merged into
    M, weights fetched once for all of them) rather than image by image.

    Merging keeps every image's input and output live at once. When the batch's working set
    (the layer's input and output tensors) overflows the global buffer, the bytes merging
    spills beyond what the images one at a time would (all of the overflow if one image
    fits; a buffer's worth per extra image if not) cost DRAM writes and reads, and fold by
    fold re-reads, which can make a batch cost more than its images run one at a time.
    Image by image, the layer costs exactly that, but every image fetches the weights
    again. So the batch is merged unless those extra bytes, written and read back, outweigh
    the weight bytes the other images would fetch: a depthwise conv (few weights, large
    activations) runs image by image, a linear layer merged. A row-stationary layer that
    overflows the buffer even for one image stays merged: its mapping search tiles the
    batch itself (images per pass), pricing the DRAM reads of what spills (Eyeriss runs
    AlexNet so, four images at a time).

    A weight-, output- or input-stationary layer whose one image's input fits the buffer
    reads its spilled input once (plan: _input_fits); merged, a batch's input may no longer
    fit, and then the part of it beyond the buffer is read by every fold that reads inputs
    (a 1 x 1 conv on a 14-column array: once per 14 outputs), unless each input slice stays
    in the buffer for the folds that share it, as plan keeps it when two slices fit in half
    the buffer (then once). Those extra reads count against merging too."""
    if batch == 1:
        return True
    inputs, output = _layer_bytes(workload, device, name)
    working = inputs + output
    capacity = device.global_buffer.size_bytes
    array = device.systolic
    if capacity >= batch * working or (working > capacity and array.dataflow == "rs"):
        return True
    weight_bytes = layer_weight_bytes(workload, device, name)
    spilled = batch * working - capacity - batch * max(0.0, working - capacity)
    extra = 2 * spilled
    if array.dataflow != "rs" and batch * inputs > capacity:
        # The input beyond the buffer is re-read by the folds: merged, the batch's overflow
        # at the merged GEMM's rate; image by image, each image's own overflow (none when
        # one image fits) at one image's rate. Larger merged slices may no longer stay in
        # the buffer for the folds that share them (ViT-B/16's MLP at batch 8 on a 108 KiB
        # buffer: 220 reads of each element against one per image, 3.6x the energy).
        merged = (batch * inputs - capacity) * (_input_reads(workload, device, name, batch) - 1)
        alone = batch * max(0.0, inputs - capacity) * (
            _input_reads(workload, device, name, 1) - 1)
        extra += max(0.0, merged - alone)
    return (batch - 1) * weight_bytes >= extra


def _groups_per_fold(array, k: int, n: int, folds: int) -> int:
    """Groups of a grouped layer one weight-stationary fold holds side by side: a group whose
    weights (K x N) fit the array in one fold leaves rows and columns free, and other groups'
    weights fill them block-diagonally. Each array row carries its own input stream (its K
    index's values) and each column sums only its own group's rows, the others' weights there
    being zero. Group j takes rows jK to (j + 1)K and columns jN to (j + 1)N: min(rows // K,
    cols // N) groups. A depthwise 3 x 3 conv (K 9, N 1) on 16 rows fits one group per fold,
    on 64 rows seven. (One group per fold made a 64-row array 15 % slower than a 16-row one
    on MobileNetV2's depthwise convs: the same folds, each with a longer fill.) Other
    dataflows share one input stream across a row (os) or hold inputs (is): one group per
    fold."""
    if array.dataflow != "ws" or folds != 1:
        return 1
    return max(1, min(array.rows // k, array.cols // n))


# fields of a fold that do not grow with the groups it holds side by side
_PER_FOLD = ("cycles", "reach", "completes")


def _grouped(one: Folds, groups: int, per_fold: int) -> Folds:
    """The folds of every group, one group's folds repeated; with ``per_fold`` > 1 (one
    group fits one fold), folds of ``per_fold`` groups at once: the same cycles and reach,
    every count times the groups the fold holds."""
    if per_fold == 1:
        return Folds(*(np.tile(getattr(one, f), groups) for f in one.__dataclass_fields__))
    held = np.minimum(per_fold, groups - per_fold * np.arange(-(-groups // per_fold)))
    return Folds(**{field: (np.repeat(getattr(one, field), held.size) if field in _PER_FOLD
                            else getattr(one, field) * held)
                    for field in one.__dataclass_fields__})


def layer_weight_bytes(workload, device: DeviceSpec, name: str) -> float:
    """Bytes of a systolic layer's weights, at the array's operand width: what every image
    run on its own fetches again, and merging the batch fetches once."""
    k, n, groups = workload.layers[name].matrix(workload.input_shapes(name))
    return k * n * groups * device.systolic.operand_bits / 8


def _gemm_folds(workload, device: DeviceSpec, name: str, images: int) -> tuple[Folds, float]:
    """A weight-, output- or input-stationary layer's folds for one group and ``images``
    images merged, and the share of the lowered (im2col) input matrix that is input tensor
    elements: a fold's DRAM inputs are the elements under its part of that matrix (the
    window's overlap is expanded on chip)."""
    layer, array = workload.layers[name], device.systolic
    k, n, groups = layer.matrix(workload.input_shapes(name))
    _, h, w = workload.shapes[name]
    one = fold_schedule(images * h * w, n, k, rows=array.rows, cols=array.cols,
                        dataflow=array.dataflow, depth=array.stationary_per_pe)
    lowered = k * groups * images * h * w
    return one, min(1.0, images * workload.stored_elements(layer.inputs[0]) / lowered)


def _slice_room(workload, device: DeviceSpec, name: str, images: int,
                unique: float) -> float:
    """Buffer bytes a weight- or output-stationary layer's input slices take when each stays
    for the folds that share it (Folds.first_inputs), double buffered: two slices."""
    layer, array = workload.layers[name], device.systolic
    k, _, _ = layer.matrix(workload.input_shapes(name))
    _, h, w = workload.shapes[name]
    held = slice_held(images * h * w, k, rows=array.rows, dataflow=array.dataflow,
                      depth=array.stationary_per_pe)
    return 2 * unique * held * array.operand_bits / 8


def _slices_stay(device: DeviceSpec, room: float, capacity: float | None = None) -> bool:
    """Whether input slices of ``room`` bytes stay in the buffer (at most half of it, or of
    the ``capacity`` the layer may use)."""
    capacity = device.global_buffer.size_bytes if capacity is None else capacity
    return 0 < room <= capacity / 2


def _input_reads(workload, device: DeviceSpec, name: str, images: int) -> float:
    """How many times a weight-, output- or input-stationary layer's folds read each input
    element from DRAM, for ``images`` images merged (what plan reads per element of an input
    share that is not read once): each slice once when slices stay in the buffer for the
    folds that share them, else every fold its own."""
    layer = workload.layers[name]
    _, _, groups = layer.matrix(workload.input_shapes(name))
    one, unique = _gemm_folds(workload, device, name, images)
    elements = images * workload.stored_elements(layer.inputs[0])
    brought = (one.first_inputs if _slices_stay(device, _slice_room(workload, device, name,
                                                                     images, unique))
               else one.new_inputs)
    return unique * groups * float(brought.sum()) / elements


def rs_shape(workload, name: str, images: int) -> ConvShape:
    """One group of the layer ``name`` as a conv (a linear layer: 1 x 1 over its positions),
    for ``images`` images: what the row-stationary mapping search maps."""
    layer = workload.layers[name]
    k, n, _ = layer.matrix(workload.input_shapes(name))
    _, h, w = workload.shapes[name]
    if isinstance(layer, Conv2d):
        r, s = layer.kernel
        return ConvShape(images, n, k // (r * s), (r, s), (h, w), tuple(layer.stride),
                         tuple(layer.dilation))
    return ConvShape(images, n, k, (1, 1), (h, w))


def row_stationary_folds(ctx: PlanContext, name: str, weights_streamed: bool,
                         inputs_in_dram: float, images: int | None = None
                         ) -> tuple[Folds, RsMapping]:
    """A layer's row-stationary passes (hardware.row_stationary) as folds, and the mapping
    they follow: the mapping of least energy at the device's prices (with the DRAM reads of
    streamed weights and of the ``inputs_in_dram`` share of its inputs), its passes in
    execution order, for ``images`` images at once (default: the batch)."""
    dev = ctx.dev
    array = dev.systolic
    costs = systolic_figures.rs_costs(dev)
    shape = rs_shape(ctx.wl, name, ctx.batch if images is None else images)
    try:
        shape, mapping = _rs_mapping(shape, array.rows, array.cols,
                                     tuple(spads(array.rf_bytes, array.operand_bits).items()),
                                     ctx.room(name), costs, not weights_streamed,
                                     round(inputs_in_dram, 6))
    except MappingError as exc:
        raise MappingError(f"layer '{name}': {exc}") from None
    figures = rs_passes(shape, mapping)
    return Folds(**{field: figures[field] for field in Folds.__dataclass_fields__}), mapping


@lru_cache(maxsize=4096)
def _rs_mapping(shape, rows, cols, spad, buffer_bytes, costs, weights_fit,
                inputs_in_dram) -> tuple[ConvShape, RsMapping]:
    return best_mapping(shape, rows=rows, cols=cols, spad=dict(spad),
                        buffer_bytes=buffer_bytes, costs=costs, weights_fit=weights_fit,
                        inputs_in_dram=inputs_in_dram)


def fold_cost(plan: LayerPlan, batch: int, price) -> tuple[float, float]:
    """A systolic layer's energy (its counts at the device's prices) and cycles (its folds'
    slowest stages in turn), for the batch."""
    energy = cycles = 0.0
    for part in plan.parts:
        passes = batch // part.images
        energy += float(part.counts @ price) * passes
        cycles += float(part.folds.max(axis=1).sum()) * passes
    return energy, cycles


def _back_share(ctx: PlanContext, name: str, images: int, in_dram: float) -> float:
    """The share of the layer's input (of the ``in_dram`` its producer spilled) that comes
    back from DRAM once, into the buffer: all when the whole input fits beside the output's
    kept part (_input_fits), else as much as fits beside its resident part."""
    if in_dram <= 0 or ctx.held is None or _input_fits(ctx, name, images):
        return max(0.0, in_dram)
    inputs, output = _layer_bytes(ctx.wl, ctx.dev, name)
    kept_output = (1.0 - ctx.held.fraction[name]) * output
    free = ctx.room(name) - images * ((1.0 - in_dram) * inputs + kept_output)
    return min(in_dram, max(0.0, free / (images * inputs))) if inputs else 0.0


def _input_fits(ctx: PlanContext, name: str, images: int) -> bool:
    """Whether the layer's input fits the buffer beside the part of its output kept there
    (the residency spills the output's overflow first): then the input's DRAM share, spilled
    by its producer, can come back once for all the folds."""
    if ctx.held is None:
        return True
    inputs, output = _layer_bytes(ctx.wl, ctx.dev, name)
    kept_output = (1.0 - ctx.held.fraction[name]) * output
    return images * (inputs + kept_output) <= ctx.room(name)


def _layer_bytes(workload, device: DeviceSpec, name: str) -> tuple[float, float]:
    """Bytes of the layer's input tensors and of its output, per image, at the chip's output
    width (as mapping.memory counts them)."""
    layer = workload.layers[name]
    inputs = sum(workload.stored_elements(source) for source in layer.inputs)
    return (inputs * device.output_bits / 8,
            math.prod(workload.shapes[name]) * device.output_bits / 8)


def _streamed_operands(ctx: PlanContext, name: str, weight_bytes: float) -> tuple[float, bool]:
    """(share of the layer's input held in DRAM, whether its weights stream from DRAM)
    under the residency planning settled on (none yet: everything fits)."""
    if ctx.held is None:
        return 0.0, False
    layer = ctx.wl.layers[name]
    (source,) = layer.inputs
    tensor = ctx.wl.stored_elements(source) * ctx.dev.output_bits / 8
    share = ctx.held.dram_bytes[source] / tensor if tensor else 0.0
    return min(1.0, share), weight_bytes > ctx.held.free_bytes[name]
