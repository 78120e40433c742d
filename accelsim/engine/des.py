"""The discrete-event core: tasks wait for their dependencies and then for their resource.

Vocabulary follows SimPy: an event heap ordered by (time, sequence), the sequence number making
ties FIFO and runs deterministic. Times are integer cycles. Each resource serves one task at a
time in arrival order. A task holds its resource for ``occupancy`` cycles and is done
``latency`` cycles after releasing it (pipelined delay that does not block the resource).
"""

from __future__ import annotations

import numpy as np

from accelsim._jit import jit

_RELEASE = 0
_DONE = 1


@jit
def _push(heap_time, heap_seq, heap_item, size, time, seq, item):
    """Insert (time, seq, item) into the binary heap of ``size`` entries; returns new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if heap_time[parent] < time or (heap_time[parent] == time and heap_seq[parent] < seq):
            break
        heap_time[i] = heap_time[parent]
        heap_seq[i] = heap_seq[parent]
        heap_item[i] = heap_item[parent]
        i = parent
    heap_time[i] = time
    heap_seq[i] = seq
    heap_item[i] = item
    return size + 1


@jit
def _pop(heap_time, heap_seq, heap_item, size):
    """Remove the smallest entry (left in slot ``size - 1``); returns new size."""
    last = size - 1
    top_time, top_seq, top_item = heap_time[0], heap_seq[0], heap_item[0]
    time, seq, item = heap_time[last], heap_seq[last], heap_item[last]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= last:
            break
        right = child + 1
        if right < last and (heap_time[right] < heap_time[child] or (
                heap_time[right] == heap_time[child] and heap_seq[right] < heap_seq[child])):
            child = right
        if time < heap_time[child] or (time == heap_time[child] and seq < heap_seq[child]):
            break
        heap_time[i] = heap_time[child]
        heap_seq[i] = heap_seq[child]
        heap_item[i] = heap_item[child]
        i = child
    heap_time[i] = time
    heap_seq[i] = seq
    heap_item[i] = item
    heap_time[last] = top_time
    heap_seq[last] = top_seq
    heap_item[last] = top_item
    return last


@jit
def run_tasks(resource, occupancy, latency, indegree, successor_ptr, successor_index,
              n_resources, ready, start, finish):
    """Simulate every task; fills ``ready`` (dependencies done), ``start`` and ``finish``
    (cycles). Returns the number of events handled.

    resource[i] is the task's resource (-1: none), successor_ptr/successor_index the CSR list
    of tasks that depend on task i. Raises if a dependency cycle leaves tasks unfinished.
    """
    n = resource.shape[0]
    remaining = indegree.copy()
    roots = np.flatnonzero(indegree == 0)
    busy = np.zeros(n_resources, dtype=np.bool_)
    queue_head = np.full(n_resources, -1, dtype=np.int64)
    queue_tail = np.full(n_resources, -1, dtype=np.int64)
    queue_next = np.full(n, -1, dtype=np.int64)
    capacity = 2 * n + 1
    heap_time = np.empty(capacity, dtype=np.int64)
    heap_seq = np.empty(capacity, dtype=np.int64)
    heap_item = np.empty(capacity, dtype=np.int64)
    size = 0
    seq = 0
    events = 0
    done = 0
    now = 0
    finished = -1   # the task just done; -1 is a virtual task, done at 0, preceding the roots
    while True:
        # Tasks that depend on `finished` and have nothing else to wait for become ready now:
        # each starts at once if its resource is free, else joins the resource's queue.
        if finished < 0:
            targets, low, high = roots, 0, roots.shape[0]
        else:
            finish[finished] = now
            done += 1
            targets = successor_index
            low, high = successor_ptr[finished], successor_ptr[finished + 1]
        for e in range(low, high):
            j = targets[e]
            if finished >= 0:
                remaining[j] -= 1
                if remaining[j] > 0:
                    continue
            ready[j] = now
            r = resource[j]
            if r >= 0 and busy[r]:
                if queue_tail[r] < 0:
                    queue_head[r] = j
                else:
                    queue_next[queue_tail[r]] = j
                queue_tail[r] = j
            else:
                if r >= 0:
                    busy[r] = True
                start[j] = now
                size = _push(heap_time, heap_seq, heap_item, size, now + occupancy[j], seq,
                             2 * j + _RELEASE)
                seq += 1
        # Advance to the next task that is done.
        finished = -1
        while size > 0:
            size = _pop(heap_time, heap_seq, heap_item, size)
            now = heap_time[size]
            item = heap_item[size]
            i = item >> 1
            events += 1
            if (item & 1) == _RELEASE:
                r = resource[i]
                if r >= 0:
                    nxt = queue_head[r]
                    if nxt >= 0:
                        queue_head[r] = queue_next[nxt]
                        if queue_head[r] < 0:
                            queue_tail[r] = -1
                        start[nxt] = now
                        size = _push(heap_time, heap_seq, heap_item, size,
                                     now + occupancy[nxt], seq, 2 * nxt + _RELEASE)
                        seq += 1
                    else:
                        busy[r] = False
                if latency[i] > 0:
                    size = _push(heap_time, heap_seq, heap_item, size, now + latency[i], seq,
                                 2 * i + _DONE)
                    seq += 1
                    continue
            finished = i
            break
        if finished < 0:
            break
    if done != n:
        raise RuntimeError("dependency cycle: some tasks never became ready")
    return events


@jit
def summarize_groups(group, occupancy, ready, start, finish, busy, waited, first, last):
    """Per group (a resource, an image...; group -1 is skipped) of the tasks: total occupancy,
    total cycles waited between ready and start, first start and last finish.

    ``first`` must come filled with a large value and ``last`` with 0.
    """
    for i in range(group.shape[0]):
        g = group[i]
        if g < 0:
            continue
        busy[g] += occupancy[i]
        waited[g] += start[i] - ready[i]
        if start[i] < first[g]:
            first[g] = start[i]
        if finish[i] > last[g]:
            last[g] = finish[i]
