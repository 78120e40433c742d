"""The event loop for programs with fans: a fan is one task standing for K tasks on K
consecutive resources (a vector's MVM on every tile of a part, in reference mode), scheduled
exactly as the K tasks would be by run_tasks (accelsim.engine.des), with the memory of one.
"""

from __future__ import annotations

import numpy as np

from accelsim._jit import jit
from accelsim.engine.des import _DONE, _RELEASE, _pop, _push

Array = np.ndarray

# Heap entries are 4 * id + kind: a task releases its resource (_RELEASE), a task is done
# (_DONE, its latency after the release), or a run of a fan's subtasks releases (id: a run
# slot).
_RUN = 2


@jit
def _keyed_push(items: Array, key_of: Array, base: int, size: int, item: int) -> int:
    """Insert ``item`` into the binary min-heap stored at items[base:base + size], ordered by
    key_of[item]; returns the new size. Keys are unique, so the order is total."""
    key = key_of[item]
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if key_of[items[base + parent]] < key:
            break
        items[base + i] = items[base + parent]
        i = parent
    items[base + i] = item
    return size + 1


@jit
def _keyed_pop(items: Array, key_of: Array, base: int, size: int) -> int:
    """Remove the entry of smallest key from the heap at items[base:base + size]; returns it."""
    top = items[base]
    last = size - 1
    item = items[base + last]
    key = key_of[item]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= last:
            break
        if child + 1 < last and key_of[items[base + child + 1]] < key_of[items[base + child]]:
            child += 1
        if key < key_of[items[base + child]]:
            break
        items[base + i] = items[base + child]
        i = child
    items[base + i] = item
    return top


# Columns of the engine's per-resource state (one row per resource, so that a tile's
# bookkeeping touches one cache line) and of its per-resource statistics (run_tasks).
_BASE, _SPAN, _HEAD, _SIZE, _BUSY, _GROUP = 0, 1, 2, 3, 4, 5
BUSY, WAITED, FIRST, LAST = 0, 1, 2, 3


@jit
def _labels(labels: Array, task: int, active: Array, since: Array, now: int,
            group_busy: Array, delta: int) -> None:
    """``delta`` (sub)tasks of ``task`` start (> 0) or stop (< 0) holding resources now: a
    label group of the task that was idle becomes busy; one that goes idle adds the cycles
    it was busy."""
    for column in range(labels.shape[1]):
        g = labels[task, column]
        if g >= 0:
            before = active[g]
            active[g] = before + delta
            if before == 0 and active[g] > 0:
                since[g] = now
            elif before > 0 and active[g] == 0:
                group_busy[g] += now - since[g]


@jit
def _begin(j: int, k: int, r: int, now: int, occupancy: Array, fan: Array,
           fan_occupancy: Array, ready: Array, start: Array, state: Array,
           stats: Array) -> int:
    """(Sub)task k of task j starts now on resource r (-1: none); returns when it releases.
    (Its label groups are updated by the caller, once per run.)"""
    if fan[j] == 0:
        start[j] = now
        if r >= 0:
            state[r, _BUSY] = 1
        return now + occupancy[j]
    # A subtask: the fan's start is its first subtask's; the resource's figures are summed
    # here (a task's are summed after the run, from its start and finish).
    cycles = fan_occupancy[occupancy[j] + k]
    if start[j] < 0:
        start[j] = now
    state[r, _BUSY] = 1
    stats[r, BUSY] += cycles
    stats[r, WAITED] += now - ready[j]
    if now < stats[r, FIRST]:
        stats[r, FIRST] = now
    return now + cycles


@jit
def _push_run(heap_time: Array, heap_seq: Array, heap_item: Array, size: int, seq: int,
              run_task: Array, run_low: Array, run_high: Array, free_slots: Array, free: int,
              task: int, low: int, high: int, time: int) -> tuple[int, int, int]:
    """Schedule subtasks low..high of fan ``task`` to release at ``time``; returns the heap's
    new size, the next sequence number and the free run slots left."""
    free -= 1
    slot = free_slots[free]
    run_task[slot] = task
    run_low[slot] = low
    run_high[slot] = high
    return (_push(heap_time, heap_seq, heap_item, size, time, seq, 4 * slot + _RUN), seq + 1,
            free)


@jit
def _enqueue(queue_item: Array, key_of: Array, state: Array, r: int, j: int, fifo: bool,
             key: int, arrivals: int, queues_waiting: Array, queue_since: Array,
             now: int) -> int:
    """Task j (or a subtask of fan j) waits for resource r: at the end of its FIFO ring, or
    in its heap under ``key`` (priority * tasks + arrival). Returns the arrivals counted
    (one more when a task, not a fan, was given its key here)."""
    if state[r, _SIZE] == 0:
        q = state[r, _GROUP]
        if queues_waiting[q] == 0:
            queue_since[q] = now
        queues_waiting[q] += 1
    if fifo:
        at = state[r, _HEAD] + state[r, _SIZE]
        if at >= state[r, _SPAN]:
            at -= state[r, _SPAN]
        queue_item[state[r, _BASE] + at] = j
        state[r, _SIZE] += 1
        return arrivals
    key_of[j] = key
    state[r, _SIZE] = _keyed_push(queue_item, key_of, state[r, _BASE], state[r, _SIZE], j)
    return arrivals + 1


@jit
def _dequeue(queue_item: Array, key_of: Array, state: Array, r: int, fifo: bool,
             queues_waiting: Array, queue_since: Array, queued: Array, now: int) -> int:
    """The next task to hold resource r, taken from its queue."""
    if fifo:
        nxt = int(queue_item[state[r, _BASE] + state[r, _HEAD]])
        state[r, _HEAD] += 1
        if state[r, _HEAD] == state[r, _SPAN]:
            state[r, _HEAD] = 0
    else:
        nxt = int(_keyed_pop(queue_item, key_of, state[r, _BASE], state[r, _SIZE]))
    state[r, _SIZE] -= 1
    if state[r, _SIZE] == 0:
        q = state[r, _GROUP]
        queues_waiting[q] -= 1
        if queues_waiting[q] == 0:
            queued[q] += now - queue_since[q]
    return nxt


@jit
def run_fans(resource: Array, occupancy: Array, latency: Array, priority: Array, labels: Array,
             indegree: Array, successor_ptr: Array, successor_index: Array, fan: Array,
             fan_occupancy: Array, resource_group: Array, ready: Array, start: Array,
             finish: Array, queued: Array, group_busy: Array, stats: Array) -> int:
    """run_tasks for a program with fans: the same arguments and results, and ``stats``
    [resource, (BUSY, WAITED, FIRST, LAST)], the fans' subtasks summed per resource: cycles
    held, cycles waited for it, first start (FIRST must come filled with a large value) and
    last finish (the tasks' own are summed from their start and finish after the run, as
    summarize_groups does). run_tasks is kept for programs without fans: its loop, with less
    state per event, runs them in half the time.

    A fan (fan[i] = K > 0) stands for K tasks that share task i's dependencies, successors,
    priority, labels and latency: subtask k holds resource resource[i] + k for
    fan_occupancy[occupancy[i] + k] cycles (a vector's MVM on each of a part's tiles). It is
    the same as K separate tasks, to the cycle and the event, with memory for one; its start
    is its first subtask's, its finish its last's. Subtasks started together and released
    together are one heap entry (a run), so a fan costs its K tiles' bookkeeping, not K heap
    operations.
    """
    n = resource.shape[0]
    n_resources = stats.shape[0]
    remaining = indegree.copy()
    fan_left = fan.copy()
    roots = np.flatnonzero(indegree == 0)
    # Per resource, the tasks waiting for it: a segment of one array, as long as the number
    # of (sub)tasks that use the resource, as a FIFO ring or as a binary heap by key.
    state = np.zeros((n_resources, 6), dtype=np.int64)
    uses = np.zeros(n_resources + 1, dtype=np.int64)   # differences of the uses per resource
    for i in range(n):
        if resource[i] >= 0:
            uses[resource[i]] += 1
            uses[resource[i] + max(fan[i], 1)] -= 1
    count = 0
    total = 0
    for r in range(n_resources):
        count += uses[r]
        state[r, _BASE] = total
        state[r, _SPAN] = count
        state[r, _GROUP] = resource_group[r]
        total += count
    # With every priority equal (a batch of one) each queue is first come, first served: a
    # ring buffer in the resource's segment, O(1) per task, instead of the heap.
    fifo = n == 0 or priority.max() == priority.min()
    queue_item = np.empty(max(total, 1), dtype=np.int32)
    key_of = np.empty(1 if fifo else n, dtype=np.int64)  # priority * n + arrival
    queues_waiting = np.zeros(queued.shape[0], dtype=np.int64)   # non-empty queues per group
    queue_since = np.zeros(queued.shape[0], dtype=np.int64)
    arrivals = 0
    active = np.zeros(group_busy.shape[0], dtype=np.int64)
    since = np.zeros(group_busy.shape[0], dtype=np.int64)
    # Pending heap entries: one per task at most, and runs, each holding a resource.
    fans = fan.max() > 0 if n else False
    runs = n_resources + 1 if fans else 1
    capacity = n + runs
    heap_time = np.empty(capacity, dtype=np.int64)
    heap_seq = np.empty(capacity, dtype=np.int64)
    heap_item = np.empty(capacity, dtype=np.int64)     # 4 * task or run slot + kind
    run_task = np.empty(runs, dtype=np.int64)
    run_low = np.empty(runs, dtype=np.int64)
    run_high = np.empty(runs, dtype=np.int64)
    free_slots = np.arange(runs)
    free = runs
    size = 0
    seq = 0
    events = 0
    done = 0
    now = 0
    finished = -1   # the task just done; -1 is a virtual task, done at 0, preceding the roots
    while True:
        # Tasks that depend on `finished` and have nothing else to wait for become ready now:
        # each (subtask) starts at once if its resource is free, else joins its queue.
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
            if fan[j] == 0:
                r = resource[j]
                if r >= 0 and state[r, _BUSY]:
                    arrivals = _enqueue(queue_item, key_of, state, r, j, fifo,
                                        priority[j] * n + arrivals, arrivals, queues_waiting,
                                        queue_since, now)
                    continue
                end = _begin(j, 0, r, now, occupancy, fan, fan_occupancy, ready, start, state,
                             stats)
                if r >= 0:
                    _labels(labels, j, active, since, now, group_busy, 1)
                size = _push(heap_time, heap_seq, heap_item, size, end, seq, 4 * j + _RELEASE)
                seq += 1
                continue
            # A fan: its subtasks that start now, in runs of consecutive ones that release
            # together; the others queue.
            start[j] = -1
            stamp = -1
            held = 0
            run_open = False
            run_low_k = run_high_k = run_end = 0
            for k in range(fan[j]):
                r = resource[j] + k
                if state[r, _BUSY]:
                    if stamp < 0 and not fifo:
                        stamp = priority[j] * n + arrivals
                        arrivals += 1
                    _enqueue(queue_item, key_of, state, r, j, fifo, stamp, arrivals,
                             queues_waiting, queue_since, now)
                    if run_open:
                        size, seq, free = _push_run(
                            heap_time, heap_seq, heap_item, size, seq, run_task, run_low,
                            run_high, free_slots, free, j, run_low_k, run_high_k, run_end)
                        run_open = False
                    continue
                end = _begin(j, k, r, now, occupancy, fan, fan_occupancy, ready, start, state,
                             stats)
                held += 1
                if run_open and end == run_end:
                    run_high_k = k
                    continue
                if run_open:
                    size, seq, free = _push_run(
                        heap_time, heap_seq, heap_item, size, seq, run_task, run_low, run_high,
                        free_slots, free, j, run_low_k, run_high_k, run_end)
                run_open = True
                run_low_k = run_high_k = k
                run_end = end
            if run_open:
                size, seq, free = _push_run(
                    heap_time, heap_seq, heap_item, size, seq, run_task, run_low, run_high,
                    free_slots, free, j, run_low_k, run_high_k, run_end)
            if held:
                _labels(labels, j, active, since, now, group_busy, held)
        # Advance to the next task that is done.
        finished = -1
        while size > 0:
            size = _pop(heap_time, heap_seq, heap_item, size)
            now = heap_time[size]
            kind = heap_item[size] & 3
            i = heap_item[size] >> 2
            if kind == _DONE:
                events += max(fan[i], 1)
                finished = i
                break
            if kind == _RELEASE:
                events += 1
                r = resource[i]
                if r >= 0:
                    _labels(labels, i, active, since, now, group_busy, -1)
                    if state[r, _SIZE] == 0:
                        state[r, _BUSY] = 0
                    else:
                        nxt = _dequeue(queue_item, key_of, state, r, fifo, queues_waiting,
                                       queue_since, queued, now)
                        sub = r - resource[nxt]
                        end = _begin(nxt, sub, r, now, occupancy, fan, fan_occupancy, ready,
                                     start, state, stats)
                        if fan[nxt] == 0:
                            size = _push(heap_time, heap_seq, heap_item, size, end, seq,
                                         4 * nxt + _RELEASE)
                            seq += 1
                        else:
                            size, seq, free = _push_run(
                                heap_time, heap_seq, heap_item, size, seq, run_task, run_low,
                                run_high, free_slots, free, nxt, sub, sub, end)
                        _labels(labels, nxt, active, since, now, group_busy, 1)
                if latency[i] > 0:
                    size = _push(heap_time, heap_seq, heap_item, size, now + latency[i], seq,
                                 4 * i + _DONE)
                    seq += 1
                    continue
                finished = i
                break
            # A run of a fan's subtasks releases: each tile takes its next waiting (sub)task,
            # and those that start together and release together form runs again.
            slot = i
            i, low, high = run_task[slot], run_low[slot], run_high[slot]
            free_slots[free] = slot
            free += 1
            events += high - low + 1
            run_open = False
            run_of = run_low_k = run_high_k = run_end = 0
            for k in range(low, high + 1):
                r = resource[i] + k
                if now + latency[i] > stats[r, LAST]:
                    stats[r, LAST] = now + latency[i]
                if state[r, _SIZE] == 0:
                    state[r, _BUSY] = 0
                    continue
                nxt = _dequeue(queue_item, key_of, state, r, fifo, queues_waiting,
                               queue_since, queued, now)
                sub = r - resource[nxt]
                end = _begin(nxt, sub, r, now, occupancy, fan, fan_occupancy, ready, start,
                             state, stats)
                if run_open and nxt == run_of and end == run_end and sub == run_high_k + 1:
                    run_high_k = sub
                    continue
                if run_open:
                    size, seq, free = _push_run(
                        heap_time, heap_seq, heap_item, size, seq, run_task, run_low, run_high,
                        free_slots, free, run_of, run_low_k, run_high_k, run_end)
                    _labels(labels, run_of, active, since, now, group_busy,
                            run_high_k - run_low_k + 1)
                    run_open = False
                if fan[nxt] == 0:
                    size = _push(heap_time, heap_seq, heap_item, size, end, seq,
                                 4 * nxt + _RELEASE)
                    seq += 1
                    _labels(labels, nxt, active, since, now, group_busy, 1)
                    continue
                run_open = True
                run_of = nxt
                run_low_k = run_high_k = sub
                run_end = end
            if run_open:
                size, seq, free = _push_run(
                    heap_time, heap_seq, heap_item, size, seq, run_task, run_low, run_high,
                    free_slots, free, run_of, run_low_k, run_high_k, run_end)
                _labels(labels, run_of, active, since, now, group_busy,
                        run_high_k - run_low_k + 1)
            _labels(labels, i, active, since, now, group_busy, -(high - low + 1))
            fan_left[i] -= high - low + 1
            if fan_left[i] > 0:
                continue
            if latency[i] > 0:
                size = _push(heap_time, heap_seq, heap_item, size, now + latency[i], seq,
                             4 * i + _DONE)
                seq += 1
                continue
            finished = i
            break
        if finished < 0:
            break
    if done != n:
        raise RuntimeError("dependency cycle: some tasks never became ready")
    return events
