"""Lowering plans to a Program: steps of vectors, their tasks, resources and dependencies.

Each part processes its output vectors in steps. A step runs the part's stages in order
(buffer read -> bus -> crossbar -> bus -> digital -> buffer write); steps of successive vectors
and of other layers overlap wherever resources allow. A step of a consumer starts once the
producer steps holding the inputs it needs are done (for a conv: the input rows under its
window), so layers pipeline within an image and images stream through resident layers.

fast mode: up to ``max_steps`` steps per layer, shared by the layer's parts and the batch's
images (each image gets at least one step per part), the part's tiles as one resource (they
work in lockstep, so this is exact for them). The number of tasks therefore grows with the
network, not with the batch or the parts a layer is cut into. reference mode: one step per
vector and one task per tile MVM.

execution: "pipelined" (the above), or "layer_by_layer": a layer starts (its first step, its
tiles' programming) once every task of the layer before it in topological
order is done, for every image of the batch, so no two layers ever overlap.

Weight writes (a network larger than the chip, or preload_weights=False): a part's weights are
read from DRAM, sent over the bus in chunks (CHUNK_CYCLES) and written into its tiles once
every part that last held those tiles (Placement.previous) has run all its MVMs, which a
zero-time release task of that part marks. The rest of the chip runs on meanwhile. The part's
steps start (their inputs read and sent to the tiles) once the last chunk has arrived, and
their MVMs once the weights are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accelsim.engine.program import Program
from accelsim.hardware.plan import (
    DRAM,
    LayerPlan,
    PartPlan,
    Resource,
    ResourceKind,
    StageKind,
    UnitKind,
)
from accelsim.mapping.place import Placement
from accelsim.mapping.runs import Runs
from accelsim.mapping.siblings import senders
from accelsim.mapping.tasks import Tasks, fifo_steps, stage_shape, steps


@dataclass(frozen=True)
class Lowered:
    program: Program
    part_tasks: dict[tuple[str, int], tuple[int, int]]     # (layer, part) -> task id range
    programming_tasks: dict[tuple[str, int], tuple[int, int]]
    placement: Placement
    written_in_run: frozenset[tuple[str, int]]     # parts whose weight writes the run counts
    task_layer: np.ndarray          # per task: index into the plans (-1: a layer barrier)
    task_stage: np.ndarray          # per task: index into stage_names
    stage_names: tuple[str, ...]
    task_image: np.ndarray          # per task: image of the batch (-1: shared, e.g. weights)


# Bytes of memory per task and per dependency edge while lowering and simulating (peak RSS
# over tasks of ResNet-18 and MobileNetV2 in reference mode, about 210 bytes per task with
# 2 to 4 edges each, rounded up: see benchmarks/memory.py).
BYTES_PER_TASK = 160
BYTES_PER_EDGE = 40
BYTES_PER_SUBTASK = 4       # a fan's subtask: its place in its tile's queue


def footprint(plans: list[LayerPlan], *, chip_tiles: int, batch: int = 1,
              mode: str = "fast", max_steps: int = 2048,
              preload_weights: bool = True, execution: str = "pipelined",
              fans: bool = True) -> tuple[int, int, int]:
    """(tasks, dependency edges, subtasks of fans) that lower() would build, counted without
    building them, so a run too large for memory can be refused before it starts. (Parts
    fill the chip in order, so they need more than one layer group only when their tiles
    exceed it; sharing tiles may then still avoid it, so the count is an upper bound.)"""
    tiles = sum(part.tiles for plan in plans for part in plan.parts if part.unit == UnitKind.CIM)
    groups = 2 if tiles > chip_tiles else 1
    programmed = groups > 1 or not preload_weights
    tasks = edges = subtasks = 0
    fans = fans and mode == "reference"
    for plan in plans:
        budget = max(1, max_steps // len(plan.parts))
        for part in plan.parts:
            inputs = len(part.needs)
            if part.unit == UnitKind.VIEW:
                n = steps(part.vectors, mode, budget, batch)
                tasks += batch * n
                edges += batch * n * inputs
                continue
            if part.folds is not None:
                passes = batch // part.images
                n = steps(part.folds.shape[0], mode, budget, passes)
                chain = passes * n * len(part.stages)
                tasks += chain
                edges += chain + passes * n * inputs * batch
                continue
            n = steps(part.vectors, mode, budget, batch)
            tiles = part.tiles if mode == "reference" and part.unit == UnitKind.CIM else 1
            if fans and tiles > 1:          # a step's MVMs are one task, a fan
                subtasks += batch * n * tiles
                tiles = 1
            slots = len(part.stages) + tiles - 1
            tasks += batch * n * slots
            edges += batch * n * (slots + tiles + inputs)
            if part.unit == UnitKind.CIM:       # back-pressure (tasks.INPUT_VECTORS)
                edges += batch * n * tiles
            if part.inputs_from is not None:    # inputs from a sibling (mapping.siblings)
                edges += batch * n * (1 + tiles)
            if programmed and part.programming is not None:
                leading = (len(part.programming.stages) - 1) * chunks(part.programming.stages)
                tasks += leading + tiles
                edges += 2 * leading + tiles + batch * n * (tiles + 1)
            if groups > 1 and part.unit == UnitKind.CIM:
                # every MVM precedes the part's release (when a later group rewrites its
                # tiles), which the writes of the parts that rewrite them wait for
                tasks += 1
                edges += batch * n * tiles + 2
    if execution == "layer_by_layer":
        # A barrier after each layer waits for all of its tasks; the next layer's entries
        # wait for it (at most as many edges again as there are tasks).
        edges += 2 * tasks
        tasks += len(plans)
    return tasks, edges, subtasks


def lower(plans: list[LayerPlan], *, placement: Placement, batch: int = 1,
          mode: str = "fast", max_steps: int = 2048, preload_weights: bool = True,
          dram_channels: int = 1, execution: str = "pipelined", on_layer=None,
          fans: bool = True) -> Lowered:
    """Build the Program for ``batch`` images. See the module docstring for the modes and
    the execution orders. ``on_layer(1, name)`` is called after each layer (progress).
    ``fans``: in reference mode, a step's MVMs on a part's tiles are one task of the engine
    (a fan, the same schedule with the memory of one task); False gives each its own task,
    as a trace of every tile needs."""
    # Weights are written in the run where they are not preloaded: every part's when
    # preloading is off, else, pipelined, those of parts whose tiles change hands between
    # layer groups (the rest stay resident from image to image, a one-time cost reported
    # apart). Layer by layer, a network that does not fit loads every layer's weights in
    # its turn, as the analytical tools it compares with do.
    serial = execution == "layer_by_layer"
    every = not preload_weights or (serial and placement.groups > 1)
    written_in_run = frozenset(
        (part.layer, part.part) for plan in plans for part in plan.parts
        if part.programming is not None
        and (every or placement.rewritten((part.layer, part.part))))
    used = max((placement.first_tile[(part.layer, part.part)] + part.tiles
                for plan in plans for part in plan.parts
                if (part.layer, part.part) in placement.first_tile), default=0)
    tasks = Tasks(dram_channels, fans and mode == "reference", used)
    exits: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    part_tasks, programming_tasks = {}, {}
    released: dict[tuple[str, int], int] = {}   # part -> its release (see _release)
    previous_layer: int | None = None     # layer by layer: the barrier after the last layer
    steps_wanted: dict = {}               # see _wanted
    # Parts whose input transfers feed siblings' tiles (mapping.siblings): their [image,
    # step] bus transfers and entries, for the siblings lowered after them.
    sending = senders(plans)
    sent: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
    shared: list[tuple[np.ndarray, int]] = []     # a sender's transfer tasks, a sibling
    # Runs of identical layers (mapping.runs), in fast mode's pipelined order on one channel
    runs = (Runs(tasks, placement, written_in_run, batch, max_steps, exits, released,
                 sending)
            if mode == "fast" and not serial and dram_channels == 1 else None)
    for plan_index, plan in enumerate(plans):
        if runs is not None and runs.counted(plans, plan_index, part_tasks,
                                             programming_tasks):
            if on_layer is not None:
                on_layer(1, plan.name)
            continue
        tasks.layer = plan_index
        layer_first = tasks.count
        layer_exits = []
        previous_part = None
        wanted = {}       # producer -> its exit step each of this layer's steps waits for
        for part in plan.parts:
            key = (part.layer, part.part)
            first = tasks.count
            budget = max(1, max_steps // len(plan.parts))      # steps of this part, all images
            entry, exit_, mvm, bounds, exit_bounds = _lower_part(
                part, tasks, placement, batch, mode, budget,
                _view_bounds(part, exits) if part.unit == UnitKind.VIEW else None)
            if previous_layer is not None:
                tasks.edges(previous_layer, entry)
            for producer, need in part.needs:
                producer_exit, producer_bounds = exits[producer]
                if producer not in wanted:     # the parts of a layer share their steps
                    wanted[producer] = _wanted(need, bounds, producer_bounds, steps_wanted)
                steps_needed = wanted[producer]
                if steps_needed[0] < 0:    # the first steps need none of it (rows above it)
                    waits = steps_needed >= 0
                    tasks.edges(producer_exit[:, steps_needed[waits]], entry[:, waits])
                else:
                    tasks.edges(producer_exit[:, steps_needed], entry)
            if part.carries_from_previous_part and previous_part is not None:
                tasks.edges(previous_part, entry)
            if key in sending:
                # a step's tasks are its slots in stage order up to the MVMs
                bus_in = [stage.kind for stage in part.stages].index(StageKind.BUS_IN)
                sent[key] = (entry + bus_in, entry)
            if part.inputs_from is not None:
                transfers, sender_entry = sent[part.inputs_from]
                _from_sibling(tasks, transfers, sender_entry, entry, mvm, part.vectors)
                shared.append((np.concatenate([transfers.ravel(), sender_entry.ravel()]),
                               plan_index))
            part_tasks[key] = (first, tasks.count)
            if part.unit == UnitKind.CIM:
                if key in written_in_run:
                    begin = tasks.count
                    tiles = None
                    if mode == "reference":
                        first_tile = placement.first_tile[key]
                        tiles = [Resource(ResourceKind.TILE, str(first_tile + t))
                                 for t in range(part.tiles)]
                    # The weights are written once the parts that last held these tiles
                    # have run all their MVMs (the groups of a layer larger than the chip
                    # take the same tiles in turn); the rest of the chip runs on meanwhile.
                    # Layer by layer, also once the layer before is done.
                    after = [released[held] for held in placement.previous.get(key, ())]
                    if previous_layer is not None:
                        after.append(previous_layer)
                    arrived, done = _lower_chain(part.programming.stages, tasks, after=after,
                                                 last_resources=tiles,
                                                 fan=key in tasks.fanned)
                    programming_tasks[key] = (begin, tasks.count)
                    # mvm has shape (images, steps, slots); done has one task per slot (a
                    # fan of writes when the MVMs are fans).
                    tasks.edges(done[None, None, :], mvm)
                    if arrived is not None:
                        # Inputs leave for the tiles once the weights have arrived there (the
                        # last chunk before the write), not earlier: nothing would hold them.
                        tasks.edges(np.full(entry.size, arrived), entry.ravel())
                if key in placement.overwritten:
                    released[key] = _release(tasks, mvm.ravel())
            layer_exits.append((exit_, exit_bounds))
            previous_part = exit_
        exits[plan.name] = _joined(layer_exits, tasks)
        if serial and tasks.count > layer_first:
            previous_layer = _barrier(tasks, np.arange(layer_first, tasks.count))
        if runs is not None:
            runs.lowered(plan, layer_first, part_tasks, programming_tasks)
        if on_layer is not None:
            on_layer(1, plan.name)
    if runs is not None:
        runs.flush()
    task_layer = tasks.layer_labels.take()
    task_image = tasks.image_labels.take()
    task_stage = tasks.stage_labels.take()
    rank = _ranks(plans)
    ranked_as = task_layer
    if shared:
        # A sender's transfers carry its siblings' inputs too: they rank as the most urgent
        # of those layers (v's transfers bring q's and k's as well).
        ranked_as = task_layer.copy()
        for ids, sibling in shared:
            ranked_as[ids] = np.where(rank[sibling] < rank[ranked_as[ids]], sibling,
                                      ranked_as[ids])
    return Lowered(tasks.program(len(plans), task_layer, task_image, task_stage,
                                 rank, ranked_as), part_tasks,
                   programming_tasks, placement, written_in_run, task_layer,
                   task_stage, tuple(tasks.stages), task_image)


def _from_sibling(tasks: Tasks, transfers: np.ndarray, sender_entry: np.ndarray,
                  entry: np.ndarray, mvm: np.ndarray, vectors: int) -> None:
    """A part whose inputs come with a sibling's bus transfers ([image, step] ids, the same
    steps): each step starts once the sibling's transfer of it is done, and the sibling's
    steps leave the buffer only once this part's tiles have room for them as well
    (tasks.fifo_steps: the FIFO its own steps keep)."""
    if transfers.shape != entry.shape:
        raise AssertionError("siblings sharing inputs must have the same steps")
    tasks.edges(transfers.ravel(), entry.ravel())
    total = entry.size
    depth = fifo_steps(entry.shape[1], vectors)
    if total > depth:
        flat = mvm.reshape(total, -1)
        tasks.edges(flat[:-depth], sender_entry.reshape(total)[depth:, None])


def _ranks(plans: list[LayerPlan]) -> np.ndarray:
    """Each plan's rank in the queues: layers with more layers after them on their longest
    path to the network's end come first (the critical path); layers with as many, such as
    parallel branches, are equal and served first come, first served."""
    index = {plan.name: i for i, plan in enumerate(plans)}
    after = np.zeros(len(plans), dtype=np.int64)
    for i in range(len(plans) - 1, -1, -1):
        for part in plans[i].parts:
            for name, _ in part.needs:
                p = index.get(name)
                if p is not None:
                    after[p] = max(after[p], after[i] + 1)
    return after.max(initial=0) - after


def _wanted(need, bounds: np.ndarray, producer_bounds: np.ndarray, known: dict) -> np.ndarray:
    """For each step of a consumer covering vectors ``bounds``, the last step of its producer
    (steps covering ``producer_bounds``) that holds inputs it needs by rule ``need``; ``known``
    keeps the answers (many layers have the same steps)."""
    key = (need, bounds.tobytes(), producer_bounds.tobytes())
    steps = known.get(key)
    if steps is None:
        last = need.last_needed(bounds[1:] - 1, int(producer_bounds[-1]))
        steps = known[key] = np.searchsorted(producer_bounds, last, side="right") - 1
    return steps


def _view_bounds(part: PartPlan, exits: dict) -> np.ndarray:
    """A view's steps: the runs of its vectors that wait for the same steps of its inputs.
    So a view's step is done just when the input steps it needs are, and a consumer reading
    through the view waits for what it would wait for reading the inputs themselves (steps
    of the view's own size would round its needs up a second time)."""
    cuts = [np.array([0, part.vectors])]
    for producer, need in part.needs:
        producer_bounds = exits[producer][1]
        before = None                   # the step needed by the last vector of the last chunk
        for start in range(0, part.vectors, VIEW_CHUNK):   # (memory bounded by the chunk)
            vectors = np.arange(start, min(start + VIEW_CHUNK, part.vectors))
            needed = np.searchsorted(producer_bounds, need.last_needed(
                vectors, int(producer_bounds[-1])), side="right")
            if before is not None and needed[0] != before:
                cuts.append(np.array([start]))
            cuts.append(np.flatnonzero(np.diff(needed)) + 1 + start)
            before = needed[-1]
    return np.unique(np.concatenate(cuts))


VIEW_CHUNK = 1 << 20                    # vectors of a view examined at once


def _lower_part(part: PartPlan, tasks: Tasks, placement: Placement, batch: int, mode: str,
                max_steps: int, view_bounds: np.ndarray | None = None):
    """Add a part's step tasks.

    Returns (entry ids, exit ids, mvm ids, step bounds, exit bounds): entry and exit are
    [image, step] task ids, bounds the vectors each step covers. A systolic part's steps are
    folds: at one image per pass, each covers the vectors its folds reach and hands on those
    they complete (SystolicPart.reach, completes); otherwise the first needs every vector and
    consumers see a single exit, done when its last fold is.
    """
    if part.unit == UnitKind.VIEW:
        # Steps of no work and no resource (``view_bounds``): each is done when the inputs of
        # its vectors are.
        n_steps = view_bounds.size - 1
        ids = tasks.add(np.full(batch * n_steps, -1), 0, 0, "view",
                        np.repeat(np.arange(batch), n_steps)).reshape(batch, n_steps)
        return ids, ids, ids[:, :, None], view_bounds, view_bounds
    if part.folds is not None:
        return _lower_folds(part, tasks, batch, mode, max_steps)
    n_steps = steps(part.vectors, mode, max_steps, batch)
    if mode == "fast" and part.measured is None:
        return _lower_steps(part, tasks, n_steps, batch)
    # value mode's MVM cycles per kept tile and vector (of the batch)
    measured = (part.measured if part.measured is not None
                and part.measured.block_cycles is not None else None)
    slots = []  # (stage index, resource id, occupancy per vector, latency, total)
    fan = None  # reference mode: (slot, tiles) of the MVM fan
    for index, stage in enumerate(part.stages):
        if stage.kind == StageKind.MVM and mode == "reference":
            first = placement.first_tile[(part.layer, part.part)]
            per_tile = part.tile_cycles if measured is None else np.zeros(measured.tiles)
            base = tasks.tiles(first, len(per_tile)) if tasks.fans and len(per_tile) else None
            if base is not None:     # one task stands for the step's MVMs on every tile
                fan = (len(slots), len(per_tile))
                tasks.fanned.add((part.layer, part.part))
                slots.append((index, base, 0, 0, None))
                continue
            for t, cycles in enumerate(per_tile):
                slots.append((index, tasks.resource_id(Resource(ResourceKind.TILE,
                                                                str(first + t))),
                              int(cycles), 0, None))
        else:
            slots.append((index, -1 if stage.resource == DRAM else
                          tasks.resource_id(stage.resource), stage.occupancy,
                          stage.latency, stage.total))
    block = tasks.block(tuple((s[0], s[2], s[3], s[4]) for s in slots),
                        tuple(tasks.stage_id(part.stages[s[0]].kind) for s in slots),
                        tuple(part.stages[s[0]].kind == StageKind.MVM for s in slots),
                        len(part.stages), part.vectors, n_steps, batch, fan)
    total_steps = batch * n_steps
    occupancy = None                 # the block's, unless fans or measurements change it
    if fan is not None:
        # A fan's occupancy is where its tiles' cycles start in the pool: one row per part,
        # or in value mode one per step (each vector's measured cycles).
        slot, count = fan
        occupancy = block.occupancy.reshape(total_steps, len(slots)).copy()
        if measured is None:
            occupancy[:, slot] = tasks.pool_cycles(part.tile_cycles)
        else:
            occupancy[:, slot] = (tasks.pool_cycles(measured.tile_cycles.T)
                                  + count * np.arange(total_steps, dtype=np.int64))
    elif measured is not None:
        # Measured MVM cycles vary by vector: a step takes the sum over its vectors (fast:
        # the slowest tile per vector; reference: each tile its own).
        occupancy = block.occupancy.reshape(total_steps, len(slots)).copy()
        if mode == "reference":
            occupancy[:, block.mvm] = measured.tile_cycles.T
        else:
            slowest = measured.slowest()
            per_image = slowest.reshape(batch, part.vectors)
            occupancy[:, block.mvm[0]] = np.add.reduceat(per_image, block.bounds[:-1],
                                                         axis=1).ravel()
    return _placed(tasks, block, [s[1] for s in slots], total_steps, occupancy)


def _lower_steps(part: PartPlan, tasks: Tasks, n_steps: int, batch: int):
    """_lower_part in fast mode without measurements: one task per stage and step, from the
    block of the part's shape (a deep network lowers many parts of one shape)."""
    shape = (stage_shape(part.stages), part.vectors, n_steps, batch)
    block = tasks.fast_blocks.get(shape)
    if block is None:
        block = tasks.fast_blocks[shape] = tasks.block(
            tuple((index, stage.occupancy, stage.latency, stage.total)
                  for index, stage in enumerate(part.stages)),
            tuple(tasks.stage_id(stage.kind) for stage in part.stages),
            tuple(stage.kind == StageKind.MVM for stage in part.stages),
            len(part.stages), part.vectors, n_steps, batch, None)
    ids = [-1 if stage.resource == DRAM else tasks.resource_id(stage.resource)
           for stage in part.stages]
    return _placed(tasks, block, ids, batch * n_steps)


def _placed(tasks: Tasks, block, ids: list[int], total_steps: int,
            occupancy: np.ndarray | None = None):
    """Add ``block``'s tasks on the slots' resources ``ids`` (-1: DRAM, its channels in turn)
    with ``occupancy`` (None: the block's); returns _lower_part's (entry, exit, mvm ids,
    bounds, exit bounds). A short block with its own occupancy goes in as Python lists (see
    Column)."""
    first = tasks.count
    if occupancy is None and block.short is not None:
        occupancies, latency, stage, image, fan, sources, targets = block.short
        resource = ids * total_steps
        for slot, resource_id in enumerate(ids):
            if resource_id == -1:
                resource[slot::len(ids)] = tasks.dram_ids(total_steps).tolist()
        tasks.add_lists(resource, occupancies, latency, stage, image, fan)
        tasks.edge_lists([source + first for source in sources],
                         [target + first for target in targets])
    else:
        resource = np.asarray(ids, dtype=np.int64)[block.slot].reshape(total_steps, len(ids))
        for slot, resource_id in enumerate(ids):
            if resource_id == -1:
                resource[:, slot] = tasks.dram_ids(total_steps)
        tasks.add(resource, block.occupancy if occupancy is None else occupancy,
                  block.latency, block.stage, block.image, block.fan)
        tasks.sources.put(block.sources + first, block.sources.size)
        tasks.targets.put(block.targets + first, block.targets.size)
    return (block.entry + first, block.exit + first, block.mvm_ids + first, block.bounds,
            block.bounds)


def _lower_folds(part: PartPlan, tasks: Tasks, batch: int, mode: str, max_steps: int):
    """Steps of consecutive folds (one fold per step in reference mode), stages in a chain.

    One pass per image, or a single pass for the whole batch when the part merged it
    (its tasks then belong to no single image)."""
    folds = part.folds
    passes = batch // part.images
    images = np.arange(batch) if passes > 1 or part.images == 1 else np.full(1, -1)
    n_steps = steps(folds.shape[0], mode, max_steps, passes)
    starts = (np.arange(n_steps, dtype=np.int64) * folds.shape[0]) // n_steps
    occupancy = np.add.reduceat(folds, starts, axis=0)                 # [step, stage]
    stages = len(part.stages)
    resource = [-1 if stage.resource == DRAM else tasks.resource_id(stage.resource)
                for stage in part.stages]
    latency = [stage.latency for stage in part.stages]
    kinds = [tasks.stage_id(stage.kind) for stage in part.stages]
    resources = np.tile(np.asarray(resource, dtype=np.int64), (passes * n_steps, 1))
    for index, stage in enumerate(part.stages):
        if stage.resource == DRAM:          # successive transfers take the channels in turn
            resources[:, index] = tasks.dram_ids(passes * n_steps)
    ids = tasks.add(resources.ravel(), np.tile(occupancy.ravel(), passes),
                    np.tile(latency, passes * n_steps), np.tile(kinds, passes * n_steps),
                    np.repeat(images, n_steps * stages)
                    ).reshape(passes, n_steps, stages)
    tasks.edges(ids[:, :, :-1], ids[:, :, 1:])
    if part.reach is not None and passes == batch:
        # A pass per image: each step waits for the inputs of the vectors its folds reach,
        # and hands on the vectors they complete.
        ends = np.append(starts[1:], folds.shape[0]) - 1           # each step's last fold
        step_bounds = np.concatenate(([0], np.maximum.accumulate(part.reach)[ends]))
        exit_bounds = np.concatenate(([0], np.maximum.accumulate(part.completes)[ends]))
        return (ids[:, :, 0], ids[:, :, -1], ids[:, :, :0], step_bounds, exit_bounds)
    # Otherwise the first step needs every input vector, and consumers wait for the last.
    vector_bounds = np.array([0, part.vectors], dtype=np.int64)
    step_bounds = np.full(n_steps + 1, part.vectors, dtype=np.int64)
    step_bounds[0] = 0
    return (ids[:, :, 0], ids[:, -1:, -1], ids[:, :, :0], step_bounds, vector_bounds)


# Weights move to the tiles in chunks of at most this many cycles of each stage before the
# write (DRAM read, bus), so that arbiters interleave them with the traffic of the layers in
# flight, as a DRAM controller or bus arbiter interleaves bursts: one transfer of a whole part's
# weights would hold the bus for up to ~10^5 cycles. At most CHUNKS chunks per part.
CHUNK_CYCLES = 1024
CHUNKS = 256


def chunks(stages) -> int:
    """How many chunks _lower_chain cuts a weight load into."""
    longest = max((stage.occupancy for stage in stages[:-1]), default=0)
    return int(min(CHUNKS, max(1, -(-longest // CHUNK_CYCLES))))


def _lower_chain(stages, tasks: Tasks, *, after: Sequence[int] = (),
                 last_resources: list[str] | None = None, fan: bool = False
                 ) -> tuple[int | None, np.ndarray]:
    """A weight load and write: the stages before the last (DRAM read, bus) in chunks (see
    CHUNK_CYCLES), each chunk's stages in order and each stage's chunks in order, the first
    chunk once every task of ``after`` is done; then the last stage (the write), once every
    chunk has arrived. Returns the last chunk's last task (None without stages before the
    write) and the final task ids.

    ``last_resources`` splits the final stage into one task per resource (reference mode:
    each tile writes its own rows), or with ``fan`` into one fan over them (consecutive ids).
    """
    *leading, final = stages
    names = last_resources or [final.resource]
    count = chunks(stages)
    resource, occupancy, latency, kinds = [], [], [], []
    for chunk in range(count):
        for stage in leading:
            resource.append(tasks.dram_id() if stage.resource == DRAM
                            else tasks.resource_id(stage.resource))
            occupancy.append(stage.occupancy * (chunk + 1) // count
                             - stage.occupancy * chunk // count)
            latency.append(stage.latency)
            kinds.append(tasks.stage_id(f"weights:{stage.kind}"))
    finals = 1 if fan else len(names)
    if fan:
        resource.append(tasks.resource_id(names[0]))
        occupancy.append(tasks.pool_cycles(np.full(len(names), final.occupancy)))
    else:
        resource += [tasks.resource_id(name) for name in names]
        occupancy += [final.occupancy] * finals
    kinds += [tasks.stage_id(f"weights:{final.kind}")] * finals
    latency += [final.latency] * finals
    first = tasks.add_lists(resource, occupancy, latency, kinds, [-1] * len(kinds),
                            [0] * (count * len(leading)) + [len(names) if fan else 0] * finals)
    width = len(leading)
    done = list(range(first + count * width, tasks.count))
    entry = [first] if width else done
    if after:
        tasks.edge_lists([a for a in after for _ in entry], list(entry) * len(after))
    if not width:
        return None, np.asarray(done, dtype=np.int64)
    # task (chunk c, stage s) is first + c * width + s; it waits for (c, s - 1), (c - 1, s)
    along = [first + c * width + s for c in range(count) for s in range(width - 1)]
    across = list(range(first, first + (count - 1) * width))
    tasks.edge_lists(along + across, [t + 1 for t in along] + [t + width for t in across])
    arrived = first + count * width - 1
    tasks.edge_lists([arrived] * len(done), done)
    return arrived, np.asarray(done, dtype=np.int64)


def _joined(layer_exits: list[tuple[np.ndarray, np.ndarray]], tasks: Tasks):
    """A layer's exit tasks and step bounds as its consumers see them. A layer cut into
    parts gets zero-time join tasks, one per image and step, done when every part's step is:
    consumers wait for those instead of for every part (which would take parts x parts
    dependencies)."""
    if len(layer_exits) == 1:
        return layer_exits[0]
    exit_, bounds = layer_exits[0]
    joins = tasks.add(np.full(exit_.size, -1), 0, 0, "join",
                      np.repeat(np.arange(exit_.shape[0]), exit_.shape[1])
                      if exit_.shape[0] > 1 else -1).reshape(exit_.shape)
    for part_exit, _ in layer_exits:
        tasks.edges(part_exit, joins)
    return joins, bounds


def _release(tasks: Tasks, ids: np.ndarray) -> int:
    """A zero-time task of the current layer, done when every task of ``ids`` is: a part's
    MVMs (every image's), after which its tiles may be rewritten by a later layer group."""
    release = tasks.add_lists([-1], [0], [0], [tasks.stage_id("barrier")], [-1], [0])
    if ids.size <= 64:
        tasks.edge_lists(ids.tolist(), [release] * ids.size)
    else:
        tasks.edges(ids, np.full(ids.size, release))
    return release


def _barrier(tasks: Tasks, ids: np.ndarray) -> int:
    """_release of no layer: in layer-by-layer order, done when every task of a layer is."""
    layer, tasks.layer = tasks.layer, -1
    barrier = _release(tasks, ids)
    tasks.layer = layer
    return barrier
