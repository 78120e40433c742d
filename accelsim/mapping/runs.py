"""Runs of identical layers, lowered at once (a deep network repeats one layer many times).

lower() lowers a layer the general way and records what that added as a Template: the layer's
tasks, its edges, and which edges come from outside it (its producer's exit steps, the
releases of the parts whose tiles its weight writes take), all counted from its first task. A
following layer whose part, producer, layer group and resources match the template's
(Runs.replay checks them) is only counted: it takes the next task ids, and its tasks and edges
go in with the rest of its run as arrays when the run ends (Runs.flush, before any other layer
adds tasks). Task ids, resource ids and each task's successors come out in the same order as
the general path gives them (tests/test_reuse.py compares whole programs), so the schedule is
the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.hardware.plan import UnitKind
from accelsim.mapping.tasks import Tasks, stage_shape, steps


@dataclass
class Template:
    """What the general path added for one layer, counted from its first task."""

    signature: tuple
    resources: tuple               # per stage (part, then programming): a shared Resource,
    #                                or the index of one of the layer's own (new) resources
    own: tuple[int, ...]           # per own resource, the stage it is first at (in order)
    own_slot: np.ndarray           # per task: which own resource it runs on, or -1
    columns: tuple[np.ndarray, ...]   # resource, occupancy, latency, stage, image, fan
    internal: tuple[np.ndarray, np.ndarray]   # edges within the layer
    from_producer: tuple[np.ndarray, np.ndarray]   # producer exit positions, targets
    from_after: tuple[np.ndarray, np.ndarray]   # edges from the releases the weight writes
    #                                wait for: which of the layer's releases, targets
    release: int | None            # the layer's own release (see lower._release), if any
    producer_shape: tuple
    producer_bounds: np.ndarray
    exit: np.ndarray
    bounds: np.ndarray
    part: tuple[int, int]
    programming: tuple[int, int] | None
    tasks: int


class Runs:
    """Templates and the pending run of one lower() call (see the module docstring)."""

    def __init__(self, tasks: Tasks, placement, written: frozenset, batch: int,
                 max_steps: int, exits: dict, released: dict,
                 senders: frozenset = frozenset()) -> None:
        self.tasks = tasks
        self.exits = exits                    # lower()'s, filled for counted layers by flush
        self.released = released             # lower()'s, filled for counted layers by replay
        self.placement = placement
        self.written = written                # parts whose weights the run writes
        self.batch = batch
        self.max_steps = max_steps
        self.senders = senders                # parts whose transfers feed siblings' tiles
        self.template: Template | None = None
        # per counted layer: plan index, first task, own resource ids, the producer exit tasks
        # its edges come from (None: the layer before, counted too), the releases its weight
        # writes wait for, its name
        self.pending: list[tuple[int, int, list[int], np.ndarray | None, list[int], str]] = []
        self.upcoming: tuple | None = None    # the next layer's signature, when worked out
        self.recording: tuple | None = None   # (signature, edges, resources) before a layer

    # -- the calls lower() makes -------------------------------------------------------------
    def counted(self, plans, index: int, part_tasks: dict, programming_tasks: dict) -> bool:
        """Before layer ``index``: True when it was counted into the pending run (lower()
        skips it); else the pending run is added, and the layer, lowered the general way,
        will be recorded as a template when the layer after it looks the same."""
        signature = (self.signature(plans, index) if self.upcoming is None
                     else self.upcoming[0])
        self.upcoming = None
        if self.replay(plans, index, signature, part_tasks, programming_tasks):
            return True
        self.flush()
        self.recording = None
        if signature is not None and index + 1 < len(plans):
            self.upcoming = (self.signature(plans, index + 1),)
            if self.upcoming[0] == signature:
                self.recording = (signature, len(self.tasks.sources), len(self.tasks.names))
        return False

    def lowered(self, plan, first: int, part_tasks: dict, programming_tasks: dict) -> None:
        """After a layer lowered the general way (its tasks from ``first``)."""
        if self.recording is None:
            self.template = None
            return
        signature, edges, names = self.recording
        part = plan.parts[0]
        key = (part.layer, part.part)
        self.record(plan, signature, first, edges, names, part.needs[0][0],
                    self._after(key, signature), self.released.get(key), part_tasks[key],
                    programming_tasks.get(key))

    # -- when a layer qualifies --------------------------------------------------------------
    def signature(self, plans, index: int):
        """The layer's signature, or None when it cannot be part of a run: one part on the
        step path of fast mode, reading only the layer before it."""
        plan = plans[index]
        if len(plan.parts) != 1 or index == 0:
            return None
        part = plan.parts[0]
        if part.unit == UnitKind.VIEW or part.folds is not None or part.measured is not None \
                or len(part.needs) != 1 or part.needs[0][0] != plans[index - 1].name:
            return None
        key = (part.layer, part.part)
        if key in self.senders:       # lowered the general way: siblings take its transfers
            return None
        placement = self.placement
        group = placement.group.get(key)
        programming = part.programming if key in self.written else None
        n_steps = steps(part.vectors, "fast", max(1, self.max_steps), self.batch)
        return (part.unit, stage_shape(part.stages), part.vectors, n_steps, part.needs[0][1],
                None if programming is None else stage_shape(programming.stages), group,
                len(placement.previous.get(key, ())) if programming is not None else 0,
                key in placement.overwritten)

    def _after(self, key, signature) -> list[int]:
        """The releases a layer's weight writes wait for (lower() gives the same)."""
        if signature[5] is None:
            return []
        return [self.released[held] for held in self.placement.previous.get(key, ())]

    # -- recording ---------------------------------------------------------------------------
    def record(self, plan, signature, first: int, edges_before: int, names_before: int,
               producer: str, after: list[int], release: int | None, part_range,
               programming_range) -> None:
        """Record the layer just lowered the general way (with a signature) as the
        template, or forget the template when the layer cannot be one."""
        self.template = None
        tasks = self.tasks
        count = tasks.count - first
        edges = len(tasks.sources) - edges_before
        sources, targets = tasks.sources.tail(edges), tasks.targets.tail(edges)
        if count <= 0 or ((targets < first) | (targets >= tasks.count)).any():
            return
        part = plan.parts[0]
        stages = list(part.stages) + (list(part.programming.stages)
                                      if signature[5] is not None else [])
        own_resources = list(tasks.names)[names_before:]
        own, where = [], {}
        for j, resource in enumerate(own_resources):
            at = next((i for i, stage in enumerate(stages) if stage.resource == resource), None)
            if at is None or (own and at <= own[-1]):
                return                   # registered in another order than the stages'
            own.append(at)
            where[resource] = j
        resources = tuple(where.get(stage.resource, stage.resource) for stage in stages)
        resource = tasks.resource.tail(count)
        own_slot = np.where(resource >= names_before, resource - names_before, -1)
        producer_exit, producer_bounds = self.exits[producer]
        flat = producer_exit.ravel()
        inside = sources >= first
        which = np.full(sources.size, -1, dtype=np.int64)
        for k, task in enumerate(after):
            which[sources == task] = k
        from_after = which >= 0
        outside = ~inside & ~from_after
        positions = np.full(sources.size, -1, dtype=np.int64)
        if outside.any():
            lookup = {int(task): position for position, task in enumerate(flat.tolist())}
            found = [lookup.get(int(task), -1) for task in sources[outside].tolist()]
            if min(found) < 0:
                return                   # an edge from elsewhere: no template
            positions[outside] = found
        exit_ids, bounds = self.exits[plan.name]
        self.template = Template(
            signature, resources, tuple(own), own_slot,
            (resource, tasks.occupancy.tail(count), tasks.latency.tail(count),
             tasks.stage_labels.tail(count), tasks.image_labels.tail(count),
             tasks.fan.tail(count)),
            (sources[inside] - first, targets[inside] - first),
            (positions[outside], targets[outside] - first),
            (which[from_after], targets[from_after] - first),
            None if release is None else release - first,
            producer_exit.shape, producer_bounds, exit_ids - first, bounds,
            (part_range[0] - first, part_range[1] - first),
            None if programming_range is None
            else (programming_range[0] - first, programming_range[1] - first), count)

    # -- replaying ---------------------------------------------------------------------------
    def replay(self, plans, index: int, signature, part_tasks: dict,
               programming_tasks: dict) -> bool:
        """Count layer ``index`` into the pending run if it matches the template; False to
        lower it the general way."""
        template = self.template
        if template is None or signature is None or signature != template.signature:
            return False
        plan = plans[index]
        part = plan.parts[0]
        producer = part.needs[0][0]
        sources = None          # the layer before, counted too: the template's exit steps
        if not self.pending or self.pending[-1][5] != producer:
            producer_exit, producer_bounds = self.exits[producer]
            if producer_exit.shape != template.producer_shape or not (
                    producer_bounds is template.producer_bounds
                    or np.array_equal(producer_bounds, template.producer_bounds)):
                return False
            sources = producer_exit.ravel()[template.from_producer[0]]
        stages = list(part.stages)
        if template.signature[5] is not None:
            stages += part.programming.stages
        names = self.tasks.names
        fresh: dict = {}
        for stage, expected in zip(stages, template.resources):
            resource = stage.resource
            if type(expected) is int:
                if resource in names or fresh.setdefault(resource, len(fresh)) != expected:
                    return False
            elif resource != expected:
                return False
        if len(fresh) != len(template.own):
            return False
        own_ids = [self.tasks.resource_id(stages[at].resource) for at in template.own]
        key = (part.layer, part.part)
        first = self.tasks.count
        self.tasks.count += template.tasks
        self.pending.append((index, first, own_ids, sources, self._after(key, signature),
                             plan.name))
        if template.release is not None:
            self.released[key] = first + template.release
        part_tasks[key] = (first + template.part[0], first + template.part[1])
        if template.programming is not None:
            programming_tasks[key] = (first + template.programming[0],
                                      first + template.programming[1])
        return True

    def flush(self) -> None:
        """Add the pending run's tasks and edges (before any other layer adds its own)."""
        if not self.pending:
            return
        template, tasks, pending = self.template, self.tasks, self.pending
        self.pending = []
        runs = len(pending)
        per = template.tasks
        firsts = np.array([first for _, first, *_ in pending], dtype=np.int64)
        resource, occupancy, latency, stage, image, fan = template.columns
        resources = np.tile(resource, (runs, 1))
        if template.own:
            own = np.array([ids for _, _, ids, *_ in pending], dtype=np.int64)
            mine = template.own_slot >= 0
            resources[:, mine] = own[:, template.own_slot[mine]]
        n = runs * per
        tasks.resource.put(resources.ravel(), n)
        tasks.occupancy.put(np.tile(occupancy, runs), n)
        tasks.latency.put(np.tile(latency, runs), n)
        tasks.stage_labels.put(np.tile(stage, runs), n)
        tasks.image_labels.put(np.tile(image, runs), n)
        tasks.fan.put(np.tile(fan, runs), n)
        tasks.layer_labels.put(np.repeat(np.array([index for index, *_ in pending],
                                                  dtype=np.int64), per), n)
        source, target = template.internal
        self._edges(firsts[:, None] + source[None, :], firsts[:, None] + target[None, :])
        positions, target = template.from_producer
        if positions.size:
            # from the exit steps of the layer before: the template's, from its first task
            sources = (firsts - per)[:, None] + template.exit.ravel()[positions][None, :]
            for k, (*_, given, _, _) in enumerate(pending):
                if given is not None:
                    sources[k] = given
            self._edges(sources, firsts[:, None] + target[None, :])
        which, target = template.from_after
        if which.size:
            after = np.array([releases for *_, releases, _ in pending], dtype=np.int64)
            self._edges(after[:, which], firsts[:, None] + target[None, :])
        exits = firsts.reshape((runs,) + (1,) * template.exit.ndim) + template.exit
        for k, (*_, name) in enumerate(pending):
            self.exits[name] = (exits[k], template.bounds)

    def _edges(self, sources: np.ndarray, targets: np.ndarray) -> None:
        self.tasks.sources.put(sources.ravel(), sources.size)
        self.tasks.targets.put(targets.ravel(), targets.size)


__all__ = ["Runs", "Template"]
