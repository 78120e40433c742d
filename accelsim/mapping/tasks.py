"""The growing arrays a Program is lowered into: task columns and dependency edges, joined
once at the end, and the step blocks that parts of one shape share (see mapping.lower)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from accelsim.arith import whole_shares
from accelsim.engine.program import Program
from accelsim.hardware.plan import (
    BUFFER,
    BUS,
    DIGITAL,
    DRAM,
    Resource,
    ResourceKind,
)

# Compute units whose busy cycles are reported as one, by the kinds of their resources.
COMPUTE_UNITS = {"crossbar tiles": (ResourceKind.ARRAY, ResourceKind.TILE),
                 "systolic array": (ResourceKind.SYSTOLIC,)}
# Resources reported as one group (the others are reported each by its own name).
RESOURCE_GROUPS = {"crossbar tiles": (ResourceKind.ARRAY, ResourceKind.TILE),
                   "tile buffers": (ResourceKind.TILE_BUFFER,),
                   "mesh links": (ResourceKind.LINK,)}


_GROUP_OF_KIND = {kind: group for group, kinds in RESOURCE_GROUPS.items() for kind in kinds}


def resource_group(resource: Resource) -> str:
    """The name a resource is reported under: its group's, or its own."""
    group = _GROUP_OF_KIND.get(resource.kind)
    return str(resource) if group is None else group


def resource_groups(resources) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each resource's group id and the groups' names (see resource_group)."""
    groups: dict[str, int] = {}
    ids = [groups.setdefault(resource_group(r), len(groups)) for r in resources]
    return np.asarray(ids or [0], dtype=np.int64), tuple(groups) or ("",)


def stage_shape(stages) -> tuple:
    """What a part's stages cost apart from their resources (kind, occupancy, latency, total):
    the key of work shared by parts of one shape."""
    return tuple((stage.kind, stage.occupancy, stage.latency, stage.total) for stage in stages)


def steps(units: int, mode: str, budget: int, passes: int) -> int:
    """Steps per pass of a part with ``units`` vectors or folds: one per unit in reference
    mode; in fast mode the part's ``budget`` shared by its ``passes`` (one per image, or one
    for a batch merged into a GEMM), at least one each."""
    if mode == "reference":
        return units
    return min(units, max(1, budget // passes))


class Column:
    """One growing column of the task or edge arrays, joined once at the end: numpy chunks,
    with short pieces gathered in a Python list in between (a deep network adds hundreds of
    thousands of pieces of a few values each, and a list takes them far faster than as many
    small arrays)."""

    SHORT = 64      # pieces up to this size go to the list
    LONG = 4096     # a list this long becomes a chunk (a Python int takes 4x the memory)

    def __init__(self, dtype=np.int64):
        self.dtype = dtype
        self.chunks: list[np.ndarray] = []
        self.short: list = []

    def put(self, values, n: int) -> None:
        """Append ``n`` values: an array or a list of them, or a scalar for all."""
        kind = type(values)
        if kind is np.ndarray:
            if values.size != n:
                raise ValueError(f"{values.size} values where {n} are due")
            if n > self.SHORT:
                self.flush()
                self.chunks.append(values.astype(self.dtype, copy=False).reshape(n))
            else:
                self.extend(values.reshape(n).tolist())
        elif kind is list or kind is tuple:
            if len(values) != n:
                raise ValueError(f"{len(values)} values where {n} are due")
            self.extend(values)
        elif n > self.SHORT:
            self.flush()
            self.chunks.append(np.full(n, values, dtype=self.dtype))
        else:
            self.extend([values] * n)

    def extend(self, values: list) -> None:
        """Append a list of values (a list this long becomes a chunk)."""
        self.short += values
        if len(self.short) > self.LONG:
            self.flush()

    def flush(self) -> None:
        """The list, as a chunk."""
        if self.short:
            self.chunks.append(np.asarray(self.short, dtype=self.dtype))
            self.short = []

    def __len__(self) -> int:
        return sum(chunk.size for chunk in self.chunks) + len(self.short)

    def tail(self, n: int) -> np.ndarray:
        """The last ``n`` values (a copy)."""
        pieces, wanted = [], n
        if wanted and self.short:
            taken = self.short[-wanted:]
            pieces.append(np.asarray(taken, dtype=self.dtype))
            wanted -= len(taken)
        for chunk in reversed(self.chunks):
            if not wanted:
                break
            pieces.append(chunk[-wanted:])
            wanted -= pieces[-1].size
        if wanted:
            raise ValueError(f"the column holds fewer than {n} values")
        return np.concatenate(pieces[::-1]) if pieces else np.zeros(0, dtype=self.dtype)

    def take(self) -> np.ndarray:
        """The column as one array; the pieces are released."""
        self.flush()
        return _take(self.chunks, self.dtype)


class Tasks:
    """Growing task arrays and edge lists (see Column), joined once."""

    def __init__(self, dram_channels: int = 1, fans: bool = True, chip_tiles: int = 0):
        self.dram_channels = dram_channels
        self.fans = fans
        self.chip_tiles = chip_tiles          # tiles in use, given ids together when fanning
        self.next_channel = 0
        self.resource, self.occupancy, self.latency = Column(), Column(), Column()
        self.layer_labels = Column(np.int32)
        self.stage_labels, self.image_labels = Column(np.int16), Column(np.int32)
        self.fan = Column()                  # fans: subtasks per task
        self.pool: list[np.ndarray] = []      # and their cycles
        self.pooled = 0
        self.fanned: set[tuple[str, int]] = set()    # parts whose MVMs are fans
        self.blocks: dict[tuple, Block] = {}         # see Block
        self.fast_blocks: dict[tuple, Block] = {}    # the same, by the shape of a part
        self.sources, self.targets = Column(), Column()
        self.count = 0
        self.layer = -1                       # plan index that added tasks belong to
        self.stages: dict[str, int] = {}
        self.names: dict[Resource, int] = {resource: i for i, resource in
                                           enumerate((BUFFER, BUS, DIGITAL))}
        if dram_channels == 1:
            self.names[DRAM] = len(self.names)

    def resource_id(self, resource: Resource) -> int:
        return self.names.setdefault(resource, len(self.names))

    def dram_ids(self, count: int) -> np.ndarray:
        """Channel resources for ``count`` successive DRAM transfers, round robin."""
        if self.dram_channels == 1:
            return np.full(count, self.names[DRAM], dtype=np.int64)
        channels = [self.resource_id(Resource(ResourceKind.DRAM, str(c)))
                    for c in range(self.dram_channels)]
        picks = (self.next_channel + np.arange(count)) % self.dram_channels
        self.next_channel = int((self.next_channel + count) % self.dram_channels)
        return np.asarray(channels, dtype=np.int64)[picks]

    def dram_id(self) -> int:
        """The channel resource of the next DRAM transfer (dram_ids for one)."""
        if self.dram_channels == 1:
            return self.names[DRAM]
        return int(self.dram_ids(1)[0])

    def stage_id(self, kind: str) -> int:
        return self.stages.setdefault(kind, len(self.stages))

    def tiles(self, first_tile: int, count: int) -> int | None:
        """The resource id of tile ``first_tile``, when the ``count`` tiles from it have
        consecutive ids (as a fan needs), else None."""
        if self.chip_tiles:
            # Every tile in use gets its id at the first, so every part's are consecutive.
            for t in range(self.chip_tiles):
                self.resource_id(Resource(ResourceKind.TILE, str(t)))
            self.chip_tiles = 0
        ids = [self.resource_id(Resource(ResourceKind.TILE, str(first_tile + t)))
               for t in range(count)]
        return ids[0] if ids and ids == list(range(ids[0], ids[0] + count)) else None

    def block(self, *shape) -> Block:
        """The Block of a part's steps (make_block's arguments), built once per shape."""
        block = self.blocks.get(shape)
        if block is None:
            block = self.blocks[shape] = make_block(*shape)
        return block

    def pool_cycles(self, cycles: np.ndarray) -> int:
        """Store subtasks' cycles for fans; returns their offset."""
        offset = self.pooled
        self.pool.append(np.asarray(cycles, dtype=np.int64).ravel())
        self.pooled += self.pool[-1].size
        return offset

    def add(self, resource, occupancy, latency, stage, image=-1, fan=0) -> np.ndarray:
        """Add tasks; ``stage`` is a stage kind for all, or per-task stage ids; ``image`` the
        batch image of each task (-1: shared by all); ``fan`` the subtasks of each (0: an
        ordinary task; see Program.from_edges). Scalars apply to every task."""
        n = len(resource) if isinstance(resource, list) else int(np.size(resource))
        stage = self.stage_id(stage) if isinstance(stage, str) else stage
        self.resource.put(resource, n)
        self.occupancy.put(occupancy, n)
        self.latency.put(latency, n)
        self.stage_labels.put(stage, n)
        self.image_labels.put(image, n)
        self.fan.put(fan, n)
        self.layer_labels.put(self.layer, n)
        ids = np.arange(self.count, self.count + n, dtype=np.int64)
        self.count += n
        return ids

    def add_lists(self, resource: list, occupancy: list, latency: list, stage: list,
                  image: list, fan: list) -> int:
        """add() for a few tasks given as lists of one value per task (the common case of a
        deep network's small parts, cheaper than add()); returns the first task's id."""
        n = len(resource)
        if not n == len(occupancy) == len(latency) == len(stage) == len(image) == len(fan):
            raise ValueError("the task lists differ in length")
        self.resource.extend(resource)
        self.occupancy.extend(occupancy)
        self.latency.extend(latency)
        self.stage_labels.extend(stage)
        self.image_labels.extend(image)
        self.fan.extend(fan)
        self.layer_labels.extend([self.layer] * n)
        first = self.count
        self.count += n
        return first

    def edge_lists(self, sources: list, targets: list) -> None:
        """edges() for lists of task ids, one edge per pair."""
        if len(sources) != len(targets):
            raise ValueError("the edge lists differ in length")
        self.sources.extend(sources)
        self.targets.extend(targets)

    def edges(self, sources, targets) -> None:
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        if sources.shape != targets.shape:     # broadcast (adding zeros: exact, and fast)
            sources, targets = sources + 0 * targets, targets + 0 * sources
        self.sources.put(sources, sources.size)
        self.targets.put(targets, targets.size)

    def program(self, layers: int, task_layer: np.ndarray, task_image: np.ndarray,
                task_stage: np.ndarray, layer_rank: np.ndarray,
                ranked_as: np.ndarray | None = None) -> Program:
        """The Program (the task chunks are released as they are joined); its tasks are
        labelled by layer (0..layers-1) and by compute unit (COMPUTE_UNITS, numbered from
        ``layers``) for the busy-cycle unions. ``ranked_as``: the layer whose rank each task
        takes in the queues (default: its own)."""
        resource = self.resource.take()
        unit_of = np.full(len(self.names) + 1, -1, dtype=np.int64)     # last: no resource
        for named, r in self.names.items():
            for index, kinds in enumerate(COMPUTE_UNITS.values()):
                if named.kind in kinds:
                    unit_of[r] = layers + index
        labels = np.stack([task_layer.astype(np.int64), unit_of[resource]], 1)
        groups, _ = resource_groups(self.names)
        # Oldest work first in every queue: older images, then layers by ``layer_rank`` (the
        # critical path first: mapping.lower._ranks);
        # first come, first served among equals. Ranking by position in the order, as until
        # the twenty-first session, made parallel branches unequal (the first listed took
        # the bus; a conv split into two branches took 10 % more cycles than with groups=2)
        # and results depend on how a file lists independent layers (BERT-base up to 1.5 %
        # across listings; now 0.02 %). Without the
        # layer rank, queues were first come first served at batch 1, and more DRAM bandwidth
        # could make a run slower: later groups' weights and spilled operands, fetched sooner,
        # took the bus ahead of the layers in flight (BERT-base on cim-128x128-rram: 8.5 %
        # more cycles at 8x the bandwidth). Work shared by the batch ranks with its first
        # image, except weight loads and writes, which rank with its last: they can start only
        # once the tiles' previous holders have run every image, and the images still in
        # flight through earlier layers hold up those holders' successors (ranked with the
        # first image, BERT-base at batch 4 on cim-16x16 took 6.9 % more cycles).
        image = np.maximum(task_image, 0)
        weights = [i for kind, i in self.stages.items()
                   if str(getattr(kind, "value", kind)).startswith("weights:")]
        if weights and task_image.size:
            image = np.where(np.isin(task_stage, weights), image.max(), image)
        ranked_as = task_layer if ranked_as is None else ranked_as
        rank = image * layers + np.asarray(layer_rank, dtype=np.int64)[np.maximum(ranked_as, 0)]
        return Program.from_edges(resource, self.occupancy.take(), self.latency.take(),
                                  self.sources.take(), self.targets.take(), list(self.names),
                                  priority=rank, labels=labels,
                                  resource_group=groups, fan=self.fan.take(),
                                  fan_occupancy=_take(self.pool))


def _concat(chunks: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


def _take(chunks: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    """The chunks joined into one array; the list is emptied so they can be freed."""
    joined = _concat(chunks, dtype)
    chunks.clear()
    return joined


# Vectors of a crossbar part whose inputs may be on their way to its tiles or waiting there
# (assumed: a 16-deep input FIFO per tile). A step's inputs leave the buffer only once the
# tiles have finished the step that many vectors before it (at least two steps back, so that
# fetching overlaps computing). Without this bound a layer's transfers ran ahead of its tiles
# by hundreds of vectors, which no tile can hold, and took the bus from layers running beside
# it: on cim-16x16 a conv split into two parallel branches took 44 % more cycles than the
# same conv with groups=2 (10 % now: the first branch's head start on the bus). Two vectors
# (double-buffered input registers) were tried first: the fetch path's latency then showed
# whenever the bus was shared (VGG-16 on ania-like +35 % in reference mode, BERT-base on
# cim-128x128-rram slower with more DRAM bandwidth); 16 hides it.
INPUT_VECTORS = 16


@dataclass(frozen=True)
class Block:
    """A part's step tasks as _lower_part adds them, apart from their resources and with ids
    counted from 0: per task its slot, occupancy, latency, stage label, image and fan;
    the edges between a step's stages; entry, exit and MVM ids per [image, step]; the
    steps' vector bounds. Parts of the same shape share one (a deep network repeats a few)."""

    slot: np.ndarray
    occupancy: np.ndarray
    latency: np.ndarray
    stage: np.ndarray
    image: np.ndarray
    fan: np.ndarray
    sources: np.ndarray
    targets: np.ndarray
    entry: np.ndarray
    exit: np.ndarray
    mvm_ids: np.ndarray
    mvm: np.ndarray            # slots of MVM stages
    bounds: np.ndarray
    # A block of up to Column.SHORT tasks also as lists: occupancy, latency, stage, image,
    # fan, sources, targets
    short: tuple[list, ...] | None = None


def fifo_steps(n_steps: int, vectors: int) -> int:
    """How many steps ahead of a part's MVMs its inputs may go (INPUT_VECTORS, at least 2)."""
    return max(2, -(-INPUT_VECTORS * n_steps // max(vectors, 1)))


def make_block(slots: tuple[tuple[int, int, int, int | None], ...], kinds: tuple[int, ...],
           is_mvm: tuple[bool, ...], stages: int, vectors: int, n_steps: int, batch: int,
           fan: tuple[int, int] | None) -> Block:
    """The Block of ``slots`` (stage index, occupancy per vector, latency, total cycles per
    pass or None each; see Stage.total) of a part of ``stages`` stages, with stage labels
    ``kinds``, for ``vectors`` vectors per image in ``n_steps`` steps."""
    bounds = (np.arange(n_steps + 1, dtype=np.int64) * vectors) // n_steps
    per_step, total_steps = len(slots), batch * n_steps
    slot_stage = np.array([s[0] for s in slots])
    step_sizes = np.diff(bounds)
    per_image = step_sizes[:, None] * np.array([s[1] for s in slots])[None, :]
    for column, slot in enumerate(slots):
        if slot[3] is not None:     # the pass's total, shared by the steps
            per_image[:, column] = whole_shares(slot[3], bounds)
    occupancy = np.tile(per_image, (batch, 1)).ravel()
    fanned = np.zeros(per_step, dtype=np.int64)
    if fan is not None:
        fanned[fan[0]] = fan[1]
    ids = np.arange(total_steps * per_step, dtype=np.int64).reshape(batch, n_steps, per_step)
    sources, targets = [], []
    for stage in range(stages - 1):
        before = np.flatnonzero(slot_stage == stage)
        after = np.flatnonzero(slot_stage == stage + 1)
        pair = np.broadcast_arrays(ids[:, :, before][:, :, :, None],
                                   ids[:, :, after][:, :, None, :])
        sources.append(pair[0].ravel())
        targets.append(pair[1].ravel())
    mvm = np.flatnonzero(is_mvm)
    mvm_stage = slot_stage[mvm[0]] if mvm.size else -1
    depth = fifo_steps(n_steps, vectors)
    if mvm.size and total_steps > depth:
        # Back-pressure (INPUT_VECTORS): steps in order, images after one another.
        flat = ids.reshape(total_steps, per_step)
        pair = np.broadcast_arrays(flat[:-depth][:, mvm], flat[depth:, :1])
        sources.append(pair[0].ravel())
        targets.append(pair[1].ravel())
    block = Block(np.tile(np.arange(per_step), total_steps), occupancy,
                  np.tile(np.array([s[2] for s in slots], dtype=np.int64), total_steps),
                  np.tile(np.array(kinds, dtype=np.int16), total_steps),
                  np.repeat(np.arange(batch, dtype=np.int32), n_steps * per_step),
                  np.tile(fanned, total_steps), _concat(sources), _concat(targets),
                  ids[:, :, 0], ids[:, :, -1], ids[:, :, np.flatnonzero(slot_stage == mvm_stage)],
                  mvm, bounds)
    if ids.size <= Column.SHORT:
        block = replace(block, short=tuple(array.tolist() for array in (
            block.occupancy, block.latency, block.stage, block.image, block.fan,
            block.sources, block.targets)))
    return block
