"""A Program: the typed arrays of tasks, resources and dependencies that the engine runs."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from accelsim.engine.des import run_tasks, summarize_groups


@dataclass(frozen=True)
class Program:
    """Tasks as parallel arrays; dependencies as a CSR successor list."""

    resource: np.ndarray        # int64 per task, -1 for none
    occupancy: np.ndarray       # int64 cycles the resource is held
    latency: np.ndarray         # int64 cycles from release to done
    successor_ptr: np.ndarray   # int64, len tasks + 1
    successor_index: np.ndarray  # int64
    indegree: np.ndarray        # int64 per task
    resource_names: tuple[str, ...]

    @classmethod
    def from_edges(cls, resource, occupancy, latency, sources, targets,
                   resource_names) -> "Program":
        """Build from task arrays and dependency edges (``sources[e]`` before ``targets[e]``)."""
        n = len(resource)
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        order = np.argsort(sources, kind="stable")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(sources, minlength=n), out=ptr[1:])
        return cls(np.asarray(resource, dtype=np.int64), np.asarray(occupancy, dtype=np.int64),
                   np.asarray(latency, dtype=np.int64), ptr, targets[order],
                   np.bincount(targets, minlength=n).astype(np.int64), tuple(resource_names))

    @property
    def tasks(self) -> int:
        return int(self.resource.size)

    def run(self) -> "Timeline":
        compile_seconds = warm_up()
        ready = np.zeros(self.tasks, dtype=np.int64)
        start = np.zeros(self.tasks, dtype=np.int64)
        finish = np.zeros(self.tasks, dtype=np.int64)
        began = time.perf_counter()
        events = run_tasks(self.resource, self.occupancy, self.latency, self.indegree,
                           self.successor_ptr, self.successor_index,
                           max(1, len(self.resource_names)), ready, start, finish)
        return Timeline(ready, start, finish, int(events), time.perf_counter() - began,
                        compile_seconds)

    def summarize(self, timeline: "Timeline", group: np.ndarray, groups: int) -> dict:
        """Per group of tasks (``group[i]`` in 0..groups-1, or -1 to leave task i out):
        busy cycles, cycles waited for the resource, first start and last finish."""
        busy = np.zeros(groups, dtype=np.int64)
        waited = np.zeros(groups, dtype=np.int64)
        first = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
        last = np.zeros(groups, dtype=np.int64)
        summarize_groups(np.asarray(group, dtype=np.int64), self.occupancy, timeline.ready,
                         timeline.start, timeline.finish, busy, waited, first, last)
        return {"busy": busy, "waited": waited, "first": first, "last": last}


_warm = False


def warm_up() -> float:
    """Compile (or load from numba's cache) the engine once per process; returns seconds spent.

    Keeps compilation out of the event-loop timings that results report.
    """
    global _warm
    if _warm:
        return 0.0
    began = time.perf_counter()
    one = np.zeros(1, dtype=np.int64)
    run_tasks(np.full(1, -1, dtype=np.int64), one, one, one, np.zeros(2, dtype=np.int64),
              np.zeros(0, dtype=np.int64), 1, np.zeros(1, dtype=np.int64),
              np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
    _warm = True
    return time.perf_counter() - began


@dataclass(frozen=True)
class Timeline:
    ready: np.ndarray        # when each task's dependencies were all done
    start: np.ndarray
    finish: np.ndarray
    events: int
    seconds: float           # wall time of the event loop
    compile_seconds: float = 0.0   # numba compile or cache load, first run in a process only

    @property
    def cycles(self) -> int:
        return int(self.finish.max()) if self.finish.size else 0


class ProgramBuilder:
    """Adds tasks one by one (for tests and small hand-built scenarios)."""

    def __init__(self):
        self._resources: dict[str, int] = {}
        self._rows: list[tuple[int, int, int]] = []
        self._edges: list[tuple[int, int]] = []

    def task(self, resource: str | None, occupancy: int, *, latency: int = 0,
             after: tuple[int, ...] | list[int] = ()) -> int:
        """Add a task holding ``resource`` for ``occupancy`` cycles; returns its id."""
        r = -1 if resource is None else self._resources.setdefault(resource,
                                                                   len(self._resources))
        self._rows.append((r, occupancy, latency))
        task = len(self._rows) - 1
        self._edges.extend((before, task) for before in after)
        return task

    def build(self) -> Program:
        rows = np.array(self._rows, dtype=np.int64).reshape(-1, 3)
        edges = np.array(self._edges, dtype=np.int64).reshape(-1, 2)
        return Program.from_edges(rows[:, 0], rows[:, 1], rows[:, 2], edges[:, 0], edges[:, 1],
                                  list(self._resources))
