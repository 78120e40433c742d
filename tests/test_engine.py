"""The event engine, specified by exact cycle counts (as SimPy's tests do with env.now)."""

import heapq
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine import ProgramBuilder
from accelsim.engine.des import _pop, _push


def run(builder):
    timeline = builder.build().run()
    return list(timeline.start), list(timeline.finish)


def test_two_tasks_on_one_bus_serialize():
    b = ProgramBuilder()
    b.task("bus", 10)
    b.task("bus", 10)
    assert run(b) == ([0, 10], [10, 20])


def test_two_tasks_on_two_buses_overlap():
    b = ProgramBuilder()
    b.task("bus0", 10)
    b.task("bus1", 10)
    assert run(b) == ([0, 0], [10, 10])


def test_dependencies_wait_for_all_predecessors():
    b = ProgramBuilder()
    a = b.task("x", 3)
    c = b.task("y", 7)
    b.task("z", 2, after=[a, c])
    assert run(b) == ([0, 0, 7], [3, 7, 9])


def test_latency_does_not_hold_the_resource():
    # A pipelined link: each transfer holds the link 4 cycles, arrives 10 cycles later.
    b = ProgramBuilder()
    first = b.task("link", 4, latency=10)
    second = b.task("link", 4, latency=10)
    b.task("sink", 1, after=[first, second])
    assert run(b) == ([0, 4, 18], [14, 18, 19])


def test_queue_is_first_come_first_served():
    b = ProgramBuilder()
    gate = b.task("g", 5)
    b.task("bus", 8)                          # ready at 0, runs 0..8
    late = b.task("bus", 1, after=[gate])     # ready at 5, waits for the bus
    later = b.task("bus", 1, after=[gate])    # ready at 5 too, queued behind `late`
    start, finish = run(b)
    assert (start[late], start[later]) == (8, 9)
    assert finish[later] == 10


def test_tasks_without_resource_start_at_once():
    b = ProgramBuilder()
    a = b.task(None, 5)
    c = b.task(None, 5)
    b.task(None, 0, after=[a, c])
    assert run(b) == ([0, 0, 5], [5, 5, 5])


def test_zero_length_tasks_and_chains():
    b = ProgramBuilder()
    previous = b.task("r", 0)
    for _ in range(5):
        previous = b.task("r", 2, after=[previous])
    assert run(b)[1][-1] == 10


def test_cycle_is_reported():
    from accelsim.engine.program import Program
    program = Program.from_edges([0, 0], [1, 1], [0, 0], [0, 1], [1, 0], ["r"])
    with pytest.raises(RuntimeError, match="dependency cycle"):
        program.run()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 50)), min_size=1, max_size=200))
def test_heap_pops_in_time_then_sequence_order(entries):
    n = len(entries)
    times, seqs, items = (np.empty(n, np.int64) for _ in range(3))
    size = 0
    for seq, (at, item) in enumerate(entries):
        size = _push(times, seqs, items, size, at, seq, item)
    popped = []
    while size:
        size = _pop(times, seqs, items, size)
        popped.append((int(times[size]), int(seqs[size])))
    expected = sorted((at, seq) for seq, (at, _) in enumerate(entries))
    assert popped == expected == [heapq.heappop(h) for h in [list(expected)] for _ in expected]


@st.composite
def random_programs(draw, priorities=1):
    n = draw(st.integers(1, 60))
    tasks = []
    for i in range(n):
        resource = draw(st.sampled_from([None, "a", "b", "c"]))
        occupancy = draw(st.integers(0, 9))
        latency = draw(st.integers(0, 4))
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        priority = draw(st.integers(-1, priorities - 2))
        tasks.append((resource, occupancy, latency, deps, priority))
    return tasks


@settings(max_examples=150, deadline=None)
@given(random_programs())
def test_schedule_is_a_valid_fifo_work_conserving_schedule(tasks):
    """Checks the defining properties instead of the engine's own numbers:
    dependencies respected, no overlap per resource, finish = start + occupancy + latency,
    no idle resource while a ready task waits, and FIFO by ready time per resource."""
    b = ProgramBuilder()
    for resource, occupancy, latency, deps, _ in tasks:
        b.task(resource, occupancy, latency=latency, after=deps)
    start, finish = run(b)
    ready = []
    for i, (resource, occupancy, latency, deps, _) in enumerate(tasks):
        r = max((finish[d] for d in deps), default=0)
        ready.append(r)
        assert start[i] >= r
        assert finish[i] == start[i] + occupancy + latency
        if resource is None:
            assert start[i] == r
    for resource in "abc":
        mine = [i for i, t in enumerate(tasks) if t[0] == resource]
        busy = [(start[j], start[j] + tasks[j][1]) for j in mine]
        for x, (s0, e0) in enumerate(busy):
            for s1, e1 in busy[x + 1:]:
                assert e0 <= s1 or e1 <= s0                      # no overlap
        for i in mine:
            for t in range(ready[i], start[i]):                  # waited: resource was busy
                assert any(s0 <= t < e0 for s0, e0 in busy)
        for i in mine:
            for j in mine:
                if ready[i] < ready[j]:
                    assert start[i] <= start[j]                  # first come, first served


@settings(max_examples=150, deadline=None)
@given(random_programs(priorities=4))
def test_waiting_tasks_are_served_by_priority_then_arrival(tasks):
    """Whenever a task starts while another of its resource waits, it ranks before the
    waiting one: a lower priority, or the same priority and ready no later."""
    b = ProgramBuilder()
    for resource, occupancy, latency, deps, priority in tasks:
        b.task(resource, occupancy, latency=latency, after=deps, priority=priority)
    timeline = b.build().run()
    start, ready = timeline.start, timeline.ready
    for resource in "abc":
        mine = [i for i, t in enumerate(tasks) if t[0] == resource]
        busy = [(start[j], start[j] + tasks[j][1]) for j in mine]
        for i in mine:
            for t in range(ready[i], start[i]):                  # still work conserving
                assert any(s0 <= t < e0 for s0, e0 in busy)
            for j in mine:
                if j != i and ready[i] < start[j] < start[i] and ready[j] < start[j]:
                    # j was picked from the queue while i waited in it
                    assert (tasks[j][4], ready[j]) <= (tasks[i][4], ready[i])


def test_older_images_first_by_hand():
    """Image 1's transfer is ready first, but image 0's (ready while the bus is busy) is
    served first when the bus frees."""
    b = ProgramBuilder()
    b.task("bus", 10, priority=5)                          # busy 0..10
    gate0 = b.task("g0", 3)
    gate1 = b.task("g1", 1)
    late = b.task("bus", 4, after=[gate1], priority=1)     # ready at 1
    early = b.task("bus", 4, after=[gate0], priority=0)    # ready at 3, older image
    start, finish = run(b)
    assert (start[early], start[late]) == (10, 14)
    assert finish[late] == 18


def test_same_program_same_schedule():
    rng = np.random.default_rng(7)
    b = ProgramBuilder()
    for i in range(2000):
        deps = list(rng.choice(i, size=min(i, 2), replace=False)) if i else []
        b.task(f"r{rng.integers(5)}", int(rng.integers(1, 9)), after=deps)
    program = b.build()
    first, second = program.run(), program.run()
    assert np.array_equal(first.start, second.start)
    assert np.array_equal(first.finish, second.finish)


def _native():
    """The C loop's module, or a skip saying why it cannot be built here."""
    from accelsim.engine import native
    if not native.available():
        pytest.skip(f"the C event loop is unavailable: {native.unavailable_reason()}")
    return native


@pytest.mark.parametrize("kind", ["numba", "numpy", "native"])
def test_group_summary_matches_numpy(kind):
    """summarize_groups (numba), its numpy and C twins, each against a per-group reduction."""
    from accelsim.engine.des import summarize_groups as numba_summary
    from accelsim.engine.python import summarize_groups_numpy
    summarize_groups = {"numba": numba_summary, "numpy": summarize_groups_numpy}.get(kind)
    if kind == "native":
        summarize_groups = _native().summarize_groups_native
    rng = np.random.default_rng(3)
    n, groups = 500, 7
    group = rng.integers(-1, groups, n)
    occupancy, ready = rng.integers(0, 9, n), rng.integers(0, 50, n)
    start = ready + rng.integers(0, 9, n)
    finish = start + occupancy
    busy, waited = np.zeros(groups, np.int64), np.zeros(groups, np.int64)
    first, last = np.full(groups, 10**9, np.int64), np.zeros(groups, np.int64)
    summarize_groups(group, occupancy, ready, start, finish, busy, waited, first, last)
    for g in range(groups):
        mine = group == g
        assert busy[g] == occupancy[mine].sum() and waited[g] == (start - ready)[mine].sum()
        assert first[g] == start[mine].min() and last[g] == finish[mine].max()


def test_ready_is_when_the_last_dependency_finished():
    b = ProgramBuilder()
    a = b.task("x", 3)
    c = b.task("y", 7)
    d = b.task("x", 2, after=[a, c])
    timeline = b.build().run()
    assert list(timeline.ready) == [0, 0, 7] and timeline.start[d] == 7


def pipeline(priorities: bool):
    """Three images through two stages (A on tile a, B on tile b, 4 cycles each), each stage's
    result crossing one bus (6 cycles), so the bus is the bottleneck."""
    b = ProgramBuilder()
    last = []
    for image in range(3):
        rank = image if priorities else 0
        a = b.task("a", 4, priority=rank)
        x = b.task("bus", 6, after=[a], priority=rank)
        bb = b.task("b", 4, after=[x], priority=rank)
        last.append(b.task("bus", 6, after=[bb], priority=rank))
    timeline = b.build().run()
    return [int(timeline.finish[t]) for t in last]


def test_a_two_stage_pipeline_at_batch_3_serves_older_images_first():
    # A: 0-4, 4-8, 8-12. Bus: image 0's x 4-10, image 1's x 10-16 (ready 8). Image 0's B
    # 10-14; its y is ready at 14 while image 2's x waits since 12. By age, y goes first:
    # 16-22 (image 0 done 22). Image 1's B 16-20, y ready 20 and served 22-28 before image
    # 2's x (28-34); image 2's B 34-38, y 38-44.
    assert pipeline(priorities=True) == [22, 28, 44]
    # First come, first served: image 2's x (ready 12) goes before image 0's y (ready 14),
    # delaying image 0 to 28: image 0 22-28, image 1's y 28-34, image 2's B 22-26, y 34-40.
    assert pipeline(priorities=False) == [28, 34, 40]


def test_waiting_cycles_are_a_union_over_time():
    # Three 10-cycle tasks on one bus, all ready at 0: the second waits 0-10, the third 0-20.
    # Summed over tasks that is 30 cycles; the bus had a task waiting during 20 of them.
    b = ProgramBuilder()
    for _ in range(3):
        b.task("bus", 10)
    program = b.build()
    timeline = program.run()
    assert list(timeline.queued) == [20]
    assert int((timeline.start - timeline.ready).sum()) == 30


def test_busy_cycles_of_a_label_group_are_a_union():
    # A layer's tasks: 0 on x (0-10) and 1 on y (0-7) overlap, then 2 on x (10-15) after
    # both. They hold resources for 22 cycles; the layer is busy during 15.
    from accelsim.engine.program import Program
    program = Program.from_edges([0, 1, 0], [10, 7, 5], [0, 0, 0], [0, 1], [2, 2],
                                 ["x", "y"], labels=[[0], [0], [0]])
    timeline = program.run()
    assert list(timeline.start) == [0, 0, 10]
    assert list(timeline.group_busy) == [15]


def test_many_simultaneous_tasks_fill_the_event_heap():
    # 5,000 tasks on their own resources all run at once, each with a latency: the event heap
    # holds 5,000 releases and then 5,000 completions (one pending event per task at most).
    b = ProgramBuilder()
    for i in range(5000):
        b.task(f"r{i}", 3 + i % 7, latency=2)
    start, finish = run(b)
    assert start == [0] * 5000
    assert finish == [3 + i % 7 + 2 for i in range(5000)]


@st.composite
def programs_with_fans(draw):
    """Tasks on resources 0-2 (ordinary) and fans over the tiles 3-8, with labels and
    priorities, as rows (resource or (first tile, per-tile cycles), occupancy, latency,
    dependencies, priority, label)."""
    n = draw(st.integers(1, 40))
    priorities = draw(st.integers(1, 3))
    rows = []
    for i in range(n):
        latency = draw(st.integers(0, 3))
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        priority = draw(st.integers(0, priorities - 1))
        label = draw(st.integers(-1, 2))
        if draw(st.booleans()):
            first = draw(st.integers(3, 8))
            cycles = draw(st.lists(st.sampled_from([0, 2, 3, 3, 3, 5]), min_size=1,
                                   max_size=9 - first))
            rows.append(((first, cycles), 0, latency, deps, priority, label))
        else:
            rows.append((draw(st.sampled_from([-1, 0, 1, 2])), draw(st.integers(0, 6)),
                         latency, deps, priority, label))
    return rows


def _fan_program(rows, expand: bool):
    """The rows as a Program with fans, or with each fan expanded into its subtasks (each
    depending on the fan's dependencies, each a dependency of the fan's successors);
    returns the program and, per row, its task ids."""
    from accelsim.engine.program import Program
    ids, resource, occupancy, latency, priority, label, fan, pool = [], [], [], [], [], [], [], []
    for what, cycles, lat, _, rank, group in rows:
        if isinstance(what, tuple) and expand:
            first, per_tile = what
            ids.append(list(range(len(resource), len(resource) + len(per_tile))))
            for k, c in enumerate(per_tile):
                resource.append(first + k), occupancy.append(c), fan.append(0)
                latency.append(lat), priority.append(rank), label.append(group)
            continue
        ids.append([len(resource)])
        if isinstance(what, tuple):
            resource.append(what[0]), occupancy.append(len(pool)), fan.append(len(what[1]))
            pool.extend(what[1])
        else:
            resource.append(what), occupancy.append(cycles), fan.append(0)
        latency.append(lat), priority.append(rank), label.append(group)
    sources, targets = [], []
    for row, (*_, deps, _rank, _group) in enumerate(rows):
        for dep in deps:
            for s in ids[dep]:
                for t in ids[row]:
                    sources.append(s), targets.append(t)
    program = Program.from_edges(resource, occupancy, latency, sources, targets,
                                 [f"r{r}" for r in range(9)], priority=priority,
                                 labels=[[g] for g in label], fan=fan, fan_occupancy=pool,
                                 resource_group=[0, 1, 2, 3, 3, 3, 3, 3, 3])
    return program, ids


@settings(max_examples=300, deadline=None)
@given(programs_with_fans())
def test_a_fan_is_its_subtasks_to_the_cycle(rows):
    """A fan gives the schedule, waiting, busy unions and event count of its subtasks as
    separate tasks (its start the earliest subtask's, its finish the latest's)."""
    fans, ids = _fan_program(rows, expand=False)
    tasks, expanded = _fan_program(rows, expand=True)
    a, b = fans.run(), tasks.run()
    assert a.events == b.events and a.cycles == b.cycles
    for row in range(len(rows)):
        one, many = ids[row][0], expanded[row]
        assert a.ready[one] == b.ready[many].min() == b.ready[many].max()
        assert a.start[one] == b.start[many].min()
        assert a.finish[one] == b.finish[many].max()
    assert list(a.queued) == list(b.queued)
    assert list(a.group_busy) == list(b.group_busy)
    for field in ("busy", "waited", "first", "last"):
        assert list(getattr(a.resources, field)) == list(getattr(b.resources, field))
    summary = tasks.summarize(b, tasks.resource, 9)      # the naive per-task reduction
    for field in ("busy", "waited", "first", "last"):
        assert list(getattr(b.resources, field)) == list(summary[field])


@settings(max_examples=200, deadline=None)
@given(random_programs(priorities=3))
def test_the_python_and_c_loops_are_the_compiled_one(tasks):
    """The Python event loop (a fresh process's first run without a C compiler), the C loop
    and numba's give the same schedule, unions and event count, FIFO or by priority."""
    from accelsim.engine.des import run_tasks
    from accelsim.engine.native import run_tasks_native
    from accelsim.engine.python import run_tasks_python
    _native()
    b = ProgramBuilder()
    for resource, occupancy, latency, deps, priority in tasks:
        b.task(resource, occupancy, latency=latency, after=deps, priority=priority)
    program = b.build()
    labels = np.stack([np.arange(program.tasks) % 3, np.arange(program.tasks) % 2 - 1], 1)
    results = []
    for loop in (run_tasks, run_tasks_python, run_tasks_native):
        out = [np.zeros(program.tasks, np.int64) for _ in range(3)]
        queued, busy = np.zeros(len(program.resource_names) or 1, np.int64), np.zeros(3, np.int64)
        events = loop(program.resource, program.occupancy, program.latency, program.priority,
                      labels, program.indegree, program.successor_ptr, program.successor_index,
                      max(1, len(program.resource_names)), program.resource_group, *out, queued,
                      busy)
        results.append([events, *(a.tolist() for a in (*out, queued, busy))])
    assert results[0] == results[1] == results[2]


def test_engine_choice(monkeypatch):
    from accelsim.engine import program
    from accelsim.errors import AccelsimError
    monkeypatch.setattr(program, "_programs_run", 0)
    monkeypatch.setenv("ACCELSIM_ENGINE", "python")
    assert program.engine_for(10 ** 7, fans=False) == "python"
    assert program.engine_for(10, fans=True) == "numba"         # only numba has fans
    monkeypatch.setenv("ACCELSIM_ENGINE", "auto")
    from accelsim.engine import native
    # the C loop when it can be built; without it (numba is loaded in this process) numba's
    expected = "native" if native.available() else "numba"
    assert program.engine_for(10, fans=False) == expected
    assert program.engine_for(10, fans=True) == "numba"
    monkeypatch.setenv("ACCELSIM_ENGINE", "jit")
    with pytest.raises(AccelsimError, match="ACCELSIM_ENGINE must be one of auto, native"):
        program.engine_for(10, fans=False)


def test_without_a_compiler_the_loop_falls_back_and_native_says_why(monkeypatch, tmp_path):
    """No C compiler: auto takes numba's loop (loaded here) with the same results, and
    ACCELSIM_ENGINE=native fails naming the reason; a broken compiler is reported the same
    way, nothing half-built is left in the cache, and the failure is remembered there so that
    the next process does not run the compiler again."""
    from accelsim.engine import native, program
    from accelsim.errors import AccelsimError
    b = ProgramBuilder()
    for i in range(50):
        b.task(f"r{i % 3}", 1 + i % 4, latency=i % 2, after=[i - 1] if i else [])
    built = b.build()
    monkeypatch.setenv("ACCELSIM_ENGINE", "auto")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for compiler, reason in (("/nonexistent/cc", "no C compiler found"),
                             ("false", "could not be built")):
        monkeypatch.setattr(native, "_library", None)
        monkeypatch.setattr(native, "_reason", None)
        monkeypatch.setenv("CC", compiler)
        monkeypatch.setattr(native.sysconfig, "get_config_var", lambda name: None)
        found = {"false"} if compiler == "false" else set()
        monkeypatch.setattr(native.shutil, "which",
                            lambda word, found=found: word if word in found else None)
        assert not native.available() and reason in native.unavailable_reason()
        timeline = built.run()
        assert timeline.engine == "numba"
        monkeypatch.setenv("ACCELSIM_ENGINE", "native")
        with pytest.raises(AccelsimError, match=f"ACCELSIM_ENGINE=native: .*{reason}"):
            program.engine_for(10, fans=False)
        monkeypatch.setenv("ACCELSIM_ENGINE", "auto")
    left = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(left) == 1 and left[0].name.endswith(".failed")
    assert "could not be built" in left[0].read_text()
    monkeypatch.setattr(native, "_library", None)        # as a new process would
    monkeypatch.setattr(native, "_reason", None)
    monkeypatch.setattr(native, "_build", lambda *args: pytest.fail("built again"))
    assert not native.available() and "delete that file" in native.unavailable_reason()
    monkeypatch.setattr(native, "_library", None)
    monkeypatch.setattr(native, "_reason", None)
    monkeypatch.undo()
    reference = built.run()
    assert timeline.finish.tolist() == reference.finish.tolist()


@pytest.mark.parametrize("engine", ["native", "numba", "python"])
def test_an_empty_program_runs_in_every_loop(monkeypatch, engine):
    if engine == "native":
        _native()
    monkeypatch.setenv("ACCELSIM_ENGINE", engine)
    timeline = ProgramBuilder().build().run()
    assert (timeline.engine, timeline.events, timeline.cycles) == (engine, 0, 0)


def test_the_c_loop_is_built_once_and_refuses_bad_arrays(monkeypatch, tmp_path):
    """A first use builds the C loop into the cache folder and reports the seconds once; a new
    process state loads the same file without building; a file that does not load is built
    again; indices outside the arrays are refused before the C code runs."""
    from accelsim.engine import native
    if native._compiler() is None:
        pytest.skip("no C compiler here")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(native, "_library", None)
    monkeypatch.setattr(native, "_reason", None)
    monkeypatch.setattr(native, "compile_seconds", 0.0)
    # libraries of earlier sources: the one unwritten for over a week goes when a new one is
    # built, as does an old failure marker; a recent one (another environment's) stays
    folder = tmp_path / "accelsim" / "native"
    folder.mkdir(parents=True)
    old, recent = folder / "loop-0000000000000000.so", folder / "loop-1111111111111111.so"
    marker = folder / "loop-2222222222222222.so.failed"
    for path in (old, recent, marker):
        path.write_bytes(b"an earlier build")
    week_ago = time.time() - native.STALE_SECONDS - 60
    os.utime(old, (week_ago, week_ago))
    os.utime(marker, (week_ago, week_ago))
    assert native.available(), native.unavailable_reason()
    assert not old.exists() and not marker.exists() and recent.exists()
    recent.unlink()
    built = list(folder.iterdir())
    assert len(built) == 1 and built[0].name.startswith("loop-")
    assert native.take_compile_seconds() > 0 and native.take_compile_seconds() == 0
    modified = built[0].stat().st_mtime_ns
    monkeypatch.setattr(native, "_library", None)
    assert native.available() and native.take_compile_seconds() == 0
    assert built[0].stat().st_mtime_ns == modified
    # A file that does not load is built afresh (in a new process: this one has the path
    # loaded, and the dynamic loader hands back the loaded library by its name).
    built[0].unlink()
    built[0].write_bytes(b"cut short")
    code = ("from accelsim.engine import native; "
            "print(native.available(), native.take_compile_seconds() > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert out.stdout.split() == ["True", "True"] and built[0].stat().st_size > 1000
    z = np.zeros(2, np.int64)
    with pytest.raises(ValueError, match="outside its array"):
        native.run_tasks_native(np.array([0, 5]), z + 1, z, z, np.zeros((2, 1), np.int64), z,
                                np.zeros(3, np.int64), z[:0], 1, np.zeros(1, np.int64),
                                z.copy(), z.copy(), z.copy(), np.zeros(1, np.int64),
                                np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="outside its array"):
        native.run_tasks_native(np.array([0, 0]), z + 1, z, z, np.zeros((2, 1), np.int64),
                                np.array([0, 1]), np.array([0, 1, 1]), np.array([7]), 1,
                                np.zeros(1, np.int64), z.copy(), z.copy(), z.copy(),
                                np.zeros(1, np.int64), np.zeros(1, np.int64))
