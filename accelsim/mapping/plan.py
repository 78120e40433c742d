"""Per-layer plans: what one output vector of a layer costs in time and in counted actions.

A plan is the single source of truth for both timing (stages and their per-vector occupancy)
and energy (action counts per vector), so the engine and the ledger cannot disagree.
A layer whose tiles exceed the chip is split into parts that run one after another, with the
crossbars reprogrammed in between and partial sums kept in the global buffer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from accelsim.energy.table import (N_ACTIONS, Action, Operand, buffer_read, buffer_write,
                                   dram_read, dram_write)
from accelsim.errors import MappingError
from accelsim.mapping.crossbar import CrossbarTiling, tile_layer
from accelsim.mapping.systolic import Folds, fold_schedule
from accelsim.spec.device import DeviceSpec
from accelsim.workload.graph import Workload
from accelsim.workload.layers import (Activation, Affine, Conv2d, Elementwise, GenericOp,
                                      GlobalAvgPool, Input, LayerNorm, Linear, MatMul, Pool2d,
                                      Reshape, Softmax)

# Resources shared by all layers; each CIM part also gets its own array resource.
BUFFER, BUS, DRAM, DIGITAL, SYSTOLIC = ("global_buffer", "interconnect", "dram", "digital",
                                        "systolic")
BUFFER_WRITE_PORT = "global_buffer:write"   # the write ports of a dual-ported global buffer

# Digital operations per element for each activation function. relu is one compare; the
# smooth functions are taken as piecewise-linear approximations (2 multiplies, 2 adds; assumed).
ACTIVATION_OPS: dict[str, dict[Action, int]] = {
    "relu": {Action.DIGITAL_COMPARE: 1},
    "relu6": {Action.DIGITAL_COMPARE: 2},
    "hardswish": {Action.DIGITAL_COMPARE: 2, Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 1},
    "sigmoid": {Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
    "tanh": {Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
    "gelu": {Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
    "erf": {Action.DIGITAL_MUL: 2, Action.DIGITAL_ADD: 2},
    # max (1 compare), exp (2 multiplies, 2 adds), sum (1 add), normalize (1 multiply)
    "softmax": {Action.DIGITAL_COMPARE: 1, Action.DIGITAL_MUL: 3, Action.DIGITAL_ADD: 3},
}
# Layer norm per element: sum and sum of squares (2 adds, 1 multiply), subtract the mean
# (1 add), normalize (1 multiply), gamma and beta (1 multiply, 1 add); per group: the mean,
# variance and reciprocal square root (4 multiplies; a lookup plus one Newton step; assumed).
LAYER_NORM_OPS = {Action.DIGITAL_ADD: 4, Action.DIGITAL_MUL: 3}
LAYER_NORM_GROUP_OPS = {Action.DIGITAL_MUL: 4}
_DIGITAL_ACTIONS = (Action.DIGITAL_ADD, Action.DIGITAL_MUL, Action.DIGITAL_COMPARE)


@dataclass(frozen=True)
class Stage:
    """One pipeline stage of a step: ``occupancy`` cycles per vector on ``resource``.

    ``latency`` cycles pass after the resource is released and before the stage is done
    (wire and pipeline delay that does not block the resource).
    """

    kind: str
    resource: str
    occupancy: int
    latency: int = 0


@dataclass(frozen=True)
class Need:
    """Which producer vector a consumer vector needs: same index, a conv window, or all."""

    rule: str                      # "same" | "window" | "all"
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    out_width: int = 1
    in_height: int = 1
    in_width: int = 1

    def last_needed(self, last_vector: np.ndarray, producer_vectors: int) -> np.ndarray:
        """Index of the last producer vector each consumer vector (array) depends on."""
        if self.rule == "all":
            return np.full_like(last_vector, producer_vectors - 1)
        if self.rule == "same":
            return np.minimum(last_vector, producer_vectors - 1)
        out_row = last_vector // self.out_width
        in_row = out_row * self.stride - self.padding + (self.kernel - 1) * self.dilation
        in_row = np.clip(in_row, 0, self.in_height - 1)
        return np.minimum((in_row + 1) * self.in_width - 1, producer_vectors - 1)


@dataclass(frozen=True)
class Staging:
    """A crossbar part's inputs in the tile buffers, per output vector: the fraction of the
    window inputs fetched from the global buffer (1: no reuse), tile-buffer words read, cycles
    the busiest buffer's banks are busy, and how many buffers the part uses."""

    fetched: float
    reads: float
    occupancy: int
    buffers: int


@dataclass(frozen=True)
class Programming:
    """Writing one part's weights: DRAM read, bus transfer, then rows written into the tiles."""

    stages: tuple[Stage, ...]
    counts: np.ndarray


@dataclass(frozen=True)
class PartPlan:
    """The schedulable unit: a whole layer, or one part of a layer larger than the chip."""

    layer: str
    part: int
    unit: str                      # "cim" | "systolic" | "digital" | "dram" | "view"
    vectors: int                   # output vectors per image
    stages: tuple[Stage, ...]      # occupancy per vector (ignored where ``folds`` is given)
    counts: np.ndarray             # actions per image
    needs: tuple[tuple[str, Need], ...]   # (producer layer, rule), one per input
    tiles: int = 0
    tile_cycles: np.ndarray | None = None  # per tile, per vector (reference mode)
    programming: Programming | None = None  # writing CIM weights (unless preloaded)
    carries_from_previous_part: bool = False
    folds: np.ndarray | None = None         # systolic: [fold, stage] occupancy per image
    weight_load: Programming | None = None  # systolic: weights from DRAM, once per batch
    tile_indices: np.ndarray | None = None  # cim: which of the layer's tiles this part holds
    # Value mode (measured from data): MVM cycles per tile and vector of the whole batch,
    # and action counts for the whole batch, replacing the dense per-image ones.
    measured_tile_cycles: np.ndarray | None = None
    batch_counts: np.ndarray | None = None
    staging: Staging | None = None          # cim with tile buffers: how inputs are staged
    # Images one pass of the part covers: 1 (counts and stages per image; the lowering runs
    # one pass per image) or the whole batch (a systolic layer runs one GEMM with the batch
    # merged into M; its counts and folds cover every image).
    images: int = 1

    @property
    def compute_cycles(self) -> int:
        """Cycles its compute unit is busy (crossbar MVMs or systolic folds) in one pass,
        which covers ``images`` images."""
        for index, stage in enumerate(self.stages):
            if stage.kind in ("mvm", "compute"):
                return int(self.folds[:, index].sum() if self.folds is not None
                           else stage.occupancy * self.vectors)
        return 0


@dataclass(frozen=True)
class LayerPlan:
    name: str
    kind: str
    unit: str
    macs: int
    parts: tuple[PartPlan, ...]
    tiling: CrossbarTiling | None = None
    parameters: dict = field(default_factory=dict)
    reason: str = ""               # why the layer runs on its unit


def plan_workload(workload: Workload, device: DeviceSpec, *, policy: str = "rules",
                  assign: dict[str, str] | None = None, batch: int = 1) -> list[LayerPlan]:
    """Plans for every layer in topological order, plus a final DRAM store of the outputs.

    ``policy`` and ``assign`` choose the unit of each weighted layer (see mapping.policy).
    ``batch``: systolic layers merge the batch into their GEMM's M (see _Planner.systolic).
    """
    from accelsim.mapping.policy import assign_units

    from accelsim.mapping.memory import residency, with_spills
    from accelsim.mapping.noc import with_mesh

    planner = _Planner(workload, device, batch)
    units = assign_units(planner, policy=policy, assign=assign or {})
    batched = {name for name, (unit, _) in units.items() if unit == "systolic"}
    planner.settle(residency(workload, device, batch=batch, batched=batched))
    plans = [planner.plan(name, *units.get(name, ("", ""))) for name in workload.order]
    sinks = [n for n in workload.order if workload.graph.out_degree(n) == 0]
    for sink in sinks:
        name = "output" if len(sinks) == 1 else f"output:{sink}"
        while name in workload.layers:          # a layer may itself be called "output"
            name += " (store)"
        plans.append(planner.store(sink, name))
    return with_mesh(with_spills(plans, workload, device, planner.held), device)


class _Planner:
    def __init__(self, workload: Workload, device: DeviceSpec, batch: int = 1):
        self.wl, self.dev, self.batch = workload, device, batch
        self.in_bits = device.activation_bits
        self.out_bits = device.output_bits
        self._weighted: dict[tuple[str, str], LayerPlan] = {}
        self.held = None        # where activations live (memory.Residency), once units are known

    def settle(self, held) -> None:
        """Plan from now on with the activations' residency ``held``: the network's input and
        outputs move only what the buffer holds, and systolic layers stream what does not fit
        (plans built before, for the mapping policy's estimates, are dropped)."""
        self.held = held
        self._weighted = {key: plan for key, plan in self._weighted.items()
                          if key[1] != "systolic"}

    def weighted(self, name: str, unit: str) -> LayerPlan:
        """The plan of a conv/linear layer on ``unit``, built once (policies that compare
        both units and the final plan share it)."""
        key = (name, unit)
        if key not in self._weighted:
            build = self.systolic if unit == "systolic" else self.crossbar
            self._weighted[key] = build(name)
        return self._weighted[key]

    # -- helpers -------------------------------------------------------------------------
    def words(self, elements, bits: int):
        """Whole buffer words for ``elements`` values of ``bits`` (residues pay a full word)."""
        return -(-np.asarray(elements, dtype=np.int64) * bits // self.dev.global_buffer.word_bits)

    def flits(self, elements, bits: int) -> int:
        """Bus cycles to send each of ``elements`` (int or array) values of ``bits`` as its own
        packet of whole ``width_bits`` flits."""
        width = self.dev.interconnect.width_bits
        return int(np.sum(-(-np.asarray(elements, dtype=np.int64) * bits // width)))

    def buffer_resource(self, kind: str) -> str:
        """Writes use their own ports when the global buffer has two."""
        two = self.dev.global_buffer.ports == 2
        return BUFFER_WRITE_PORT if two and kind == "buffer_write" else BUFFER

    def buffer_stage(self, kind: str, words: float) -> Stage:
        return Stage(kind, self.buffer_resource(kind),
                     math.ceil(words / self.dev.global_buffer.banks))

    def digital_stage(self, counts: np.ndarray) -> Stage:
        ops = int(sum(counts[a] for a in _DIGITAL_ACTIONS))
        return Stage("digital", DIGITAL, math.ceil(ops / self.dev.digital.lanes))

    def activation_counts(self, counts: np.ndarray, function: str | None, elements: int) -> None:
        for action, per_element in ACTIVATION_OPS.get(function or "", {}).items():
            counts[action] += per_element * elements

    def dram_stage(self, kind: str, bits: float, counts: np.ndarray, operand: Operand) -> Stage:
        """A DRAM transfer of ``bits`` of ``operand`` in whole bursts, its bits and rows opened
        added to ``counts``."""
        moved = count_dram(counts, self.dev, read=kind == "dram_read", bits=bits,
                           operand=operand)
        occupancy = math.ceil(moved / 8 / self.dev.dram_bytes_per_cycle)
        return Stage(kind, DRAM, occupancy, self.dev.cycles(self.dev.dram.latency_ns))

    def needs(self, name: str) -> tuple[tuple[str, Need], ...]:
        layer, shape = self.wl.layers[name], self.wl.shapes[name]
        result = []
        for source in layer.inputs:
            c, h, w = self.wl.shapes[source]
            if isinstance(layer, (Conv2d, Pool2d)):
                dilation = layer.dilation[0] if isinstance(layer, Conv2d) else 1
                need = Need("window", layer.kernel[0], layer.stride[0], layer.padding[0],
                            dilation, out_width=shape[2], in_height=h, in_width=w)
            elif isinstance(layer, (Linear, Elementwise, Activation, Affine, LayerNorm, Softmax)):
                need = Need("same")
            elif isinstance(layer, MatMul):
                need = Need("same" if source == layer.inputs[0] else "all")
            else:
                need = Need("all")
            result.append((source, need))
        return tuple(result)

    # -- layers --------------------------------------------------------------------------
    def plan(self, name: str, unit: str = "", reason: str = "") -> LayerPlan:
        layer = self.wl.layers[name]
        if isinstance(layer, (Conv2d, Linear)):
            return replace(self.weighted(name, unit or "cim"), reason=reason)
        if isinstance(layer, Input):
            return self.load(name)
        if layer.aliases_input:
            part = PartPlan(name, 0, "view", 1, (), np.zeros(N_ACTIONS), self.needs(name))
            return LayerPlan(name, layer.kind, "view", 0, (part,), parameters=layer.params())
        if isinstance(layer, (Pool2d, GlobalAvgPool, Elementwise, Activation, MatMul, Reshape,
                              Affine, LayerNorm, Softmax, GenericOp)):
            return self.digital(name)
        raise MappingError(f"layer '{name}': no unit of device '{self.dev.name}' can run a "
                           f"{layer.kind} layer")

    def load(self, name: str) -> LayerPlan:
        """The network's input from DRAM into the buffer, as far as it fits there (the rest
        stays in DRAM, where its consumers read it)."""
        c, h, w = self.wl.shapes[name]
        kept = 1.0 - (self.held.fraction[name] if self.held else 0.0)
        counts = np.zeros(N_ACTIONS)
        dram = self.dram_stage("dram_read", kept * c * h * w * self.in_bits, counts,
                               Operand.INPUTS)
        words = kept * h * w * int(self.words(c, self.in_bits))
        counts[buffer_write(Operand.INPUTS)] = words
        part = PartPlan(name, 0, "dram", 1, (dram, self.buffer_stage("buffer_write", words)),
                        counts, ())
        return LayerPlan(name, "input", "dram", 0, (part,))

    def store(self, sink: str, name: str) -> LayerPlan:
        """A network output from the buffer to DRAM: the part held in the buffer (what did
        not fit went to DRAM as the layer produced it)."""
        c, h, w = self.wl.shapes[sink]
        kept = 1.0 - (self.held.fraction[sink] if self.held else 0.0)
        counts = np.zeros(N_ACTIONS)
        words = kept * h * w * int(self.words(c, self.out_bits))
        counts[buffer_read(Operand.OUTPUTS)] = words
        dram = self.dram_stage("dram_write", kept * c * h * w * self.out_bits, counts,
                               Operand.OUTPUTS)
        part = PartPlan(name, 0, "dram", 1, (self.buffer_stage("buffer_read", words), dram),
                        counts, ((sink, Need("all")),))
        return LayerPlan(name, "output", "dram", 0, (part,))

    def digital(self, name: str) -> LayerPlan:
        """A layer on the digital unit, per output vector: buffer reads, operations, writes."""
        layer = self.wl.layers[name]
        in_shapes = self.wl.input_shapes(name)
        c, h, w = self.wl.shapes[name]
        counts = np.zeros(N_ACTIONS)
        read = int(self.words(c, self.in_bits))
        vectors = h * w
        constant_reads = 0
        if isinstance(layer, Elementwise):
            reads = read * len(in_shapes)
            op = Action.DIGITAL_ADD if layer.function == "add" else Action.DIGITAL_MUL
            counts[op] = c * (len(in_shapes) - 1)
            self.activation_counts(counts, layer.activation, c)
        elif isinstance(layer, Activation):
            reads = read
            self.activation_counts(counts, layer.function, c)
        elif isinstance(layer, Softmax):
            reads = read
            self.activation_counts(counts, "softmax", c)
        elif isinstance(layer, Affine):
            # Scalar and per-channel constants stay in the unit; per-element ones are read.
            reads = read
            constant_reads = read * ((layer.scale == "full") + (layer.shift == "full"))
            counts[Action.DIGITAL_MUL] = c * (layer.scale != "none")
            counts[Action.DIGITAL_ADD] = c * (layer.shift != "none")
            self.activation_counts(counts, layer.activation, c)
        elif isinstance(layer, LayerNorm):
            reads = read
            for action, n in LAYER_NORM_OPS.items():
                counts[action] += n * c
            for action, n in LAYER_NORM_GROUP_OPS.items():
                counts[action] += n * layer.groups
        elif isinstance(layer, MatMul):
            # Each output vector reads its row of the first operand and streams the whole
            # second operand from the buffer (the unit keeps no operand between vectors).
            m, k, n = layer.dims(in_shapes)
            reads = (int(self.words(layer.heads * k, self.in_bits))
                     + layer.heads * int(self.words(k * n, self.in_bits)))
            counts[Action.DIGITAL_MUL] = layer.heads * k * n
            counts[Action.DIGITAL_ADD] = layer.heads * k * n
        elif isinstance(layer, Reshape):
            # A real permutation: every element is read and written once.
            reads = read
        elif isinstance(layer, GenericOp):
            inputs = sum(math.prod(shape) for shape in in_shapes)
            reads = -(-int(self.words(inputs, self.in_bits)) // vectors)
            counts[Action.DIGITAL_ADD] = c * layer.ops_per_element
        else:
            window = (layer.kernel[0] * layer.kernel[1] if isinstance(layer, Pool2d)
                      else in_shapes[0][1] * in_shapes[0][2])
            reads = read * window
            if isinstance(layer, Pool2d) and layer.function == "max":
                counts[Action.DIGITAL_COMPARE] = c * (window - 1)
            else:
                counts[Action.DIGITAL_ADD] = c * (window - 1)
                counts[Action.DIGITAL_MUL] = c
        writes = int(self.words(c, self.out_bits))
        counts[buffer_read(Operand.INPUTS)] = reads
        counts[buffer_read(Operand.WEIGHTS)] = constant_reads
        counts[buffer_write(Operand.OUTPUTS)] = writes
        stages = (self.buffer_stage("buffer_read", reads + constant_reads),
                  self.digital_stage(counts),
                  self.buffer_stage("buffer_write", writes))
        part = PartPlan(name, 0, "digital", vectors, stages, counts * vectors, self.needs(name))
        return LayerPlan(name, layer.kind, "digital", self.wl.layer_macs(name), (part,),
                         parameters=layer.params())

    def crossbar(self, name: str) -> LayerPlan:
        layer = self.wl.layers[name]
        cim = self.dev.cim
        if cim is None:
            raise MappingError(f"layer '{name}': device '{self.dev.name}' has no CIM tiles")
        k, n, groups = layer.matrix(self.wl.input_shapes(name))
        tiling = tile_layer(k, n, groups, rows=cim.rows, cols=cim.cols,
                            cells_per_weight=cim.cells_per_weight)
        parts = tuple(self.crossbar_part(name, layer, tiling, index, tiles)
                      for index, tiles in enumerate(_split(tiling, cim.tiles)))
        return LayerPlan(name, layer.kind, "cim", self.wl.layer_macs(name), parts, tiling,
                         parameters=layer.params())

    def crossbar_part(self, name, layer, tiling: CrossbarTiling, index: int,
                      tiles: np.ndarray) -> PartPlan:
        """Plan the tiles ``tiles`` (indices into the layer's tiling) as one schedulable part."""
        cim, dev = self.dev.cim, self.dev
        rows_used, cols_used = tiling.rows_used[tiles], tiling.cols_used[tiles]
        counts = np.zeros(N_ACTIONS)
        cycles_in = cim.input_cycles
        counts[Action.DAC_CONVERT] = rows_used.sum() * cycles_in
        counts[Action.ARRAY_READ] = rows_used.sum() * cycles_in
        counts[Action.ADC_CONVERT] = cols_used.sum() * cycles_in
        counts[Action.SHIFT_ADD] = cols_used.sum() * cycles_in
        in_slices, out_slices, depth = _slices(tiling, tiles)
        # With tile buffers, a fraction `fetched` of the window inputs leaves the global
        # buffer (1 when the layer reuses nothing or its window does not fit).
        staging = self.staging(name, layer, tiling, tiles)
        fetched = staging.fetched if staging is not None else 1.0
        in_words = int(self.words(in_slices, self.in_bits).sum())
        # Partial sums of row tiles are added by adder trees beside the tiles; a part that
        # holds only some row tiles of a column writes its sums to the buffer for the next part.
        counts[Action.ACCUMULATE] = float(np.sum(out_slices * (depth["rows"] - 1)))
        first, last = depth["first"], depth["last"]
        carried_in = out_slices[~first]
        carried_out = out_slices[~last]
        psum_read = int(self.words(carried_in, cim.psum_bits).sum())
        psum_write = int(self.words(carried_out, cim.psum_bits).sum())
        counts[Action.ACCUMULATE] += carried_in.sum()
        final = out_slices[last]
        out_words = int(self.words(final.sum(), self.out_bits)) if final.size else 0
        self.activation_counts(counts, layer.activation, int(final.sum()))
        counts[buffer_read(Operand.INPUTS)] = fetched * in_words
        counts[buffer_read(Operand.PSUMS)] = psum_read
        counts[buffer_write(Operand.OUTPUTS)] = out_words
        counts[buffer_write(Operand.PSUMS)] = psum_write
        if staging is not None:
            counts[Action.TILE_BUFFER_READ] = staging.reads
            counts[Action.TILE_BUFFER_WRITE] = fetched * staging.reads
        bus = dev.interconnect
        counts[Action.BUS_BIT] = (fetched * in_slices.sum() * self.in_bits
                                  + final.sum() * self.out_bits
                                  + (carried_in.sum() + carried_out.sum()) * cim.psum_bits)
        tile_cycles = cycles_in * cim.cycles_per_input_cycle(cols_used)
        flits_in = (math.ceil(fetched * self.flits(in_slices, self.in_bits))
                    + self.flits(carried_in, cim.psum_bits))
        flits_out = self.flits(final, self.out_bits) + self.flits(carried_out, cim.psum_bits)
        tree = math.ceil(math.log2(int(depth["rows"].max()))) if depth["rows"].max() > 1 else 0
        resource = f"array:{name}#{index}"
        local = ((Stage("tile_buffer", f"tile_buffer:{name}#{index}", staging.occupancy),)
                 if staging is not None else ())
        stages = (
            self.buffer_stage("buffer_read", math.ceil(fetched * in_words) + psum_read),
            Stage("bus_in", BUS, flits_in, bus.latency_cycles),
            *local,
            Stage("mvm", resource, int(tile_cycles.max())),
            Stage("bus_out", BUS, flits_out, bus.latency_cycles + tree),
            self.digital_stage(counts),
            self.buffer_stage("buffer_write", out_words + psum_write),
        )
        _, h, w = self.wl.shapes[name]
        return PartPlan(name, index, "cim", h * w, stages, counts * (h * w), self.needs(name),
                        tiles=int(tiles.size), tile_cycles=tile_cycles, tile_indices=tiles,
                        programming=self.programming(layer, tiling, tiles, resource),
                        carries_from_previous_part=bool(carried_in.size),
                        staging=staging)

    def staging(self, name: str, layer, tiling: CrossbarTiling,
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
        buffer = self.dev.tile_buffer
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
        words = -(-slices * self.in_bits // buffer.word_bits)
        per_buffer_words = np.bincount(pairs[0], weights=words)
        per_buffer_inputs = np.bincount(pairs[0], weights=slices)
        fetched = 1.0
        if isinstance(layer, Conv2d):
            _, h_in, w_in = self.wl.input_shapes(name)[0]
            _, h_out, w_out = self.wl.shapes[name]
            kh, kw = layer.kernel
            window_rows = (kh - 1) * layer.dilation[0] + 1
            need = per_buffer_inputs.max() / (kh * kw) * window_rows * w_in * self.in_bits / 8
            if need <= buffer.size_bytes:
                fetched = min(1.0, h_in * w_in / (kh * kw * h_out * w_out))
        # One port per bank, shared by the writes that fill a buffer and the reads from it.
        occupancy = math.ceil(per_buffer_words.max() * (1 + fetched) / buffer.banks)
        return Staging(fetched, float(per_buffer_words.sum()), occupancy, int(owner.max()) + 1)

    def systolic(self, name: str) -> LayerPlan:
        """A weighted layer on the systolic array: one step per fold (see mapping.systolic).

        The batch is merged into the GEMM: the array multiplies M = batch x positions input
        vectors by the weights in one pass, so each fold's weights serve every image (as
        SCALE-Sim and a TPU-style batch do). The layer then starts once every image's inputs
        are ready, and its counts and folds cover the whole batch.

        Operands that do not fit the global buffer stream from DRAM fold by fold: the share
        of the input held in DRAM (see mapping.memory) is read from there by every fold that
        reads inputs (the input elements under the fold's part of the lowered input matrix:
        a conv window's overlap is expanded on chip), and weights that do not fit beside the
        activations are not staged but read from DRAM by every fold that uses them. Each fold
        then waits for its DRAM transfer (a stage of its own on the DRAM channels), which
        shows in cycles.
        """
        layer, dev = self.wl.layers[name], self.dev
        array, bus = dev.systolic, dev.interconnect
        if array is None:
            raise MappingError(f"layer '{name}': device '{dev.name}' has no systolic array")
        k, n, groups = layer.matrix(self.wl.input_shapes(name))
        _, h, w = self.wl.shapes[name]
        one = fold_schedule(self.batch * h * w, n, k, rows=array.rows, cols=array.cols,
                            dataflow=array.dataflow)
        folds = Folds(*(np.tile(getattr(one, f), groups) for f in one.__dataclass_fields__))
        bits, acc = array.operand_bits, array.accumulator_bits
        weight_bits = k * n * groups * bits
        in_dram, streamed = self.streamed_operands(name, weight_bits / 8)
        # A fold's DRAM inputs are the input tensor elements under its share of the lowered
        # (im2col) input matrix: the window's overlap is expanded on chip, not fetched again.
        lowered = k * groups * self.batch * h * w
        unique = min(1.0, self.batch * math.prod(self.wl.shapes[layer.inputs[0]]) / lowered)
        inputs_from_dram = np.rint(in_dram * unique * folds.input_reads).astype(np.int64)
        weights_from_dram = folds.weight_reads if streamed else np.zeros_like(folds.weight_reads)
        words = self.words
        input_words = words(folds.input_reads - inputs_from_dram, bits)
        weight_words = words(folds.weight_reads - weights_from_dram, bits)
        psum_words = words(folds.psum_reads, acc)
        read_words = input_words + weight_words + psum_words
        psum_write_words = words(folds.psum_writes, acc)
        output_words = words(folds.output_writes, bits)
        write_words = psum_write_words + output_words
        bits_in = (folds.input_reads + folds.weight_reads) * bits + folds.psum_reads * acc
        bits_out = folds.psum_writes * acc + folds.output_writes * bits
        counts = np.zeros(N_ACTIONS)
        counts[Action.PE_MAC] = folds.macs.sum()
        counts[Action.RF_ACCESS] = folds.macs.sum() + folds.stationary.sum()
        counts[Action.PE_HOP] = 2 * folds.macs.sum()
        counts[buffer_read(Operand.INPUTS)] = input_words.sum()
        counts[buffer_read(Operand.WEIGHTS)] = weight_words.sum()
        counts[buffer_read(Operand.PSUMS)] = psum_words.sum()
        counts[buffer_write(Operand.PSUMS)] = psum_write_words.sum()
        counts[buffer_write(Operand.OUTPUTS)] = output_words.sum()
        counts[Action.BUS_BIT] = bits_in.sum() + bits_out.sum()
        activation = np.zeros(N_ACTIONS)
        self.activation_counts(activation, layer.activation, 1)
        counts += activation * folds.output_writes.sum()
        digital_ops = int(sum(activation[a] for a in _DIGITAL_ACTIONS))
        banks, width = dev.global_buffer.banks, bus.width_bits
        columns = [-(-read_words // banks), -(-bits_in // width), folds.cycles,
                   -(-bits_out // width),
                   -(-folds.output_writes * digital_ops // dev.digital.lanes),
                   -(-write_words // banks)]
        stages = [Stage("buffer_read", BUFFER, 0), Stage("bus_in", BUS, 0, bus.latency_cycles),
                  Stage("compute", SYSTOLIC, 0), Stage("bus_out", BUS, 0, bus.latency_cycles),
                  Stage("digital", DIGITAL, 0),
                  Stage("buffer_write", self.buffer_resource("buffer_write"), 0)]
        if inputs_from_dram.any() or weights_from_dram.any():
            # Each fold's DRAM operands as one sequential transfer per operand.
            fetch = np.zeros(folds.count, dtype=np.int64)
            for operand, elements in ((Operand.INPUTS, inputs_from_dram),
                                      (Operand.WEIGHTS, weights_from_dram)):
                fetch += count_dram_per_transfer(counts, dev, elements * bits, operand)
            columns.insert(0, np.ceil(fetch / 8 / dev.dram_bytes_per_cycle).astype(np.int64))
            stages.insert(0, Stage("operand_read", DRAM, 0, dev.cycles(dev.dram.latency_ns)))
        part = PartPlan(name, 0, "systolic", h * w, tuple(stages), counts,
                        tuple((source, Need("all")) for source in layer.inputs),
                        folds=np.stack(columns, axis=1),
                        weight_load=None if streamed else self.weight_load(weight_bits),
                        images=self.batch)
        return LayerPlan(name, layer.kind, "systolic", self.wl.layer_macs(name), (part,),
                         parameters=layer.params())

    def streamed_operands(self, name: str, weight_bytes: float) -> tuple[float, bool]:
        """(share of the layer's input held in DRAM, whether its weights stream from DRAM)
        under the residency the planner settled on (none yet: everything fits)."""
        if self.held is None:
            return 0.0, False
        layer = self.wl.layers[name]
        (source,) = layer.inputs
        tensor = math.prod(self.wl.shapes[source]) * self.dev.output_bits / 8
        share = self.held.dram_bytes[source] / tensor if tensor else 0.0
        return min(1.0, share), weight_bytes > self.held.free_bytes[name]

    def weight_load(self, bits: int) -> Programming:
        """Weights from DRAM over the bus into the global buffer, for a systolic layer."""
        dev = self.dev
        counts = np.zeros(N_ACTIONS)
        dram = self.dram_stage("dram_read", bits, counts, Operand.WEIGHTS)
        words = math.ceil(bits / dev.global_buffer.word_bits)
        counts[Action.BUS_BIT] = bits
        counts[buffer_write(Operand.WEIGHTS)] = words
        bus = dev.interconnect
        return Programming((dram, Stage("bus_in", BUS, math.ceil(bits / bus.width_bits),
                                        bus.latency_cycles),
                            self.buffer_stage("buffer_write", words)), counts)

    def programming(self, layer, tiling: CrossbarTiling, tiles: np.ndarray,
                    resource: str) -> Programming:
        cim, dev = self.dev.cim, self.dev
        weight_bits = int(tiling.weights[tiles].sum()) * cim.weight_bits
        counts = np.zeros(N_ACTIONS)
        dram = self.dram_stage("dram_read", weight_bits, counts, Operand.WEIGHTS)
        counts[Action.BUS_BIT] = weight_bits
        counts[Action.CELL_WRITE] = np.sum(tiling.rows_used[tiles] * tiling.cols_used[tiles])
        bus = dev.interconnect
        stages = (dram, Stage("bus_in", BUS, math.ceil(weight_bits / bus.width_bits),
                              bus.latency_cycles),
                  Stage("program", resource,
                        int(tiling.rows_used[tiles].max()) * cim.write_cycles_per_row))
        return Programming(stages, counts)


def count_dram(counts: np.ndarray, device: DeviceSpec, *, read: bool, bits: float,
               operand: Operand) -> int:
    """Add one sequential DRAM transfer of ``bits`` of ``operand`` to ``counts``: the bits of
    its whole bursts and the rows it opens. Returns the bits moved."""
    moved = device.dram.burst_bits(bits)
    counts[dram_read(operand) if read else dram_write(operand)] += moved
    counts[Action.DRAM_ACTIVATE] += device.dram.activations(bits)
    return moved


def count_dram_per_transfer(counts: np.ndarray, device: DeviceSpec, bits: np.ndarray,
                            operand: Operand) -> np.ndarray:
    """Add many sequential DRAM reads (``bits`` each, an array) of ``operand`` to ``counts``,
    as count_dram does for one. Returns the bits each moves (whole bursts)."""
    dram = device.dram
    burst = dram.burst_bytes * 8
    moved = -(-np.asarray(bits, dtype=np.int64) // burst) * burst
    counts[dram_read(operand)] += moved.sum()
    if dram.row_bytes is not None:
        step = 8 * (dram.burst_bytes if dram.page_policy == "closed" else dram.row_bytes)
        counts[Action.DRAM_ACTIVATE] += (-(-moved // step)).sum()
    return moved


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
