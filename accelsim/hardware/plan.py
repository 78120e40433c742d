"""The vocabulary of plans, shared by the hardware units that make them and the mapping
pipeline that places and lowers them: resources, stages, dependency rules, part and layer
plans.

A plan is the single source of truth for both timing (stages and their occupancy per vector
or per fold) and energy (action counts), so the engine and the ledger cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple

import numpy as np

from accelsim.workload.ops import Need, NeedRule

__all__ = ["BUFFER", "BUFFER_WRITE_PORT", "BUS", "DIGITAL", "DRAM", "SYSTOLIC", "CrossbarPart",
           "InputStream", "LayerPlan", "Measured", "Need", "NeedRule", "PartPlan", "Programming",
           "Resource", "ResourceKind", "Stage", "StageKind", "Staging", "SystolicPart",
           "UnitKind", "copied"]


class UnitKind(StrEnum):
    """What runs a layer part (the values compare equal to the strings reports show)."""

    CIM = "cim"              # analog crossbar tiles
    SYSTOLIC = "systolic"    # a digital PE array
    DIGITAL = "digital"      # the digital vector unit
    DRAM = "dram"            # a transfer between DRAM and the buffer (input load, output store)
    VIEW = "view"            # a layer that moves no data (flatten, concat, ...)


class ResourceKind(StrEnum):
    """Kinds of resources tasks hold; a resource is a kind and a key (see Resource)."""

    GLOBAL_BUFFER = "global_buffer"
    BUFFER_WRITE_PORT = "global_buffer:write"   # the write ports of a dual-ported buffer
    INTERCONNECT = "interconnect"
    DRAM = "dram"                               # key: the channel, or "" for one channel
    DIGITAL = "digital"
    SYSTOLIC = "systolic"
    ARRAY = "array"                             # key: "layer#part" (fast mode: a part's tiles)
    TILE = "tile"                               # key: the physical tile (reference mode)
    TILE_BUFFER = "tile_buffer"                 # key: "layer#part"
    LINK = "link"                               # key: "x,y->u,v" (a mesh link)


class Resource(NamedTuple):
    """A resource: its kind (a ResourceKind, or a unit's own name for a resource of its own)
    and, for kinds with many, which one."""

    kind: str
    key: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}" if self.key != "" else str(self.kind)


# The resources every layer shares.
BUFFER = Resource(ResourceKind.GLOBAL_BUFFER)
BUFFER_WRITE_PORT = Resource(ResourceKind.BUFFER_WRITE_PORT)
BUS = Resource(ResourceKind.INTERCONNECT)
DRAM = Resource(ResourceKind.DRAM)
DIGITAL = Resource(ResourceKind.DIGITAL)
SYSTOLIC = Resource(ResourceKind.SYSTOLIC)


class StageKind(StrEnum):
    """What a stage of a step does (shown in traces)."""

    BUFFER_READ = "buffer_read"
    BUFFER_WRITE = "buffer_write"
    BUS_IN = "bus_in"
    BUS_OUT = "bus_out"
    NOC_IN = "noc_in"
    NOC_OUT = "noc_out"
    TILE_BUFFER = "tile_buffer"
    MVM = "mvm"
    COMPUTE = "compute"
    DIGITAL = "digital"
    DRAM_READ = "dram_read"
    DRAM_WRITE = "dram_write"
    SPILL_READ = "spill_read"
    SPILL_WRITE = "spill_write"
    OPERAND_READ = "operand_read"
    PROGRAM = "program"


@dataclass(frozen=True)
class Stage:
    """One pipeline stage of a step: ``occupancy`` cycles per vector on ``resource``.

    ``latency`` cycles pass after the resource is released and before the stage is done
    (wire and pipeline delay that does not block the resource).
    """

    kind: StageKind
    resource: Resource
    occupancy: int
    latency: int = 0
    # Cycles over all the part's vectors of one pass, where ``occupancy`` rounds a fraction
    # of a cycle per vector up (a DRAM transfer of a few bytes per vector): steps then share
    # ``total`` in whole cycles, so they add up to it (mapping.tasks.make_block).
    total: int | None = None

    def cycles(self, vectors: int) -> int:
        """Cycles of the stage over ``vectors`` vectors (all of a pass's)."""
        return self.total if self.total is not None else self.occupancy * vectors

    def spread(self, total: int, vectors: int) -> Stage:
        """This stage taking ``total`` cycles over a pass of ``vectors`` vectors: each
        vector's share rounded up to whole cycles, and the steps sharing ``total`` in whole
        cycles (``total`` is kept only where that differs from the rounded-up shares)."""
        occupancy = -(-total // max(vectors, 1))
        return copied(self, occupancy=occupancy,
                      total=None if occupancy * vectors == total else total)


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
    """Moving weights before a part runs: DRAM read, bus transfer, then rows written into the
    crossbar tiles."""

    stages: tuple[Stage, ...]
    counts: np.ndarray


@dataclass(frozen=True)
class Measured:
    """What value mode measured on a part (replacing its dense, data-blind figures): action
    counts for the whole batch and, for crossbars, MVM cycles per kept tile and vector, kept
    factored: a tile's cycles are its row block's input cycles run (the same for the block's
    tiles) times its own cycles per input cycle."""

    batch_counts: np.ndarray
    block_cycles: np.ndarray | None = None   # [row blocks, vectors]: input cycles run
    tile_block: np.ndarray | None = None     # [kept tiles]: its row block
    tile_scale: np.ndarray | None = None     # [kept tiles]: cycles per input cycle

    @property
    def tiles(self) -> int:
        return 0 if self.tile_block is None else int(self.tile_block.size)

    @cached_property
    def tile_cycles(self) -> np.ndarray | None:
        """[kept tiles, vectors]: each tile's MVM cycles (reference mode schedules each)."""
        if self.block_cycles is None:
            return None
        return (self.block_cycles[self.tile_block]
                * self.tile_scale[:, None]).astype(np.int64)

    def slowest(self) -> np.ndarray:
        """Per vector, the MVM cycles of its slowest kept tile (0 without tiles), without the
        [kept tiles, vectors] array: the slowest tile of a block is the one of most cycles
        per input cycle."""
        vectors = self.block_cycles.shape[1]
        if not self.tiles:
            return np.zeros(vectors, dtype=np.int64)
        top = np.zeros(self.block_cycles.shape[0], dtype=np.int64)
        np.maximum.at(top, self.tile_block, self.tile_scale)
        used = np.unique(self.tile_block)
        return (self.block_cycles[used] * top[used][:, None]).max(axis=0).astype(np.int64)


@dataclass(frozen=True)
class PartPlan:
    """The schedulable unit: a whole layer, or one part of a layer larger than the chip.

    Counts and stages cover one pass of the part, which covers ``images`` images: 1 (the
    lowering runs one pass per image) or the whole batch (a systolic GEMM with the batch merged
    into M). Subclasses add what their unit needs.
    """

    layer: str
    part: int
    unit: UnitKind
    vectors: int                   # output vectors per image
    stages: tuple[Stage, ...]      # occupancy per vector (folds: see SystolicPart)
    counts: np.ndarray             # actions per pass
    needs: tuple[tuple[str, Need], ...]   # (producer layer, rule), one per input
    images: int = 1
    measured: Measured | None = None       # value mode's overlay

    # Part-kind hooks with neutral defaults (the lowering and the ledger read these).
    tiles = 0
    folds = None
    staging = None
    programming = None
    carries_from_previous_part = False
    inputs = None
    inputs_from = None

    @property
    def batch_counts(self) -> np.ndarray | None:
        return self.measured.batch_counts if self.measured is not None else None

    @property
    def compute_cycles(self) -> int:
        """Cycles its compute unit is busy in one pass (crossbar MVMs or systolic folds)."""
        return 0


@dataclass(frozen=True)
class InputStream:
    """A crossbar part's inputs, for a sibling that reads the same ones (mapping.siblings):
    parts of equal ``key`` receive the same input slices in the same steps (same producers
    and rules, window, slices and staging); ``words`` global-buffer words and ``bits`` bus
    bits per vector carry them."""

    key: tuple
    words: float
    bits: float


@dataclass(frozen=True)
class CrossbarPart(PartPlan):
    """A part on crossbar tiles: which of the layer's tiles it holds, their MVM cycles per
    vector, how weights are written into them, and how inputs are staged."""

    tiles: int = 0
    tile_cycles: np.ndarray | None = None  # per tile, per vector (reference mode)
    tile_indices: np.ndarray | None = None  # which of the layer's tiles this part holds
    programming: Programming | None = None  # writing the weights (unless preloaded)
    carries_from_previous_part: bool = False
    staging: Staging | None = None          # with tile buffers: how inputs are staged
    inputs: InputStream | None = None       # set when its only bus traffic in is inputs
    inputs_from: tuple[str, int] | None = None   # the sibling part whose bus transfers
    #                                          bring its inputs (mapping.siblings)

    @property
    def compute_cycles(self) -> int:
        for stage in self.stages:
            if stage.kind == StageKind.MVM:
                return int(stage.cycles(self.vectors))
        return 0


@dataclass(frozen=True)
class SystolicPart(PartPlan):
    """A part on a systolic array, run fold by fold: ``folds`` gives each fold's occupancy of
    each stage."""

    folds: np.ndarray | None = None         # [fold, stage] occupancy per pass
    # Per fold, for a pass of one image (None when a pass covers several): the output
    # vectors whose inputs it reads are those below reach, and it completes those below
    # completes (0: none). The pipeline starts a fold when its inputs have come and hands
    # on outputs as folds complete them (hardware.folds.Folds).
    reach: np.ndarray | None = None
    completes: np.ndarray | None = None

    @property
    def compute_cycles(self) -> int:
        for index, stage in enumerate(self.stages):
            if stage.kind == StageKind.COMPUTE:
                return int(self.folds[:, index].sum())
        return 0


@dataclass(frozen=True)
class LayerPlan:
    name: str
    kind: str
    unit: UnitKind
    macs: int
    parts: tuple[PartPlan, ...]
    tiling: object | None = None   # the crossbar tiling (hardware.crossbar.CrossbarTiling)
    parameters: dict = field(default_factory=dict)
    reason: str = ""               # why the layer runs on its unit
    mapping: str = ""              # a row-stationary layer's mapping (RsMapping.notation)


def copied(frozen, **changes):
    """A copy of a frozen dataclass with ``changes``: dataclasses.replace without running
    __init__ again, several times faster (its fields were checked when ``frozen`` was made;
    the caller keeps the changed fields' types)."""
    copy = object.__new__(type(frozen))
    copy.__dict__.update(frozen.__dict__, **changes)
    return copy
