"""Placement: crossbar parts fill the chip's tiles in topological order, in layer groups."""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.hardware.plan import LayerPlan, UnitKind


@dataclass(frozen=True)
class Placement:
    """Which layer group each CIM part belongs to and its first physical tile there."""

    group: dict[tuple[str, int], int]
    first_tile: dict[tuple[str, int], int]
    groups: int
    last_part: dict[int, tuple[str, int]]      # group -> its last CIM part


def place(plans: list[LayerPlan], chip_tiles: int) -> Placement:
    """Fill the chip with CIM parts in topological order; a new group when it is full."""
    group, first_tile, last_part = {}, {}, {}
    current, used = 0, 0
    for plan in plans:
        for part in plan.parts:
            if part.unit != UnitKind.CIM:
                continue
            if used + part.tiles > chip_tiles:
                current, used = current + 1, 0
            group[(part.layer, part.part)] = current
            first_tile[(part.layer, part.part)] = used
            last_part[current] = (part.layer, part.part)
            used += part.tiles
    return Placement(group, first_tile, current + 1 if group else 0, last_part)
