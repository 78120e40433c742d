"""Sibling crossbar layers that read the same inputs take them from one bus transfer.

Layers that read one tensor through the same window (attention's q, k and v projections; an
inception module's 1x1 convs; a conv written as several convs of one input) need the same
input slices, step by step. The bus multicasts a slice to every tile that reads it, as it
does to the tiles of one layer that share rows, so the first such layer's transfer (the
sender) feeds its siblings' tiles too: a sibling reads no inputs from the global buffer and
sends none over the bus, and its steps wait for the sender's. The sender's inputs, in turn,
wait for room in every sibling's input FIFO (mapping.tasks.INPUT_VECTORS), so the siblings
advance together.

Until the twenty-second session every layer sent its own copy: a conv written as four convs of
one input took twice the cycles of the one conv on cim-16x16 (its bus was the bottleneck) and
25 % more energy.

Siblings share only when both run pipelined (layer by layer each runs alone, as ZigZag and
Timeloop assume), on a bus (a mesh routes each tile's slices on its own links), in the same
layer group, with weights that stay in their tiles from image to image (a sibling whose tiles
are rewritten for every image starts when its weights have arrived, and would hold the
others back: BERT-base's v, rewritten, held q and k back by 44,000 cycles on
cim-128x128-rram), each as one part whose only traffic in is its inputs, and with no DRAM
spill read of its own in front.
"""

from __future__ import annotations

import numpy as np

from accelsim.energy.table import Action, Operand, buffer_read
from accelsim.hardware.plan import LayerPlan, StageKind, UnitKind, copied
from accelsim.mapping.place import Placement


def shared_inputs(plans: list[LayerPlan], placement: Placement) -> list[LayerPlan]:
    """``plans`` with each sibling of an earlier part that reads the same inputs in the same
    layer group taking them from that part's transfers (see the module docstring)."""
    senders: dict[tuple, tuple[str, int]] = {}
    result = []
    for plan in plans:
        part = plan.parts[0] if len(plan.parts) == 1 else None
        if part is None or part.unit != UnitKind.CIM or part.inputs is None:
            result.append(plan)
            continue
        key = (part.layer, part.part)
        if placement.rewritten(key):
            result.append(plan)
            continue
        sender = senders.setdefault((part.needs, part.inputs.key, placement.group.get(key)),
                                    key)
        if sender == key or [s.kind for s in part.stages[:2]] != [StageKind.BUFFER_READ,
                                                                  StageKind.BUS_IN]:
            result.append(plan)
            continue
        result.append(copied(plan, parts=(_sibling(part, sender),)))
    return result


def senders(plans: list[LayerPlan]) -> frozenset[tuple[str, int]]:
    """The parts whose input transfers feed a sibling's tiles."""
    return frozenset(part.inputs_from for plan in plans for part in plan.parts
                     if part.inputs_from is not None)


def _sibling(part, sender: tuple[str, int]):
    """``part`` with its inputs brought by ``sender``'s transfers: no buffer read or bus
    transfer of its own (its first two stages), nor their counts."""
    saved = np.zeros_like(part.counts)
    saved[buffer_read(Operand.INPUTS)] = part.inputs.words * part.vectors * part.images
    saved[Action.BUS_BIT] = part.inputs.bits * part.vectors * part.images
    changes = {"counts": part.counts - saved, "stages": part.stages[2:],
               "inputs_from": sender}
    if part.measured is not None:
        # value mode's counts are the batch's: the bus and buffer ones batch times the pass's
        batch = part.measured.batch_counts[Action.BUS_BIT] / part.counts[Action.BUS_BIT]
        changes["measured"] = copied(part.measured,
                                     batch_counts=part.measured.batch_counts - saved * batch)
    return copied(part, **changes)
