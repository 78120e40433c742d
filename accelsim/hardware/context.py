"""What a unit needs to plan a layer: the workload, the device, the batch, where activations
live, and the helpers every unit shares (whole buffer words, bus flits, stages on the shared
buffer, digital unit and DRAM channels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from accelsim.arith import ceil_div
from accelsim.energy.table import Action, Operand, action_count, dram_read, dram_write
from accelsim.hardware.plan import (
    BUFFER,
    BUFFER_WRITE_PORT,
    DIGITAL,
    DRAM,
    Need,
    Resource,
    Stage,
    StageKind,
)
from accelsim.spec.device import DeviceSpec
from accelsim.workload.graph import Workload
from accelsim.workload.ops import DIGITAL_ACTIONS, activation_counts, need


@dataclass(frozen=True)
class Residency:
    """Where each layer's output lives, per image: the share in DRAM (``fraction``) and those
    bytes (``dram_bytes``; for a view, the sum over the producers it aliases), plus the buffer
    bytes left free beside each layer's working set (``free_bytes``, for staged weights).
    Worked out by mapping.memory once the units are assigned."""

    fraction: dict[str, float]
    dram_bytes: dict[str, float]
    free_bytes: dict[str, float]
    producers: dict[str, list[str]]      # the storage each layer's output aliases
    reserved: dict[str, float] = field(default_factory=dict)   # staged weights' bytes


class PlanContext:
    """Shared state and helpers of planning one workload on one device."""

    def __init__(self, workload: Workload, device: DeviceSpec, batch: int = 1,
                 merge: bool = True):
        self.wl, self.dev, self.batch = workload, device, batch
        self.merge = merge      # whether a systolic layer may merge the batch (merges_batch)
        self.in_bits = device.activation_bits
        self.out_bits = device.output_bits
        self.held: Residency | None = None      # set once the units are assigned
        self.memo: dict = {}       # units' plans by what they depend on (see Crossbars.plan)

    def room(self, name: str) -> float:
        """Buffer bytes layer ``name``'s activations, windows and slices may use: the whole
        buffer less what is kept for its staged weights (mapping.plan: _weights_to_stage)."""
        kept = self.held.reserved.get(name, 0.0) if self.held is not None else 0.0
        return self.dev.global_buffer.size_bytes - kept

    def counts(self) -> np.ndarray:
        """A zero count for every action."""
        return np.zeros(action_count())

    def words(self, elements, bits: int):
        """Whole buffer words for ``elements`` values of ``bits`` (residues pay a full word)."""
        return ceil_div(np.asarray(elements, dtype=np.int64) * bits,
                        self.dev.global_buffer.word_bits)

    def flits(self, elements, bits: int) -> int:
        """Bus cycles to send each of ``elements`` (int or array) values of ``bits`` as its own
        packet of whole ``width_bits`` flits."""
        width = self.dev.interconnect.width_bits
        return int(np.sum(ceil_div(np.asarray(elements, dtype=np.int64) * bits, width)))

    def buffer_resource(self, kind: StageKind) -> Resource:
        """Writes use their own ports when the global buffer has two."""
        two = self.dev.global_buffer.ports == 2
        return BUFFER_WRITE_PORT if two and kind == StageKind.BUFFER_WRITE else BUFFER

    def buffer_stage(self, kind: StageKind, words: float, vectors: int = 1) -> Stage:
        """``words`` per vector on the buffer's banks. Over ``vectors`` vectors the banks
        serve successive vectors' words side by side: the pass takes its words over the
        banks in whole cycles (Stage.total), not a whole cycle per vector."""
        return Stage(kind, self.buffer_resource(kind), 0).spread(
            math.ceil(words * vectors / self.dev.global_buffer.banks), vectors)

    def digital_stage(self, counts: np.ndarray, vectors: int = 1) -> Stage:
        """The digital operations of one vector of ``counts`` on the unit's lanes, pooled
        over ``vectors`` vectors as buffer_stage pools banks."""
        ops = int(sum(counts[a] for a in DIGITAL_ACTIONS))
        return Stage(StageKind.DIGITAL, DIGITAL, 0).spread(
            math.ceil(ops * vectors / self.dev.digital.lanes), vectors)

    def activation_counts(self, counts: np.ndarray, function: str | None,
                          elements: float) -> None:
        activation_counts(counts, function, elements)

    def dram_stage(self, kind: StageKind, bits: float, counts: np.ndarray,
                   operand: Operand) -> Stage:
        """A DRAM transfer of ``bits`` of ``operand`` in whole bursts, its bits and rows opened
        added to ``counts``."""
        moved = count_dram(counts, self.dev, read=kind == StageKind.DRAM_READ, bits=bits,
                           operand=operand)
        occupancy = math.ceil(moved / 8 / self.dev.dram_bytes_per_cycle)
        return Stage(kind, DRAM, occupancy, self.dev.cycles(self.dev.dram.latency_ns))

    def needs(self, name: str) -> tuple[tuple[str, Need], ...]:
        return tuple((source, need(self.wl, name, source))
                     for source in self.wl.layers[name].inputs)


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
    moved = ceil_div(np.asarray(bits, dtype=np.int64), burst) * burst
    counts[dram_read(operand)] += moved.sum()
    if dram.row_bytes is not None:
        step = 8 * (dram.burst_bytes if dram.page_policy == "closed" else dram.row_bytes)
        counts[Action.DRAM_ACTIVATE] += (ceil_div(moved, step)).sum()
    return moved

