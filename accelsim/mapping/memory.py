"""Global-buffer capacity: activations that do not fit spill to DRAM, each byte counted once.

A layer's working set is its input tensors plus its output tensor, at the activation and
output widths of the chip, plus the on-chip part of every earlier tensor that waits for a later
reader (a skip connection's input, a sibling branch's output), in the order of the layers. A
tensor counts once per image, or once per image of the batch when a layer that merges the batch
(a systolic GEMM, see mapping.plan and hardware.systolic.merges_batch) produces or reads it: all
of its images are live at once. When the working set exceeds the global buffer, the part of the
output that does not fit lives in DRAM:

- an intermediate layer writes that part to DRAM as it produces it, and every consumer reads it
  back once (a systolic consumer whose input does not fit beside the part of its output kept
  on chip re-reads its inputs fold by fold, so it reads its share of each fold's inputs from
  DRAM instead, see hardware.systolic);
- the network's input is loaded into the buffer only as far as it fits; the rest stays in DRAM
  and its consumers read it from there;
- a network output is written to DRAM once: the part that does not fit as it is produced, the
  rest by the final store.

In layer-by-layer execution (``layer_by_layer``) every layer also writes the part of its
output that would have stayed in the buffer to DRAM, and its consumers read it back: each
intermediate tensor goes to DRAM once and comes back once per consumer, through the buffer.

The spill reads and writes are DRAM stages of each step, so bandwidth and queueing show in
cycles; energy counts whole bursts per transfer. Views (flatten, concat, reshapes without a
permutation) alias their producers' storage.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from accelsim.arith import whole_shares
from accelsim.energy.table import Operand, buffer_read, buffer_write
from accelsim.hardware.context import Residency, count_dram
from accelsim.hardware.plan import (
    BUFFER,
    BUFFER_WRITE_PORT,
    DRAM,
    LayerPlan,
    PartPlan,
    Stage,
    StageKind,
    UnitKind,
)
from accelsim.spec.device import DeviceSpec
from accelsim.workload.graph import Workload
from accelsim.workload.layers import Conv2d


def tensor_bytes(workload: Workload, device: DeviceSpec) -> dict[str, float]:
    """Bytes of each layer's output tensor for one image, at the chip's output width."""
    return {name: math.prod(workload.shapes[name]) * device.output_bits / 8
            for name in workload.order}


def residency(workload: Workload, device: DeviceSpec, *, batch: int = 1,
              batched: frozenset[str] | set[str] = frozenset(),
              reserved: dict[str, float] | None = None) -> Residency:
    """Residency of every layer's output. ``batched``: layers whose pass covers the whole
    batch; the tensors they produce or read are live for all ``batch`` images at once.
    ``reserved``: buffer bytes kept for a layer's staged weights while it runs (they count
    in its working set, so more of its output may spill, and are free for its weights)."""
    reserved = reserved or {}
    capacity = device.global_buffer.size_bytes
    size = tensor_bytes(workload, device)
    producers: dict[str, list[str]] = {}
    for name in workload.order:
        layer = workload.layers[name]
        producers[name] = ([p for s in layer.inputs for p in producers[s]]
                           if layer.aliases_input else [name])
    copies = dict.fromkeys(workload.order, 1)
    for name in batched:
        for tensor in (name, *workload.layers[name].inputs):
            for producer in producers[tensor]:
                copies[producer] = batch
    # The last layer (by position in the order) that reads each stored tensor.
    last_read: dict[str, int] = {}
    for position, name in enumerate(workload.order):
        for source in workload.layers[name].inputs:
            for producer in producers[source]:
                last_read[producer] = position
    fraction: dict[str, float] = {}
    dram_bytes: dict[str, float] = {}
    free: dict[str, float] = {}
    waiting: list[str] = []     # tensors produced earlier and read after the current layer
    for position, name in enumerate(workload.order):
        layer = workload.layers[name]
        if layer.aliases_input:
            dram_bytes[name] = sum(dram_bytes[p] for p in producers[name])
            fraction[name] = min(1.0, dram_bytes[name] / size[name]) if size[name] else 0.0
            free[name] = 0.0
            continue
        read = {p for s in layer.inputs for p in producers[s]}
        waiting = [p for p in waiting if last_read.get(p, -1) > position]
        # Tensors waiting for a later reader (a skip connection, a sibling branch) keep the
        # part of them that is on chip.
        held = sum(copies[p] * size[p] * (1 - fraction[p]) for p in waiting if p not in read)
        working = (held + copies[name] * size[name] + sum(copies[p] * size[p] for p in read)
                   + reserved.get(name, 0.0))
        fraction[name] = min(1.0, max(0.0, (working - capacity) / (copies[name] * size[name])))
        dram_bytes[name] = fraction[name] * size[name]
        free[name] = max(0.0, capacity - working) + reserved.get(name, 0.0)
        if last_read.get(name, -1) > position:
            waiting.append(name)
    return Residency(fraction, dram_bytes, free, producers, dict(reserved))


def spill_fractions(workload: Workload, device: DeviceSpec) -> dict[str, float]:
    """Fraction of each layer's output tensor that lives in DRAM instead of the buffer (one
    image at a time, no layer merging the batch)."""
    return residency(workload, device).fraction


def with_spills(plans: list[LayerPlan], workload: Workload, device: DeviceSpec,
                held: Residency) -> list[LayerPlan]:
    """Plans with DRAM spill stages and counts where an intermediate output does not fit.

    The network's input and outputs are handled by the load and store plans themselves, and
    systolic layers read their spilled inputs fold by fold (both planned with ``held``)."""
    result = []
    for plan in plans:
        if plan.name not in workload.layers or plan.unit in (UnitKind.VIEW, UnitKind.DRAM):
            result.append(plan)
            continue
        layer = workload.layers[plan.name]
        write_bytes = held.dram_bytes[plan.name]
        read_bytes = (0.0 if plan.unit == UnitKind.SYSTOLIC else
                      sum(held.dram_bytes[p] for s in layer.inputs for p in held.producers[s]))
        result.append(_with_transfers(plan, read_bytes, write_bytes, device, _spilling_part))
    return result


def _with_transfers(plan: LayerPlan, read_bytes: float, write_bytes: float,
                    device: DeviceSpec, part_with) -> LayerPlan:
    """The plan with ``read_bytes`` read from and ``write_bytes`` written to DRAM, shared
    equally by its parts (``part_with(part, read, write, device)`` adds them to one)."""
    if read_bytes <= 0 and write_bytes <= 0:
        return plan
    count = len(plan.parts)
    return replace(plan, parts=tuple(part_with(part, read_bytes / count, write_bytes / count,
                                               device) for part in plan.parts))


def layer_by_layer(plans: list[LayerPlan], workload: Workload, device: DeviceSpec,
                   held: Residency) -> list[LayerPlan]:
    """Plans for layer-by-layer execution (the assumption of ZigZag and Timeloop): each layer
    reads its inputs from DRAM and writes its output to DRAM, streaming both.

    mapping.plan plans each layer as a network of its own (its inputs network inputs), so
    ``held`` is that network's residency: the layer's working set against the whole buffer,
    which it has to itself; what does not fit streams as pipelined. On top of it, each
    layer writes the share of its output that would have stayed in the buffer to DRAM
    (after the buffer: a buffer read, then a DRAM write), and each consumer reads that share
    back (a DRAM read, then a buffer write), both spread over its steps or folds so that
    transfers overlap computing and bandwidth shows in cycles. The network's
    input and outputs move the same way, so their whole-tensor load and store plans move
    nothing. A conv reads only the input rows and columns its windows touch. That layers run
    one at a time is the lowering's part (mapping.lower, ``execution``).
    """
    size = tensor_bytes(workload, device)
    result = []
    for plan in plans:
        if plan.unit == UnitKind.DRAM:
            result.append(replace(plan, parts=tuple(_idle(part) for part in plan.parts)))
            continue
        if plan.name not in workload.layers or plan.unit == UnitKind.VIEW:
            result.append(plan)
            continue
        layer = workload.layers[plan.name]
        touched = touched_fraction(layer, workload.input_shapes(plan.name),
                                   workload.shapes[plan.name],
                                   workload.unpadded(layer.inputs[0])[1] if layer.inputs
                                   else None)
        read_bytes = sum((1.0 - held.fraction[p]) * size[p] * share
                         for s, share in zip(layer.inputs, touched) for p in held.producers[s])
        write_bytes = (1.0 - held.fraction[plan.name]) * size[plan.name]
        result.append(_with_transfers(plan, read_bytes, write_bytes, device, _through_dram))
    return result


def _idle(part: PartPlan) -> PartPlan:
    """A part that moves and counts nothing (its work is done by the layers themselves)."""
    return replace(part, counts=np.zeros_like(part.counts),
                   stages=tuple(replace(stage, occupancy=0, latency=0, total=None)
                                for stage in part.stages))


def touched_fraction(layer, shapes, out_shape, padded=None) -> list[float]:
    """Per input, the share of its stored elements the layer reads at all: below 1 for a conv
    whose windows skip rows or columns (a 1x1 conv of stride 2 reads a quarter of its input).
    ``padded``: (top, left, bottom, right) of Pad layers between a conv and what it reads
    (the padding is not stored: rows of it that no window reaches save nothing)."""
    if not isinstance(layer, Conv2d):
        return [1.0] * len(shapes)
    _, h, w = shapes[0]
    top, left, bottom, right = padded or (0, 0, 0, 0)
    share = 1.0
    for size, before, after, out, k, stride, pad, dilation in zip(
            (h, w), (top, left), (bottom, right), out_shape[1:], layer.kernel, layer.stride,
            layer.padding[:2], layer.dilation):
        stored = size - before - after
        rows = (np.arange(out)[:, None] * stride - pad - before
                + dilation * np.arange(k)[None, :])
        rows = rows[(rows >= 0) & (rows < stored)]
        share *= np.unique(rows).size / stored
    return [share]


def _through_dram(part: PartPlan, read_bytes: float, write_bytes: float,
                  device: DeviceSpec) -> PartPlan:
    """A part whose inputs come from DRAM and whose output goes there, through the buffer:
    the words are counted, and they take the buffer's banks for their cycles (a buffer write
    after the DRAM read, a buffer read before the DRAM write), shared by the part's steps or
    folds as the DRAM transfers are."""
    spilled = _spilling_part(part, read_bytes, write_bytes, device)
    counts = spilled.counts.copy()
    buffer = device.global_buffer
    written = math.ceil(read_bytes * part.images * 8 / buffer.word_bits)
    read = math.ceil(write_bytes * part.images * 8 / buffer.word_bits)
    counts[buffer_write(Operand.INPUTS)] += written
    counts[buffer_read(Operand.OUTPUTS)] += read
    write_port = BUFFER_WRITE_PORT if buffer.ports == 2 else BUFFER
    # (position, stage, cycles): the write after the spill read, the read before the spill
    # write; inserted from the last, so that the first position still holds
    inserts = [(len(spilled.stages) - 1, Stage(StageKind.BUFFER_READ, BUFFER, 0),
                math.ceil(read / buffer.banks))] if write_bytes > 0 else []
    if read_bytes > 0:
        inserts.append((1, Stage(StageKind.BUFFER_WRITE, write_port, 0),
                        math.ceil(written / buffer.banks)))
    stages = list(spilled.stages)
    if spilled.folds is None:
        for at, stage, cycles in inserts:
            stages.insert(at, stage.spread(cycles, spilled.vectors))
        return replace(spilled, stages=tuple(stages), counts=counts)
    columns = list(spilled.folds.T)
    for at, stage, cycles in inserts:
        stages.insert(at, stage)
        columns.insert(at, whole_shares(cycles, np.arange(spilled.folds.shape[0] + 1)))
    return replace(spilled, stages=tuple(stages), folds=np.column_stack(columns),
                   counts=counts)


def _spilling_part(part: PartPlan, read_bytes: float, write_bytes: float,
                   device: DeviceSpec) -> PartPlan:
    """Add a DRAM read before and a DRAM write after the part's other stages (per image, or
    for the whole batch when the part's pass covers it)."""
    read_bytes, write_bytes = read_bytes * part.images, write_bytes * part.images
    per_cycle = device.dram_bytes_per_cycle
    latency = device.cycles(device.dram.latency_ns)
    counts = part.counts.copy()
    count_dram(counts, device, read=True, bits=read_bytes * 8, operand=Operand.INPUTS)
    count_dram(counts, device, read=False, bits=write_bytes * 8, operand=Operand.OUTPUTS)
    reading, writing = read_bytes > 0, write_bytes > 0     # a stage only where bytes move
    if part.folds is not None:
        # Spread over the folds: one share of the traffic per fold.
        folds = part.folds.shape[0]
        # The folds share the transfer's cycles in whole cycles, adding up to it.
        bounds = np.arange(folds + 1)
        read = whole_shares(math.ceil(read_bytes / per_cycle), bounds)
        write = whole_shares(math.ceil(write_bytes / per_cycle), bounds)
        stages = (*([Stage(StageKind.SPILL_READ, DRAM, 0, latency)] if reading else []),
                  *part.stages,
                  *([Stage(StageKind.SPILL_WRITE, DRAM, 0, latency)] if writing else []))
        occupancy = np.column_stack([*([read] if reading else []), part.folds,
                                     *([write] if writing else [])])
        return replace(part, stages=stages, folds=occupancy, counts=counts)
    # Per vector the transfer may be a fraction of a cycle: the part's steps share the whole
    # transfer's cycles (Stage.total), as back-to-back bursts do, instead of each vector
    # rounding up to a whole cycle.
    vectors = part.vectors
    read, write = math.ceil(read_bytes / per_cycle), math.ceil(write_bytes / per_cycle)
    stages = (*([Stage(StageKind.SPILL_READ, DRAM, 0, latency).spread(read, vectors)]
                if reading else []),
              *part.stages,
              *([Stage(StageKind.SPILL_WRITE, DRAM, 0, latency).spread(write, vectors)]
                if writing else []))
    return replace(part, stages=stages, counts=counts)
