"""Placement: crossbar parts fill the chip's tiles in the workload's order (the graph's own,
not the listing's: see Workload.order), in layer groups.

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

    def rewritten(self, key: tuple[str, int]) -> bool:
        """Whether the part's tiles change hands between layer groups (it takes tiles an
        earlier group held, or a later group takes its own): its weights are then written
        for every image. A part of the first group whose tiles no later group takes keeps
        its weights from one image to the next."""
        return key in self.overwritten or bool(self.previous.get(key))


def _rows_needed(plan: LayerPlan, part: PartPlan) -> int:
    """The most rows of one tile the part's weights take."""
    tiling = plan.tiling
    if tiling is None or part.tiles == 0:
        return 0
    used = tiling.rows_used if part.tile_indices is None else tiling.rows_used[part.tile_indices]
    return int(np.max(used)) if np.size(used) else 0


def place(plans: list[LayerPlan], chip_tiles: int, rows: int = 0) -> Placement:
    """Fill the chip with CIM parts in topological order (see the module docstring); ``rows``
    the rows of a tile (0: never share tiles)."""
    alone = _filled(plans, chip_tiles)
    if alone.groups <= 1 or rows <= 0:
        return alone
    return _stacked(plans, chip_tiles, rows) or alone


def _filled(plans: list[LayerPlan], chip_tiles: int) -> Placement:
    """Fill the chip with CIM parts in topological order; a new group when it is full. A new
    group first takes the tiles that no earlier group used (the first group's free tail),
    then fills from the first tile, so a part rewrites whichever parts of earlier groups last
    held its tiles (kept as intervals of tiles, sorted, with their latest part)."""
    group, first_tile, previous = {}, {}, {}
    starts: list[int] = []
    ends: list[int] = []
    holders: list[tuple[str, int]] = []
    current, used = 0, 0
    # A later group first takes the tiles no group has used yet (from ``tail`` on), then
    # rewrites from the first tile up to ``limit``, where its own part of the tail starts.
    frontier = 0
    tail = limit = chip_tiles
    for plan in plans:
        for part in plan.parts:
            if part.unit != UnitKind.CIM:
                continue
            in_tail = 0 < part.tiles and tail + part.tiles <= chip_tiles
            if not in_tail and used + part.tiles > limit:
                current, used = current + 1, 0
                tail = limit = frontier
                in_tail = 0 < part.tiles and tail + part.tiles <= chip_tiles
            if in_tail:
                low = tail
                tail += part.tiles
            else:
                low = used
                used += part.tiles
                # a part too large for the room left below the tail takes the tail too
                limit = max(limit, used)
                tail = max(tail, used)
            key = (part.layer, part.part)
            group[key] = current
            first_tile[key] = low
            high = low + part.tiles
            frontier = max(frontier, high)
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


def _stacked(plans: list[LayerPlan], chip_tiles: int, rows: int) -> Placement | None:
    """Every part in one group: parts take tiles of their own while there are any, then
    stack their weights in the free rows of an earlier part's tiles (a shelf: its first
    tile, its tiles, the rows used so far, its owner); None when a part finds no room."""
    group, first_tile, shares = {}, {}, {}
    shelves: list[list] = []
    # Shelves only fill up, so those a (tiles, rows) request found full stay full for it:
    # each request resumes where the last one of its kind stopped.
    resume: dict[tuple[int, int], int] = {}
    used = 0
    for plan in plans:
        for part in plan.parts:
            if part.unit != UnitKind.CIM:
                continue
            key = (part.layer, part.part)
            group[key] = 0
            need = _rows_needed(plan, part)
            if used + part.tiles <= chip_tiles:
                first_tile[key] = used
                if part.tiles:
                    shelves.append([used, part.tiles, need, key])
                used += part.tiles
                continue
            kind = (part.tiles, need)
            i = resume.get(kind, 0)
            while i < len(shelves) and not (shelves[i][1] >= part.tiles
                                            and shelves[i][2] + need <= rows):
                i += 1
            resume[kind] = i
            if i == len(shelves):
                return None
            shelves[i][2] += need
            first_tile[key], shares[key] = shelves[i][0], shelves[i][3]
    return Placement(group, first_tile, 1 if group else 0, {}, frozenset(), shares)


def shared_arrays(plans: list[LayerPlan], placement: Placement) -> list[LayerPlan]:
    """Plans whose parts that share tiles run their MVMs and weight writes on the array
    resource of the part whose tiles they share (one MVM at a time on a tile), and stage
    their inputs in its tile buffers."""
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
            key = f"{owner[0]}#{owner[1]}"
            changes = {"stages": _on(part.stages, key)}
            if part.programming is not None:
                changes["programming"] = copied(part.programming,
                                                stages=_on(part.programming.stages, key))
            parts.append(copied(part, **changes))
        result.append(copied(plan, parts=tuple(parts)) if moved else plan)
    return result


def _on(stages, key: str):
    """``stages`` with their array and tile-buffer resources those of part ``key``."""
    kinds = (ResourceKind.ARRAY, ResourceKind.TILE_BUFFER)
    return tuple(copied(stage, resource=Resource(stage.resource.kind, key))
                 if stage.resource.kind in kinds else stage for stage in stages)
