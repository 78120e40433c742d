"""Placement: crossbar parts fill the chip's tiles in topological order, in layer groups."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from accelsim.hardware.plan import LayerPlan, UnitKind


@dataclass(frozen=True)
class Placement:
    """Which layer group each CIM part belongs to, its first physical tile there, and for a
    part of a later group the parts whose tiles it rewrites."""

    group: dict[tuple[str, int], int]
    first_tile: dict[tuple[str, int], int]
    groups: int
    # part -> the parts that last held its tiles (earlier groups), in tile order
    previous: dict[tuple[str, int], tuple[tuple[str, int], ...]]
    overwritten: frozenset[tuple[str, int]]     # parts whose tiles a later group rewrites


def place(plans: list[LayerPlan], chip_tiles: int) -> Placement:
    """Fill the chip with CIM parts in topological order; a new group when it is full. Each
    group fills the tiles from the first, so a part rewrites whichever parts of earlier groups
    last held its tiles (kept as intervals of tiles, sorted, with their latest part)."""
    group, first_tile, previous = {}, {}, {}
    starts: list[int] = []
    ends: list[int] = []
    holders: list[tuple[str, int]] = []
    current, used = 0, 0
    for plan in plans:
        for part in plan.parts:
            if part.unit != UnitKind.CIM:
                continue
            if used + part.tiles > chip_tiles:
                current, used = current + 1, 0
            key = (part.layer, part.part)
            group[key] = current
            first_tile[key] = used
            low, high = used, used + part.tiles
            used = high
            if high == low:
                continue
            i, j = bisect_right(ends, low), bisect_left(starts, high)
            if j > i:
                previous[key] = tuple(dict.fromkeys(holders[i:j]))
            pieces = [(low, high, key)]
            if j > i and starts[i] < low:
                pieces.insert(0, (starts[i], low, holders[i]))
            if j > i and ends[j - 1] > high:
                pieces.append((high, ends[j - 1], holders[j - 1]))
            starts[i:j] = [p[0] for p in pieces]
            ends[i:j] = [p[1] for p in pieces]
            holders[i:j] = [p[2] for p in pieces]
    overwritten = frozenset(k for keys in previous.values() for k in keys)
    return Placement(group, first_tile, current + 1 if group else 0, previous, overwritten)
