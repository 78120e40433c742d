"""The event loop of accelsim.engine.des.run_tasks in plain Python, for programs without fans.

numba's start in a fresh process (its import and loading the compiled loop from its cache)
costs about 0.6 s, and compiling the loop on the very first run several seconds. A program of
a few hundred thousand tasks (a whole network in fast mode) runs in less time than that here,
so a process that has not loaded numba yet runs small programs with this loop
(Program.run decides). The two loops give identical schedules and figures (tested on random
programs); the names and the order of every step follow run_tasks.
"""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np

Array = np.ndarray


def run_tasks_python(resource: Array, occupancy: Array, latency: Array, priority: Array,
                     labels: Array, indegree: Array, successor_ptr: Array,
                     successor_index: Array, n_resources: int, resource_group: Array,
                     ready: Array, start: Array, finish: Array, queued: Array,
                     group_busy: Array) -> int:
    """run_tasks (accelsim.engine.des), same arguments and results."""
    n = int(resource.shape[0])
    res = resource.tolist()
    occ = occupancy.tolist()
    lat = latency.tolist()
    rank = priority.tolist()
    columns = [labels[:, c].tolist() for c in range(labels.shape[1])]
    remaining = indegree.tolist()
    ptr = successor_ptr.tolist()
    succ = successor_index.tolist()
    group_of = resource_group.tolist()
    ready_at = [0] * n
    start_at = [0] * n
    finish_at = [0] * n
    busy = [False] * n_resources
    fifo = n == 0 or int(priority.max()) == int(priority.min())
    queues: list = [deque() for _ in range(n_resources)] if fifo else \
        [[] for _ in range(n_resources)]
    waiting = [0] * len(queued)          # non-empty queues per group
    waiting_since = [0] * len(queued)
    queued_cycles = [0] * len(queued)
    active = [0] * len(group_busy)
    since = [0] * len(group_busy)
    busy_cycles = [0] * len(group_busy)
    heap: list[tuple[int, int, int]] = []
    push, pop = heapq.heappush, heapq.heappop
    arrivals = seq = events = done = now = 0
    targets: list[int] = [i for i in range(n) if remaining[i] == 0]
    low, high = 0, len(targets)
    finished = -1
    while True:
        if finished >= 0:
            finish_at[finished] = now
            done += 1
            targets, low, high = succ, ptr[finished], ptr[finished + 1]
        for j in targets[low:high]:
            if finished >= 0:
                remaining[j] -= 1
                if remaining[j] > 0:
                    continue
            ready_at[j] = now
            r = res[j]
            if r >= 0 and busy[r]:
                queue = queues[r]
                if not queue:
                    q = group_of[r]
                    if waiting[q] == 0:
                        waiting_since[q] = now
                    waiting[q] += 1
                if fifo:
                    queue.append(j)
                else:
                    heapq.heappush(queue, (rank[j] * n + arrivals, j))
                arrivals += 1
                continue
            if r >= 0:
                busy[r] = True
                for column in columns:
                    g = column[j]
                    if g >= 0:
                        if active[g] == 0:
                            since[g] = now
                        active[g] += 1
            start_at[j] = now
            push(heap, (now + occ[j], seq, 2 * j))
            seq += 1
        finished = -1
        while heap:
            now, _, item = pop(heap)
            i = item >> 1
            events += 1
            if not item & 1:                       # the task releases its resource
                r = res[i]
                if r >= 0:
                    for column in columns:
                        g = column[i]
                        if g >= 0:
                            active[g] -= 1
                            if active[g] == 0:
                                busy_cycles[g] += now - since[g]
                    queue = queues[r]
                    if queue:
                        nxt = queue.popleft() if fifo else heapq.heappop(queue)[1]
                        if not queue:
                            q = group_of[r]
                            waiting[q] -= 1
                            if waiting[q] == 0:
                                queued_cycles[q] += now - waiting_since[q]
                        for column in columns:
                            g = column[nxt]
                            if g >= 0:
                                if active[g] == 0:
                                    since[g] = now
                                active[g] += 1
                        start_at[nxt] = now
                        push(heap, (now + occ[nxt], seq, 2 * nxt))
                        seq += 1
                    else:
                        busy[r] = False
                if lat[i] > 0:
                    push(heap, (now + lat[i], seq, 2 * i + 1))
                    seq += 1
                    continue
            finished = i
            break
        if finished < 0:
            break
    if done != n:
        raise RuntimeError("dependency cycle: some tasks never became ready")
    ready[:] = ready_at
    start[:] = start_at
    finish[:] = finish_at
    queued += np.asarray(queued_cycles, dtype=np.int64)
    group_busy += np.asarray(busy_cycles, dtype=np.int64)
    return events


def summarize_groups_numpy(group: Array, occupancy: Array, ready: Array, start: Array,
                           finish: Array, busy: Array, waited: Array, first: Array,
                           last: Array) -> None:
    """summarize_groups (accelsim.engine.des) with numpy, same arguments and results."""
    mine = group >= 0
    g = group[mine]
    np.add.at(busy, g, occupancy[mine])
    np.add.at(waited, g, (start - ready)[mine])
    np.minimum.at(first, g, start[mine])
    np.maximum.at(last, g, finish[mine])
