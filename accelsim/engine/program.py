"""A Program: the typed arrays of tasks, resources and dependencies that the engine runs."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from accelsim.errors import AccelsimError

# Without the C loop (no compiler), the first program of a process, up to this many tasks,
# runs in the Python loop when numba is not loaded yet: it takes less time than numba's start,
# about 0.6 s with a warm cache and seconds of compiling with a cold one (see engine/python.py
# and benchmarks/RESULTS.md).
PYTHON_ENGINE_TASKS = 200_000
ENGINES = ("auto", "native", "numba", "python")
_programs_run = 0


def engine_for(tasks: int, fans: bool) -> str:
    """Which event loop runs a program: $ACCELSIM_ENGINE ("native", "numba", "python" or
    "auto", the default) decides. A program with fans always runs in numba's loop (the only
    one with fans). Otherwise "auto" takes the C loop (engine/native.py) when it is built or
    can be; without it, the Python loop for the first program of a process when numba is not
    loaded yet and the program has at most PYTHON_ENGINE_TASKS tasks (a command-line run),
    and numba otherwise (later runs in a notebook or a sweep then start it once and run
    fast). All give identical results. "native" fails, saying why, when the C loop cannot
    be built."""
    choice = os.environ.get("ACCELSIM_ENGINE", "auto") or "auto"
    if choice not in ENGINES:
        raise AccelsimError(f"ACCELSIM_ENGINE must be one of {', '.join(ENGINES)}, "
                            f"got {choice!r}")
    if fans:
        return "numba"           # only numba's loop has fans
    from accelsim.engine import native
    if choice == "native" and not native.available():
        raise AccelsimError(f"ACCELSIM_ENGINE=native: {native.unavailable_reason()}; unset "
                            "it (or set auto) to fall back to the numba or Python loop")
    if choice == "auto":
        if native.available():
            return "native"
        first = _programs_run == 0 and "numba" not in sys.modules
        return "python" if first and tasks <= PYTHON_ENGINE_TASKS else "numba"
    return choice


def _summarize(*arrays: np.ndarray) -> None:
    """summarize_groups: in C when the C loop is loaded, compiled by numba when numba is,
    else with numpy."""
    from accelsim.engine import native
    if native.loaded():
        native.summarize_groups_native(*arrays)
    elif "numba" in sys.modules:
        from accelsim.engine.des import summarize_groups
        summarize_groups(*arrays)
    else:
        from accelsim.engine.python import summarize_groups_numpy
        summarize_groups_numpy(*arrays)


@dataclass(frozen=True)
class Program:
    """Tasks as parallel arrays; dependencies as a CSR successor list."""

    resource: np.ndarray        # int64 per task, -1 for none
    occupancy: np.ndarray       # int64 cycles the resource is held
    latency: np.ndarray         # int64 cycles from release to done
    successor_ptr: np.ndarray   # int64, len tasks + 1
    successor_index: np.ndarray  # int64
    indegree: np.ndarray        # int64 per task
    resource_names: tuple[Any, ...]   # what each resource id stands for (mapping: Resource)
    priority: np.ndarray        # int64 per task: rank in a resource's queue, lower first
    labels: np.ndarray          # int64 [task, column]: label groups (-1: none), see run()
    label_groups: int           # number of label groups
    resource_group: np.ndarray  # int64 per resource: its group for the waiting-cycle unions
    fan: np.ndarray | None = None           # int64 per task: 0, or K subtasks (see run_tasks)
    fan_occupancy: np.ndarray | None = None  # int64: the subtasks' cycles, from occupancy[i]

    @classmethod
    def from_edges(cls, resource: ArrayLike, occupancy: ArrayLike, latency: ArrayLike,
                   sources: ArrayLike, targets: ArrayLike, resource_names: Sequence[object],
                   priority: ArrayLike | None = None, labels: ArrayLike | None = None,
                   resource_group: ArrayLike | None = None, fan: ArrayLike | None = None,
                   fan_occupancy: ArrayLike | None = None) -> Program:
        """Build from task arrays and dependency edges (``sources[e]`` before ``targets[e]``).

        ``priority`` (default: all equal, so queues are first come, first served) orders the
        tasks waiting for the same resource. ``labels`` [task, column] puts each task in up
        to one label group per column (-1: none, e.g. a layer and a unit); the run reports
        each group's busy cycles (when at least one of its tasks holds a resource).
        ``resource_group`` (default: each resource alone) groups resources whose waiting
        cycles are reported as one (when a task waits for any of them).

        ``fan[i] = K`` makes task i a fan of K subtasks on resources resource[i] ..
        resource[i] + K - 1, subtask k holding its resource ``fan_occupancy[occupancy[i] + k]``
        cycles (see run_tasks): one task's memory for K tile MVMs."""
        task_resource = np.asarray(resource, dtype=np.int64)
        n = task_resource.size
        source = np.asarray(sources, dtype=np.int64)
        target = np.asarray(targets, dtype=np.int64)
        order = np.argsort(source, kind="stable")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(source, minlength=n), out=ptr[1:])
        rank = (np.zeros(n, dtype=np.int64) if priority is None
                else np.asarray(priority, dtype=np.int64))
        if rank.size:
            # The engine keys its queues by rank * tasks + arrival: ranks from 0.
            rank = rank - rank.min()
            if (int(rank.max()) + 1) * max(n, 1) >= 2 ** 62:
                raise ValueError(f"{int(rank.max()) + 1:,} priority levels for {n:,} "
                                 "tasks overflow the engine's queue keys")
        groups_of = (np.full((n, 0), -1, dtype=np.int64) if labels is None
                     else np.asarray(labels, dtype=np.int64).reshape(n, -1))
        fans = np.zeros(n, dtype=np.int64) if fan is None else np.asarray(fan, np.int64)
        pool = (np.zeros(0, dtype=np.int64) if fan_occupancy is None
                else np.asarray(fan_occupancy, dtype=np.int64))
        if fans.size and fans.max() > 0:
            offsets = np.asarray(occupancy, dtype=np.int64)[fans > 0]
            if ((task_resource[fans > 0] < 0).any() or offsets.min() < 0
                    or (offsets + fans[fans > 0]).max() > pool.size):
                raise ValueError("a fan needs a resource and its subtasks' cycles in "
                                 "fan_occupancy")
        if (task_resource + np.maximum(fans, 1)).max(initial=0) > max(1, len(resource_names)):
            raise ValueError("a task's resource is not among resource_names")
        return cls(task_resource, np.asarray(occupancy, dtype=np.int64),
                   np.asarray(latency, dtype=np.int64), ptr, target[order],
                   np.bincount(target, minlength=n).astype(np.int64), tuple(resource_names),
                   rank, groups_of, int(groups_of.max()) + 1 if groups_of.size else 0,
                   np.arange(max(1, len(resource_names)), dtype=np.int64)
                   if resource_group is None else np.asarray(resource_group, dtype=np.int64),
                   fans, pool)

    @property
    def tasks(self) -> int:
        return int(self.resource.size)

    def run(self) -> Timeline:
        if self.tasks >= 2 ** 31:
            raise ValueError(f"{self.tasks:,} tasks exceed the engine's 2**31")
        fan = self.fan if self.fan is not None else np.zeros(self.tasks, dtype=np.int64)
        fans = bool(fan.size) and bool(fan.max() > 0)
        global _programs_run
        engine = engine_for(self.tasks, fans)
        _programs_run += 1
        compile_seconds = warm_up(fans) if engine == "numba" else 0.0
        if engine == "native":
            from accelsim.engine import native
            compile_seconds = native.take_compile_seconds()
        ready = np.zeros(self.tasks, dtype=np.int64)
        start = np.zeros(self.tasks, dtype=np.int64)
        finish = np.zeros(self.tasks, dtype=np.int64)
        n_resources = max(1, len(self.resource_names))
        queued = np.zeros(int(self.resource_group.max()) + 1, dtype=np.int64)
        group_busy = np.zeros(self.label_groups, dtype=np.int64)
        tasks = ResourceSummary(np.zeros(n_resources, dtype=np.int64),
                                np.zeros(n_resources, dtype=np.int64),
                                np.full(n_resources, np.iinfo(np.int64).max, dtype=np.int64),
                                np.zeros(n_resources, dtype=np.int64))
        arguments = (self.resource, self.occupancy, self.latency, self.priority, self.labels,
                     self.indegree, self.successor_ptr, self.successor_index)
        began = time.perf_counter()
        if fans:
            from accelsim.engine.fans import BUSY, FIRST, LAST, WAITED, run_fans
            stats = np.zeros((n_resources, 4), dtype=np.int64)
            stats[:, FIRST] = np.iinfo(np.int64).max
            pool = (self.fan_occupancy if self.fan_occupancy is not None
                    else np.zeros(0, dtype=np.int64))
            events = run_fans(*arguments, fan, pool, self.resource_group, ready, start, finish,
                              queued, group_busy, stats)
            # The fans' subtasks were summed per resource by the engine.
            subtasks = ResourceSummary(*(stats[:, c].copy() for c in (BUSY, WAITED, FIRST,
                                                                      LAST)))
        else:
            if engine == "numba":
                from accelsim.engine.des import run_tasks
                loop: Callable[..., int] = run_tasks
            elif engine == "native":
                from accelsim.engine.native import run_tasks_native
                loop = run_tasks_native
            else:
                from accelsim.engine.python import run_tasks_python
                loop = run_tasks_python
            events = loop(*arguments, n_resources, self.resource_group, ready, start, finish,
                          queued, group_busy)
            subtasks = None
        seconds = time.perf_counter() - began
        _summarize(np.where(fan > 0, -1, self.resource), self.occupancy, ready, start,
                   finish, tasks.busy, tasks.waited, tasks.first, tasks.last)
        if subtasks is not None:
            tasks = ResourceSummary(tasks.busy + subtasks.busy, tasks.waited + subtasks.waited,
                                    np.minimum(tasks.first, subtasks.first),
                                    np.maximum(tasks.last, subtasks.last))
        return Timeline(ready, start, finish, int(events), seconds, compile_seconds, queued,
                        group_busy, tasks, engine)

    def summarize(self, timeline: Timeline, group: np.ndarray, groups: int) -> dict:
        """Per group of tasks (``group[i]`` in 0..groups-1, or -1 to leave task i out):
        busy cycles, cycles waited for the resource, first start and last finish."""
        busy = np.zeros(groups, dtype=np.int64)
        waited = np.zeros(groups, dtype=np.int64)
        first = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
        last = np.zeros(groups, dtype=np.int64)
        _summarize(np.asarray(group, dtype=np.int64), self.occupancy, timeline.ready,
                   timeline.start, timeline.finish, busy, waited, first, last)
        return {"busy": busy, "waited": waited, "first": first, "last": last}


_warm: set[str] = set()


def warm_up(fans: bool = False) -> float:
    """Compile (or load from numba's cache) the engine once per process, with its loop for
    fans when asked; returns seconds spent.

    Keeps compilation out of the event-loop timings that results report. The seconds include
    importing numba, the first time: that is part of loading the engine.
    """
    began = time.perf_counter()
    from accelsim.engine.des import run_tasks

    def zeros(size: int) -> np.ndarray:
        return np.zeros(size, dtype=np.int64)

    common = (np.full(1, -1, dtype=np.int64), zeros(1), zeros(1), zeros(1),
              np.full((1, 1), -1, np.int64), zeros(1), zeros(2), zeros(0))
    if "tasks" not in _warm:
        run_tasks(*common, 1, zeros(1), zeros(1), zeros(1), zeros(1), zeros(1), zeros(0))
        _warm.add("tasks")
    if fans and "fans" not in _warm:
        from accelsim.engine.fans import run_fans
        run_fans(*common, zeros(1), zeros(0), zeros(1), zeros(1), zeros(1), zeros(1),
                 zeros(1), zeros(0), np.zeros((1, 4), dtype=np.int64))
        _warm.add("fans")
    return time.perf_counter() - began


@dataclass(frozen=True)
class ResourceSummary:
    """Per resource, from the engine: cycles held (summed over its tasks), cycles its tasks
    waited for it, first start and last finish (a large value and 0 when never used)."""

    busy: np.ndarray
    waited: np.ndarray
    first: np.ndarray
    last: np.ndarray


@dataclass(frozen=True)
class Timeline:
    ready: np.ndarray        # when each task's dependencies were all done
    start: np.ndarray
    finish: np.ndarray
    events: int
    seconds: float           # wall time of the event loop
    compile_seconds: float = 0.0   # numba's compile or cache load, or building the C loop:
    #                                the first run in a process only
    queued: np.ndarray | None = None      # per resource group: cycles with a task waiting
    group_busy: np.ndarray | None = None  # per label group: cycles with one of its tasks busy
    resources: ResourceSummary | None = None   # per resource
    engine: str = "numba"              # the event loop that ran: native, numba or python

    @property
    def cycles(self) -> int:
        return int(self.finish.max()) if self.finish.size else 0


class ProgramBuilder:
    """Adds tasks one by one (for tests and small hand-built scenarios)."""

    def __init__(self) -> None:
        self._resources: dict[str, int] = {}
        self._rows: list[tuple[int, int, int, int]] = []
        self._edges: list[tuple[int, int]] = []

    def task(self, resource: str | None, occupancy: int, *, latency: int = 0,
             after: tuple[int, ...] | list[int] = (), priority: int = 0) -> int:
        """Add a task holding ``resource`` for ``occupancy`` cycles; returns its id.
        Waiting tasks with a lower ``priority`` get the resource first."""
        r = -1 if resource is None else self._resources.setdefault(resource,
                                                                   len(self._resources))
        self._rows.append((r, occupancy, latency, priority))
        task = len(self._rows) - 1
        self._edges.extend((before, task) for before in after)
        return task

    def build(self) -> Program:
        rows = np.array(self._rows, dtype=np.int64).reshape(-1, 4)
        edges = np.array(self._edges, dtype=np.int64).reshape(-1, 2)
        return Program.from_edges(rows[:, 0], rows[:, 1], rows[:, 2], edges[:, 0], edges[:, 1],
                                  list(self._resources), rows[:, 3])
