/* The event loop of accelsim.engine.des.run_tasks in C, for programs without fans.
 *
 * accelsim/engine/native.py compiles this file once per machine with the system's C compiler
 * (into the user's cache folder, like numba's cache) and calls it through ctypes: a new
 * process then runs a whole network's program without numba's start-up (about 0.6 s) or the
 * Python loop's few microseconds per event. Every step, name and tie-break follows run_tasks,
 * and the tests check that the three loops give the same schedules and figures.
 *
 * All arrays are C-contiguous int64. Returns the number of events handled, -1 when a
 * dependency cycle leaves tasks unfinished, -2 when memory could not be allocated.
 */
#include <stdint.h>
#include <stdlib.h>

typedef int64_t i64;

/* The event heap: entries (time, seq, item) ordered by time, then seq. */
typedef struct {
    i64 *time, *seq, *item;
    i64 size;
} heap_t;

static void heap_push(heap_t *h, i64 time, i64 seq, i64 item)
{
    i64 i = h->size;
    while (i > 0) {
        i64 parent = (i - 1) >> 1;
        if (h->time[parent] < time || (h->time[parent] == time && h->seq[parent] < seq))
            break;
        h->time[i] = h->time[parent];
        h->seq[i] = h->seq[parent];
        h->item[i] = h->item[parent];
        i = parent;
    }
    h->time[i] = time;
    h->seq[i] = seq;
    h->item[i] = item;
    h->size += 1;
}

/* Removes the smallest entry and returns it through the pointers. */
static void heap_pop(heap_t *h, i64 *out_time, i64 *out_item)
{
    i64 last = h->size - 1;
    i64 time = h->time[last], seq = h->seq[last], item = h->item[last];
    i64 i = 0;
    *out_time = h->time[0];
    *out_item = h->item[0];
    for (;;) {
        i64 child = 2 * i + 1;
        if (child >= last)
            break;
        i64 right = child + 1;
        if (right < last && (h->time[right] < h->time[child] ||
                             (h->time[right] == h->time[child] && h->seq[right] < h->seq[child])))
            child = right;
        if (time < h->time[child] || (time == h->time[child] && seq < h->seq[child]))
            break;
        h->time[i] = h->time[child];
        h->seq[i] = h->seq[child];
        h->item[i] = h->item[child];
        i = child;
    }
    h->time[i] = time;
    h->seq[i] = seq;
    h->item[i] = item;
    h->size = last;
}

/* A resource's waiting tasks by priority: a binary min-heap at keys[base:base + size]
 * (keys are unique). */
static i64 queue_push(i64 *keys, i64 *items, i64 base, i64 size, i64 key, i64 item)
{
    i64 i = size;
    while (i > 0) {
        i64 parent = (i - 1) >> 1;
        if (keys[base + parent] < key)
            break;
        keys[base + i] = keys[base + parent];
        items[base + i] = items[base + parent];
        i = parent;
    }
    keys[base + i] = key;
    items[base + i] = item;
    return size + 1;
}

static i64 queue_pop(i64 *keys, i64 *items, i64 base, i64 size)
{
    i64 top = items[base];
    i64 last = size - 1;
    i64 key = keys[base + last], item = items[base + last];
    i64 i = 0;
    for (;;) {
        i64 child = 2 * i + 1;
        if (child >= last)
            break;
        if (child + 1 < last && keys[base + child + 1] < keys[base + child])
            child += 1;
        if (key < keys[base + child])
            break;
        keys[base + i] = keys[base + child];
        items[base + i] = items[base + child];
        i = child;
    }
    keys[base + i] = key;
    items[base + i] = item;
    return top;
}

static void hold(const i64 *labels, i64 columns, i64 task, i64 *active, i64 *since, i64 now)
{
    for (i64 c = 0; c < columns; c++) {
        i64 g = labels[task * columns + c];
        if (g >= 0) {
            if (active[g] == 0)
                since[g] = now;
            active[g] += 1;
        }
    }
}

static void release(const i64 *labels, i64 columns, i64 task, i64 *active, i64 *since, i64 now,
                    i64 *group_busy)
{
    for (i64 c = 0; c < columns; c++) {
        i64 g = labels[task * columns + c];
        if (g >= 0) {
            active[g] -= 1;
            if (active[g] == 0)
                group_busy[g] += now - since[g];
        }
    }
}

static void *zeroed(i64 count)
{
    return calloc((size_t)(count > 0 ? count : 1), sizeof(i64));
}

/* The loop's own state, allocated zeroed by accelsim_run_tasks. */
typedef struct {
    i64 *remaining, *roots, *busy, *queue_base, *queue_size, *queue_head, *queue_key,
        *queue_item, *queues_waiting, *queue_since, *active, *since;
    heap_t heap;
} scratch_t;

static i64 run(scratch_t *w, i64 n, const i64 *resource, const i64 *occupancy,
               const i64 *latency, const i64 *priority, const i64 *labels, i64 label_columns,
               const i64 *indegree, const i64 *successor_ptr, const i64 *successor_index,
               i64 n_resources, const i64 *resource_group, i64 *ready, i64 *start,
               i64 *finish, i64 *queued, i64 *group_busy)
{
    i64 *remaining = w->remaining, *roots = w->roots, *busy = w->busy;
    i64 *queue_base = w->queue_base, *queue_size = w->queue_size, *queue_head = w->queue_head;
    i64 *queue_key = w->queue_key, *queue_item = w->queue_item;
    i64 *queues_waiting = w->queues_waiting, *queue_since = w->queue_since;
    i64 *active = w->active, *since = w->since;
    heap_t *heap = &w->heap;
    i64 n_roots = 0;
    for (i64 i = 0; i < n; i++) {
        remaining[i] = indegree[i];
        if (indegree[i] == 0)
            roots[n_roots++] = i;
        if (resource[i] >= 0)
            queue_base[resource[i] + 1] += 1;
    }
    for (i64 r = 0; r < n_resources; r++)
        queue_base[r + 1] += queue_base[r];
    int fifo = 1;
    for (i64 i = 1; i < n; i++)
        if (priority[i] != priority[0]) {
            fifo = 0;
            break;
        }

    i64 arrivals = 0, seq = 0, events = 0, done_tasks = 0, now = 0;
    i64 finished = -1;  /* the task just done; -1 precedes the roots */
    for (;;) {
        const i64 *targets;
        i64 low, high;
        if (finished < 0) {
            targets = roots;
            low = 0;
            high = n_roots;
        } else {
            finish[finished] = now;
            done_tasks += 1;
            targets = successor_index;
            low = successor_ptr[finished];
            high = successor_ptr[finished + 1];
        }
        for (i64 e = low; e < high; e++) {
            i64 j = targets[e];
            if (finished >= 0) {
                remaining[j] -= 1;
                if (remaining[j] > 0)
                    continue;
            }
            ready[j] = now;
            i64 r = resource[j];
            if (r >= 0 && busy[r]) {
                if (queue_size[r] == 0) {
                    i64 q = resource_group[r];
                    if (queues_waiting[q] == 0)
                        queue_since[q] = now;
                    queues_waiting[q] += 1;
                }
                if (fifo) {
                    i64 span = queue_base[r + 1] - queue_base[r];
                    queue_item[queue_base[r] + (queue_head[r] + queue_size[r]) % span] = j;
                    queue_size[r] += 1;
                } else {
                    queue_size[r] = queue_push(queue_key, queue_item, queue_base[r],
                                               queue_size[r], priority[j] * n + arrivals, j);
                }
                arrivals += 1;
            } else {
                if (r >= 0) {
                    busy[r] = 1;
                    hold(labels, label_columns, j, active, since, now);
                }
                start[j] = now;
                heap_push(heap, now + occupancy[j], seq, 2 * j);
                seq += 1;
            }
        }
        finished = -1;
        while (heap->size > 0) {
            i64 item;
            heap_pop(heap, &now, &item);
            i64 i = item >> 1;
            events += 1;
            if ((item & 1) == 0) {  /* the task releases its resource */
                i64 r = resource[i];
                if (r >= 0) {
                    release(labels, label_columns, i, active, since, now, group_busy);
                    if (queue_size[r] > 0) {
                        i64 next;
                        if (fifo) {
                            next = queue_item[queue_base[r] + queue_head[r]];
                            queue_head[r] = (queue_head[r] + 1) % (queue_base[r + 1] -
                                                                   queue_base[r]);
                        } else {
                            next = queue_pop(queue_key, queue_item, queue_base[r],
                                             queue_size[r]);
                        }
                        queue_size[r] -= 1;
                        if (queue_size[r] == 0) {
                            i64 q = resource_group[r];
                            queues_waiting[q] -= 1;
                            if (queues_waiting[q] == 0)
                                queued[q] += now - queue_since[q];
                        }
                        hold(labels, label_columns, next, active, since, now);
                        start[next] = now;
                        heap_push(heap, now + occupancy[next], seq, 2 * next);
                        seq += 1;
                    } else {
                        busy[r] = 0;
                    }
                }
                if (latency[i] > 0) {
                    heap_push(heap, now + latency[i], seq, 2 * i + 1);
                    seq += 1;
                    continue;
                }
            }
            finished = i;
            break;
        }
        if (finished < 0)
            break;
    }
    return done_tasks == n ? events : -1;
}

i64 accelsim_run_tasks(i64 n, const i64 *resource, const i64 *occupancy, const i64 *latency,
                       const i64 *priority, const i64 *labels, i64 label_columns,
                       const i64 *indegree, const i64 *successor_ptr,
                       const i64 *successor_index, i64 n_resources, const i64 *resource_group,
                       i64 n_queue_groups, i64 n_label_groups, i64 *ready, i64 *start,
                       i64 *finish, i64 *queued, i64 *group_busy)
{
    scratch_t w = {
        zeroed(n), zeroed(n), zeroed(n_resources), zeroed(n_resources + 1),
        zeroed(n_resources), zeroed(n_resources), zeroed(n), zeroed(n),
        zeroed(n_queue_groups), zeroed(n_queue_groups), zeroed(n_label_groups),
        zeroed(n_label_groups), {zeroed(n + 1), zeroed(n + 1), zeroed(n + 1), 0}};
    i64 result = -2;
    if (w.remaining && w.roots && w.busy && w.queue_base && w.queue_size && w.queue_head &&
        w.queue_key && w.queue_item && w.queues_waiting && w.queue_since && w.active &&
        w.since && w.heap.time && w.heap.seq && w.heap.item)
        result = run(&w, n, resource, occupancy, latency, priority, labels, label_columns,
                     indegree, successor_ptr, successor_index, n_resources, resource_group,
                     ready, start, finish, queued, group_busy);
    free(w.remaining); free(w.roots); free(w.busy); free(w.queue_base); free(w.queue_size);
    free(w.queue_head); free(w.queue_key); free(w.queue_item); free(w.queues_waiting);
    free(w.queue_since); free(w.active); free(w.since); free(w.heap.time);
    free(w.heap.seq); free(w.heap.item);
    return result;
}

/* summarize_groups of accelsim.engine.des: per group (-1 skipped) of the tasks, total
 * occupancy, cycles waited between ready and start, first start and last finish. */
void accelsim_summarize_groups(i64 n, const i64 *group, const i64 *occupancy, const i64 *ready,
                               const i64 *start, const i64 *finish, i64 *busy, i64 *waited,
                               i64 *first, i64 *last)
{
    for (i64 i = 0; i < n; i++) {
        i64 g = group[i];
        if (g < 0)
            continue;
        busy[g] += occupancy[i];
        waited[g] += start[i] - ready[i];
        if (start[i] < first[g])
            first[g] = start[i];
        if (finish[i] > last[g])
            last[g] = finish[i];
    }
}
