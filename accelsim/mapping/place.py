"""Placement: crossbar parts fill the chip's tiles in topological order, in layer groups.

Each part takes tiles of its own; when the chip is full, a new group starts, whose parts
rewrite the tiles of earlier ones for every image. When that happens, placement is tried again
with shared tiles: a part that does not fit in the tiles left stacks its weights in the rows
that earlier parts of the group leave free (in the same columns). A shared tile runs one
part's MVM at a time, driving only that part's rows, so the others' cells add nothing to its
column sums. The shared placement is kept only if it holds every weight at once (one group):
then nothing is rewritten per image (LeNet-5's five layers, 61 k weights, stay in one
1024 x 512 macro instead of rewriting it four times per image). A network that needs several
groups either way is rewritten part by part for every image in both, so it keeps the
placement without sharing, whose parts run side by side.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from accelsim.hardware.plan import LayerPlan, PartPlan, Resource, ResourceKind, UnitKind, copied


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
    # part -> the part whose tiles it shares (stacked rows in the same group), if any
    shares: dict[tuple[str, int], tuple[str, int]] | None = None


def rows_needed(plan: LayerPlan, part: PartPlan) -> int:
    """The most rows of one tile the part's weights take."""
    tiling = plan.tiling
    if tiling is None or part.tiles == 0:
        return 0
    used = tiling.rows_used if part.tile_indices is None else tiling.rows_used[part.tile_indices]
    return int(np.max(used)) if np.size(used) else 0


def place(plans: list[LayerPlan], chip_tiles: int, rows: int = 0) -> Placement:
    """Fill the chip with CIM parts in topological order (see the module docstring); ``rows``
    the rows of a tile (0: never share tiles)."""
    alone = _filled(plans, chip_tiles, 0)
    if alone.groups <= 1 or rows <= 0:
        return alone
    shared = _filled(plans, chip_tiles, rows)
    return shared if shared.groups == 1 else alone


def _filled(plans: list[LayerPlan], chip_tiles: int, rows: int) -> Placement:
    """Parts in topological order, sharing tiles' free rows once the group's tiles are all
    taken when ``rows`` > 0. Each group fills the tiles from the first, so a part rewrites
    whichever parts of earlier groups last held its tiles (kept as intervals of tiles,
    sorted, with the parts that hold them)."""
    group, first_tile, previous, shares = {}, {}, {}, {}
    starts: list[int] = []
    ends: list[int] = []
    holders: list[tuple[tuple[str, int], ...]] = []
    shelves: list[list] = []     # the current group's: [first tile, tiles, rows used, owner]
    current, used = 0, 0
    for plan in plans:
        for part in plan.parts:
            if part.unit != UnitKind.CIM:
                continue
            key = (part.layer, part.part)
            need = rows_needed(plan, part)
            shelf = None
            if used + part.tiles > chip_tiles and part.tiles and need:
                shelf = next((s for s in shelves if s[1] >= part.tiles
                              and s[2] + need <= rows), None)
                if shelf is None:
                    current, used, shelves = current + 1, 0, []
            group[key] = current
            if shelf is not None:
                # Stacked into an earlier part's tiles of this group: its weights are written
                # once whatever held those tiles before the group has finished, as the
                # owner's are; a later group rewriting them waits for it too.
                owner = shelf[3]
                shelf[2] += need
                shares[key] = owner
                first_tile[key] = low = shelf[0]
                if owner in previous:
                    previous[key] = previous[owner]
                high = low + part.tiles
                _split(starts, ends, holders, low)
                _split(starts, ends, holders, high)
                i, j = bisect_right(ends, low), bisect_left(starts, high)
                for k in range(i, j):
                    holders[k] = (*holders[k], key)
                continue
            first_tile[key] = used
            low, high = used, used + part.tiles
            used = high
            if high == low:
                continue
            shelves.append([low, part.tiles, need, key])
            _split(starts, ends, holders, low)
            _split(starts, ends, holders, high)
            i, j = bisect_right(ends, low), bisect_left(starts, high)
            if j > i:
                previous[key] = tuple(dict.fromkeys(h for held in holders[i:j] for h in held))
            starts[i:j], ends[i:j], holders[i:j] = [low], [high], [(key,)]
    overwritten = frozenset(k for part, keys in previous.items() for k in keys
                            if group[k] < group[part])
    return Placement(group, first_tile, current + 1 if group else 0, previous, overwritten,
                     shares)


def _split(starts: list[int], ends: list[int], holders: list, at: int) -> None:
    """Split the interval that contains tile boundary ``at`` strictly inside it in two."""
    i = bisect_right(starts, at) - 1
    if i >= 0 and starts[i] < at < ends[i]:
        starts.insert(i + 1, at)
        ends.insert(i + 1, ends[i])
        holders.insert(i + 1, holders[i])
        ends[i] = at


def shared_arrays(plans: list[LayerPlan], placement: Placement) -> list[LayerPlan]:
    """Plans whose parts that share tiles run their MVMs and weight writes on the array
    resource of the part whose tiles they share (one MVM at a time on a tile)."""
    if not placement.shares:
        return plans
    result = []
    for plan in plans:
        parts, moved = [], False
        for part in plan.parts:
            owner = placement.shares.get((part.layer, part.part))
            if owner is None:
                parts.append(part)
                continue
            moved = True
            array = Resource(ResourceKind.ARRAY, f"{owner[0]}#{owner[1]}")
            changes = {"stages": _on(part.stages, array)}
            if part.programming is not None:
                changes["programming"] = copied(part.programming,
                                                stages=_on(part.programming.stages, array))
            parts.append(copied(part, **changes))
        result.append(copied(plan, parts=tuple(parts)) if moved else plan)
    return result


def _on(stages, array: Resource):
    return tuple(copied(stage, resource=array) if stage.resource.kind == ResourceKind.ARRAY
                 else stage for stage in stages)
