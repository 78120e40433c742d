"""The discrete-event core: tasks wait for their dependencies and then for their resource.

Vocabulary follows SimPy: an event heap ordered by (time, sequence), the sequence number making
ties FIFO and runs deterministic. Times are integer cycles. Each resource serves one task at a
time; waiting tasks are served by priority (lower first: a pipeline serves older images and
then the critical path first), and in arrival order among equal priorities. A task holds its
resource for ``occupancy`` cycles and is done ``latency`` cycles after releasing it (pipelined
delay that does not block the resource).
"""

from __future__ import annotations

import numpy as np

from accelsim._jit import jit

Array = np.ndarray

# Kinds of heap entries (item = 2 * task + kind): a task releases its resource; a task is done
# (its latency after the release).
_RELEASE = 0
_DONE = 1


@jit
def _push(heap_time: Array, heap_seq: Array, heap_item: Array, size: int, time: int, seq: int,
          item: int) -> int:
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
def _pop(heap_time: Array, heap_seq: Array, heap_item: Array, size: int) -> int:
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
def _queue_push(keys: Array, items: Array, base: int, size: int, key: int, item: int) -> int:
    """Insert (key, item) into the binary min-heap stored at keys[base:base + size]; returns
    the new size. Keys are unique, so the order is total."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[base + parent] < key:
            break
        keys[base + i] = keys[base + parent]
        items[base + i] = items[base + parent]
        i = parent
    keys[base + i] = key
    items[base + i] = item
    return size + 1


@jit
def _queue_pop(keys: Array, items: Array, base: int, size: int) -> int:
    """Remove the smallest entry of the heap at keys[base:base + size]; returns its item."""
    top = items[base]
    last = size - 1
    key, item = keys[base + last], items[base + last]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= last:
            break
        if child + 1 < last and keys[base + child + 1] < keys[base + child]:
            child += 1
        if key < keys[base + child]:
            break
        keys[base + i] = keys[base + child]
        items[base + i] = items[base + child]
        i = child
    keys[base + i] = key
    items[base + i] = item
    return top


@jit
def _hold(labels: Array, task: int, active: Array, since: Array, now: int) -> None:
    """A task starts holding its resource: its label groups become busy if they were idle."""
    for column in range(labels.shape[1]):
        g = labels[task, column]
        if g >= 0:
            if active[g] == 0:
                since[g] = now
            active[g] += 1


@jit
def _release(labels: Array, task: int, active: Array, since: Array, now: int,
             group_busy: Array) -> None:
    """A task releases its resource: a label group that goes idle adds the cycles it was busy."""
    for column in range(labels.shape[1]):
        g = labels[task, column]
        if g >= 0:
            active[g] -= 1
            if active[g] == 0:
                group_busy[g] += now - since[g]


@jit
def run_tasks(resource: Array, occupancy: Array, latency: Array, priority: Array, labels: Array,
              indegree: Array, successor_ptr: Array, successor_index: Array, n_resources: int,
              resource_group: Array, ready: Array, start: Array, finish: Array, queued: Array,
              group_busy: Array) -> int:
    """Simulate every task; fills ``ready`` (dependencies done), ``start`` and ``finish``
    (cycles), ``queued`` (per resource group, resource_group[r] for resource r: cycles during
    which at least one ready task waited for a resource of the group) and ``group_busy`` (per
    label group: cycles during which at least one of its tasks held a resource). Returns the
    number of events handled.

    labels[i, :] are the label groups of task i (-1: none), e.g. its layer and its unit.

    resource[i] is the task's resource (-1: none), priority[i] its rank in a resource's queue
    (lower is served first; arrival order among equals; 0 <= priority and
    (max priority + 1) * n < 2**63), successor_ptr/successor_index the CSR list of tasks that
    depend on task i. Raises if a dependency cycle leaves tasks unfinished.
    """
    n = resource.shape[0]
    remaining = indegree.copy()
    roots = np.flatnonzero(indegree == 0)
    busy = np.zeros(n_resources, dtype=np.bool_)
    # Per resource, a binary heap of its waiting tasks keyed by priority * n + arrival. Each
    # resource's heap has its own segment of one array, as long as its number of tasks.
    queue_base = np.zeros(n_resources + 1, dtype=np.int64)
    for i in range(n):
        if resource[i] >= 0:
            queue_base[resource[i] + 1] += 1
    for r in range(n_resources):
        queue_base[r + 1] += queue_base[r]
    queue_size = np.zeros(n_resources, dtype=np.int64)
    # With every priority equal (a batch of one) each queue is first come, first served: a
    # ring buffer in the resource's segment, O(1) per task, instead of the heap.
    fifo = n == 0 or priority.max() == priority.min()
    queue_head = np.zeros(n_resources, dtype=np.int64)
    queue_key = np.empty(max(n, 1), dtype=np.int64)
    queue_item = np.empty(max(n, 1), dtype=np.int64)
    queues_waiting = np.zeros(queued.shape[0], dtype=np.int64)   # non-empty queues per group
    queue_since = np.zeros(queued.shape[0], dtype=np.int64)
    arrivals = 0
    active = np.zeros(group_busy.shape[0], dtype=np.int64)
    since = np.zeros(group_busy.shape[0], dtype=np.int64)
    capacity = n + 1          # each task has at most one event pending at a time
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
                if queue_size[r] == 0:
                    q = resource_group[r]
                    if queues_waiting[q] == 0:
                        queue_since[q] = now
                    queues_waiting[q] += 1
                if fifo:
                    span = queue_base[r + 1] - queue_base[r]
                    queue_item[queue_base[r] + (queue_head[r] + queue_size[r]) % span] = j
                    queue_size[r] += 1
                else:
                    queue_size[r] = _queue_push(queue_key, queue_item, queue_base[r],
                                                queue_size[r], priority[j] * n + arrivals, j)
                arrivals += 1
            else:
                if r >= 0:
                    busy[r] = True
                    _hold(labels, j, active, since, now)
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
                    _release(labels, i, active, since, now, group_busy)
                    if queue_size[r] > 0:
                        if fifo:
                            nxt = queue_item[queue_base[r] + queue_head[r]]
                            queue_head[r] = (queue_head[r] + 1) % (queue_base[r + 1]
                                                                   - queue_base[r])
                        else:
                            nxt = _queue_pop(queue_key, queue_item, queue_base[r],
                                             queue_size[r])
                        queue_size[r] -= 1
                        if queue_size[r] == 0:
                            q = resource_group[r]
                            queues_waiting[q] -= 1
                            if queues_waiting[q] == 0:
                                queued[q] += now - queue_since[q]
                        _hold(labels, nxt, active, since, now)
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
def summarize_groups(group: Array, occupancy: Array, ready: Array, start: Array, finish: Array,
                     busy: Array, waited: Array, first: Array, last: Array) -> None:
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
