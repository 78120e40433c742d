"""Global-buffer capacity: activations that do not fit spill to DRAM.

A layer's working set is its input tensors plus its output tensor (one image, activation and
output widths as on the chip). When it exceeds the global buffer, the part of the output that
does not fit is written to DRAM as the layer produces it, and every consumer reads that part
back from DRAM once, streaming it in beside its buffer reads. Both are DRAM stages of each
step, so bandwidth and queueing show in cycles; energy counts whole bursts per layer and image.
Views (flatten, concat, reshapes without a permutation) alias their producers' storage.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from accelsim.mapping.plan import DRAM, LayerPlan, PartPlan, Stage, count_dram
from accelsim.spec.device import DeviceSpec
from accelsim.workload.graph import Workload


def tensor_bytes(workload: Workload, device: DeviceSpec) -> dict[str, float]:
    """Bytes of each layer's output tensor for one image, at the chip's output width."""
    return {name: math.prod(workload.shapes[name]) * device.output_bits / 8
            for name in workload.order}


def spill_fractions(workload: Workload, device: DeviceSpec) -> dict[str, float]:
    """Fraction of each layer's output tensor that lives in DRAM instead of the buffer."""
    capacity = device.global_buffer.size_bytes
    size = tensor_bytes(workload, device)
    fractions: dict[str, float] = {}
    for name in workload.order:
        layer = workload.layers[name]
        if layer.aliases_input:
            sources = [fractions[s] for s in layer.inputs]
            fractions[name] = max(sources) if sources else 0.0
            continue
        working = size[name] + sum(size[s] for s in layer.inputs)
        fractions[name] = min(1.0, max(0.0, (working - capacity) / size[name]))
    return fractions


def with_spills(plans: list[LayerPlan], workload: Workload, device: DeviceSpec) -> list[LayerPlan]:
    """Plans with DRAM spill stages and counts wherever a working set exceeds the buffer."""
    fractions = spill_fractions(workload, device)
    size = tensor_bytes(workload, device)
    producers = {}
    for name in workload.order:
        layer = workload.layers[name]
        producers[name] = ([p for s in layer.inputs for p in producers[s]]
                           if layer.aliases_input else [name])
    result = []
    for plan in plans:
        if plan.name not in workload.layers or plan.unit in ("view", "dram"):
            result.append(plan)
            continue
        layer = workload.layers[plan.name]
        write_bytes = fractions[plan.name] * size[plan.name]
        sources = [p for s in layer.inputs for p in producers[s]]
        read_bytes = sum(fractions[p] * size[p] for p in sources)
        if write_bytes <= 0 and read_bytes <= 0:
            result.append(plan)
            continue
        parts = tuple(_spilling_part(part, read_bytes / len(plan.parts),
                                     write_bytes / len(plan.parts), device)
                      for part in plan.parts)
        result.append(replace(plan, parts=parts))
    return result


def _spilling_part(part: PartPlan, read_bytes: float, write_bytes: float,
                   device: DeviceSpec) -> PartPlan:
    """Add a DRAM read before and a DRAM write after the part's other stages (per image)."""
    per_cycle = device.dram_bytes_per_cycle
    latency = device.cycles(device.dram.latency_ns)
    counts = part.counts.copy()
    count_dram(counts, device, read=True, bits=read_bytes * 8)
    count_dram(counts, device, read=False, bits=write_bytes * 8)
    if part.folds is not None:
        # Spread over the folds: one share of the traffic per fold.
        folds = part.folds.shape[0]
        read = -(-math.ceil(read_bytes / per_cycle) // folds)
        write = -(-math.ceil(write_bytes / per_cycle) // folds)
        stages = (Stage("spill_read", DRAM, 0, latency), *part.stages,
                  Stage("spill_write", DRAM, 0, latency))
        occupancy = np.column_stack([np.full(folds, read), part.folds, np.full(folds, write)])
        return replace(part, stages=stages, folds=occupancy, counts=counts)
    vectors = part.vectors
    stages = (Stage("spill_read", DRAM, math.ceil(read_bytes / vectors / per_cycle), latency),
              *part.stages,
              Stage("spill_write", DRAM, math.ceil(write_bytes / vectors / per_cycle), latency))
    return replace(part, stages=stages, counts=counts)
