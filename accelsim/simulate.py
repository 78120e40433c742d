"""simulate(): device spec + workload -> plans -> Program -> engine -> energy ledger -> Result."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from accelsim.energy.table import (DRAM_READS, DRAM_WRITES, N_ACTIONS, TRAFFIC, Action,
                                   Operand, energy_per_action, leakage_pj, leakage_power_mw)
from accelsim.errors import AccelsimError
from accelsim.mapping.lower import COMPUTE_UNITS, MODES, lower, resource_groups
from accelsim.mapping.plan import plan_workload
from accelsim.results.result import LayerResult, Result
from accelsim.results.trace import TaskTrace
from accelsim.values import ValueOptions
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import load_device
from accelsim.workload.graph import Workload
from accelsim.workload.load import load_workload


def simulate(workload: Workload | str | Path, device: DeviceSpec | str | Path, *,
             batch: int = 1, mode: str = "fast", max_steps: int = 2048,
             preload_weights: bool = True, policy: str = "rules",
             assign: dict[str, str] | None = None, trace: bool = False,
             values: bool = False, inputs=None, seed: int = 0,
             value_options: ValueOptions | dict | None = None,
             memory_limit_gib: float | None = None) -> Result:
    """Simulate ``batch`` images of ``workload`` on ``device``.

    workload: a Workload, zoo name, shipped workload name or YAML path.
    device: a DeviceSpec, shipped device name or YAML path.
    mode: "fast" (default; up to ``max_steps`` steps of vectors per layer, shared by its
        parts and the batch's images) or "reference" (one event per tile MVM per input
        vector; for validation, much slower).
    preload_weights: when the whole network fits on the chip, its weights are taken as already
        written and their one-time cost is reported apart (``one_time_programming_pj``);
        otherwise, and always when False, writing weights is simulated and counted.
        Layers on a systolic array always fetch their weights from DRAM (once per batch).
    policy: which unit runs each conv/linear layer on a device with both crossbars and a
        systolic array: "rules" (depthwise convs digital, the rest on crossbars), "energy",
        "latency", "edp" (per-layer estimates), "cim" or "systolic" (forced).
    assign: per-layer overrides, {"layer name": "cim" | "systolic"}.
    trace: keep every task's timing so ``Result.to_trace(path)`` can write a timeline.
    memory_limit_gib: refuse, before building anything, a run whose estimated memory
        (tasks and dependencies of the event simulation, value mode's activations) exceeds
        this (default: $ACCELSIM_MEMORY_LIMIT_GIB, else 4 GiB or half the machine's memory,
        whichever is less). The error gives the estimate and what to change.
    values: run real numbers (see accelsim.values): ``inputs`` is one image (C, H, W) or a
        batch (B, C, H, W) (default: uniform random in [0, 1) from ``seed``); a workload
        without weights gets seeded He-normal ones. The network's output is
        ``Result.output``, and crossbar counts and MVM cycles come from the data (input-zero
        skipping, gating, unmapped zero tiles: the device's policies). ``value_options``: a
        ValueOptions or a dict of its fields (ADC bits, range, noise, ...).
    Returns a Result; times are clock cycles, energies pJ.
    """
    began = time.perf_counter()
    if mode not in MODES:
        raise AccelsimError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    for name, value, high in (("batch", batch, 10 ** 7), ("max_steps", max_steps, 10 ** 7)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise AccelsimError(f"{name} must be an integer from 1 to {high:,}, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
        raise AccelsimError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r}")
    wl = load_workload(workload)
    dev = load_device(device)
    output, skipped = None, {}
    if values:
        inputs, batch, single = _value_inputs(wl, inputs, batch, seed)
    elif inputs is not None or value_options is not None:
        raise AccelsimError("inputs and value_options need values=True")
    plans = plan_workload(wl, dev, policy=policy, assign=assign, batch=batch)
    _check_memory(wl, dev, plans, batch=batch, mode=mode, max_steps=max_steps,
                  preload_weights=preload_weights, values=values, limit=memory_limit_gib)
    if values:
        plans, output, skipped = _run_values(wl, dev, plans, inputs, single, seed,
                                             value_options, batch)
    lowered = lower(plans, chip_tiles=dev.cim.tiles if dev.cim else 0, batch=batch, mode=mode,
                    max_steps=max_steps, preload_weights=preload_weights,
                    dram_channels=dev.dram.channels)
    timeline = lowered.program.run()
    prices = energy_per_action(dev)

    counts = np.zeros((len(plans), N_ACTIONS))
    one_time = np.zeros(N_ACTIONS)
    rows = []
    for index, plan in enumerate(plans):
        starts, ends = [], []
        for part in plan.parts:
            key = (part.layer, part.part)
            counts[index] += (part.batch_counts if part.batch_counts is not None
                              else part.counts * (batch // part.images))
            ranges = [lowered.part_tasks[key]]
            if part.weight_load is not None:
                counts[index] += part.weight_load.counts
                ranges.append(lowered.programming_tasks[key])
            if part.programming is not None:
                if lowered.programmed_in_run:
                    counts[index] += part.programming.counts
                    ranges.append(lowered.programming_tasks[key])
                else:
                    one_time += part.programming.counts
            for first, last in ranges:
                if last > first:
                    starts.append(int(timeline.start[first:last].min()))
                    ends.append(int(timeline.finish[first:last].max()))
        tiles, utilization = _mapped_tiles(plan)
        group = lowered.placement.group.get((plan.name, 0))
        first_tile = lowered.placement.first_tile.get((plan.name, 0))
        rows.append(LayerResult(
            name=plan.name, kind=plan.kind, unit=plan.unit, macs=plan.macs * batch,
            start_cycle=min(starts, default=0), end_cycle=max(ends, default=0),
            energy_pj=float(np.dot(counts[index], prices)),
            tiles=tiles, utilization=utilization,
            parts=len(plan.parts), group=group, first_tile=first_tile, reason=plan.reason,
            compute_cycles=sum(part.compute_cycles * (batch // part.images)
                               for part in plan.parts),
            busy_cycles=int(timeline.group_busy[index]),
            traffic=_traffic(counts[index]),
            inputs_fetched=max((part.staging.fetched for part in plan.parts
                                if part.staging is not None), default=None)))
    cycles = timeline.cycles
    resources, stalls, task_waits, noc = _resource_report(lowered, timeline, plans, dev)
    if noc:
        noc["hop_bits"] = float(counts[:, Action.BUS_BIT].sum())
    dram = _dram_report(counts, dev)
    image_done = lowered.program.summarize(timeline, lowered.task_image, batch)["last"]
    leakage = {component: leakage_pj(mw, cycles, dev.clock_hz)
               for component, mw in leakage_power_mw(dev).items()}
    task_trace = None
    if trace:
        program = lowered.program
        task_trace = TaskTrace(timeline.start, program.occupancy, program.resource,
                               lowered.task_layer, lowered.task_stage, program.resource_names,
                               tuple(plan.name for plan in plans), lowered.stage_names,
                               dev.clock_hz)
    return Result(
        device=dev.name, workload=wl.name, batch=batch, mode=mode, clock_hz=dev.clock_hz,
        cycles=cycles, macs=wl.macs * batch, layers=tuple(rows), action_counts=counts,
        prices_pj=prices, leakage_pj=leakage,
        one_time_programming_pj=float(np.dot(one_time, prices)),
        weight_groups=lowered.placement.groups, events=timeline.events,
        engine_seconds=timeline.seconds, compile_seconds=timeline.compile_seconds,
        wall_seconds=time.perf_counter() - began, trace=task_trace, output=output,
        resources=resources, stalls=stalls, task_wait_cycles=task_waits, noc=noc, dram=dram,
        image_done_cycles=tuple(int(cycle) for cycle in image_done),
        skipped=_price_skipped(skipped, prices))


def memory_limit_gib(given: float | None = None) -> float:
    """The memory budget of one simulation, GiB: ``given``, else $ACCELSIM_MEMORY_LIMIT_GIB,
    else 4 GiB or half the machine's memory, whichever is less."""
    import os
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, (int, float)) \
                or not math.isfinite(given) or given <= 0:
            raise AccelsimError(f"memory_limit_gib must be a positive number, got {given!r}")
        return float(given)
    text = os.environ.get("ACCELSIM_MEMORY_LIMIT_GIB")
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not math.isfinite(value) or value <= 0:
            raise AccelsimError(f"ACCELSIM_MEMORY_LIMIT_GIB must be a positive number of GiB, "
                                f"got {text!r}")
        return value
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError, AttributeError):
        physical = 8.0
    return min(4.0, physical / 2)


def _check_memory(wl, dev, plans, *, batch, mode, max_steps, preload_weights, values,
                  limit) -> None:
    """Refuse a run whose estimated memory exceeds the budget, saying what to change."""
    from accelsim.mapping.lower import BYTES_PER_EDGE, BYTES_PER_TASK, footprint
    budget = memory_limit_gib(limit)
    tasks, edges = footprint(plans, chip_tiles=dev.cim.tiles if dev.cim else 0, batch=batch,
                             mode=mode, max_steps=max_steps, preload_weights=preload_weights)
    need = (tasks * BYTES_PER_TASK + edges * BYTES_PER_EDGE) / 2 ** 30
    what = f"{tasks:,} tasks and {edges:,} dependencies of the event simulation"
    if values:
        # Every layer's output is kept (float64), and the largest weighted layer's lowered
        # inputs, quantized copy and bit-planes exist at once.
        activations = sum(math.prod(wl.shapes[n]) for n in wl.order) * 8
        lowered = max((wl.layers[n].matrix(wl.input_shapes(n))[0]
                       * wl.layers[n].matrix(wl.input_shapes(n))[2]
                       * wl.shapes[n][1] * wl.shapes[n][2]
                       for n in wl.order if wl.layers[n].weighted), default=0)
        per_element = 8 + 8 + 4 * (dev.cim.input_cycles if dev.cim else 1)
        need_values = batch * (activations + lowered * per_element) / 2 ** 30
        need += need_values
        what += f", and {need_values:.1f} GiB of activations for value mode"
    if need > budget:
        advice = ["a smaller batch"] if batch > 1 else []
        if mode == "reference":
            advice.append("mode='fast'")
        elif max_steps > 64:
            advice.append("a smaller max_steps")
        advice.append("memory_limit_gib= (CLI: --memory-limit-gib; environment: "
                      "ACCELSIM_MEMORY_LIMIT_GIB) if the machine has the memory")
        raise AccelsimError(f"{wl.name} on {dev.name} at batch {batch} in {mode} mode needs "
                            f"about {need:.1f} GiB ({what}), more than the limit of "
                            f"{budget:.1f} GiB; use " + ", or ".join(advice))


def _run_values(wl, dev, plans, inputs, single, seed, options, batch):
    """Value mode: forward pass, then plans whose crossbar counts come from the data."""
    from accelsim.mapping.measured import measured_plan, measured_systolic_plan
    from accelsim.values import ValueOptions, run_values
    from accelsim.workload.weights import random_weights

    if isinstance(options, dict):
        try:
            options = ValueOptions(**options)
        except TypeError as exc:
            raise AccelsimError(f"value_options: {exc}") from None
    options = options or ValueOptions()
    if not any(wl.layers[name].weighted for name in wl.weights):
        wl = wl.with_weights({**random_weights(wl, seed), **wl.weights}, wl.biases)
    run = run_values(wl, dev, plans, inputs, options, seed)
    skipped = {}
    measured = []
    for plan in plans:
        if plan.name in run.crossbar_stats:
            plan, *skipped[plan.name] = measured_plan(plan, run.crossbar_stats[plan.name], dev,
                                                      batch)
        elif plan.name in run.systolic_stats:
            plan, *skipped[plan.name] = measured_systolic_plan(
                plan, run.systolic_stats[plan.name], dev, batch)
        measured.append(plan)
    output = run.output[0] if single else run.output
    return measured, output, skipped


def _value_inputs(wl, inputs, batch: int, seed: int):
    """Inputs as [batch, C, H, W] (or a dict of them, one per input layer), the batch size,
    and whether a single image was given without a batch axis."""
    names = [n for n in wl.order if wl.layers[n].kind == "input"]
    if not isinstance(inputs, dict):
        if inputs is not None and len(names) > 1:
            raise AccelsimError(f"the workload has {len(names)} input layers "
                                f"({', '.join(names)}); give inputs as a dict by name")
        inputs = {names[0]: inputs} if inputs is not None else {}
    unknown = sorted(set(inputs) - set(names))
    if unknown:
        raise AccelsimError(f"inputs given for {', '.join(unknown)}, which is not an input "
                            f"layer (input layers: {', '.join(names)})")
    rng = np.random.default_rng(seed)
    arrays, single, given = {}, False, None
    for name in names:
        shape = tuple(wl.shapes[name])
        if name not in inputs or inputs[name] is None:
            arrays[name] = None
            continue
        try:
            array = np.asarray(inputs[name], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise AccelsimError(f"inputs of '{name}' are not an array of numbers: "
                                f"{str(exc)[:100]}") from None
        bad = array.size - int(np.isfinite(array).sum())
        if bad:
            raise AccelsimError(f"inputs of '{name}' hold {bad:,} values that are not finite "
                                "(inf or NaN); value mode needs finite inputs")
        single = array.shape == shape
        if single:
            array = array[None]
        if array.ndim != 4 or array.shape[1:] != shape:
            label = "inputs" if len(names) == 1 else f"inputs of '{name}'"
            raise AccelsimError(f"{label} must have shape {shape} or (batch, "
                                f"{', '.join(map(str, shape))}), got {array.shape}")
        if given not in (None, array.shape[0]):
            raise AccelsimError("every input layer needs the same batch size")
        given = array.shape[0]
        arrays[name] = array
    if given is not None and batch not in (1, given):
        raise AccelsimError(f"batch={batch} but {given} inputs were given")
    batch = given or batch
    for name in names:
        if arrays[name] is None:
            arrays[name] = rng.random((batch, *wl.shapes[name]))
    return (arrays[names[0]] if len(names) == 1 else arrays), batch, single


def _price_skipped(skipped, prices):
    """{layer: {"tiles_not_mapped": n, "energy_saved_pj": pJ, action: count avoided}}."""
    from accelsim.energy.table import Action

    out = {}
    for layer, (avoided, tiles) in skipped.items():
        entry = {"tiles_not_mapped": int(tiles),
                 "energy_saved_pj": float(np.dot(avoided, prices))}
        for action in Action:
            if avoided[action] > 0:
                entry[action.name.lower()] = float(avoided[action])
        out[layer] = entry
    return out


def _mapped_tiles(plan) -> tuple[int, float]:
    """Tiles a layer occupies (value mode: without all-zero ones) and their utilization."""
    tiling = plan.tiling
    if tiling is None:
        return 0, 0.0
    held = [part.tile_indices for part in plan.parts if part.tile_indices is not None]
    if not held:
        return tiling.tiles, tiling.utilization
    tiles = np.concatenate(held)
    if not tiles.size:
        return 0, 0.0
    useful = float(tiling.weights[tiles].sum()) * tiling.cells_per_weight
    return int(tiles.size), useful / (tiles.size * tiling.rows * tiling.cols)


def _traffic(counts: np.ndarray) -> dict[str, float]:
    """A layer's global-buffer words and DRAM bytes, read and written, by operand."""
    return {f"{kind}_{operand.name.lower()}_{unit}": float(counts[actions[operand]] * scale)
            for kind, (actions, unit, scale) in TRAFFIC.items() for operand in Operand}


def _dram_report(counts: np.ndarray, device) -> dict:
    """Row-buffer figures of the run's DRAM traffic (empty without a row-buffer model)."""
    if device.dram.row_bytes is None:
        return {}
    bits = float(counts[:, DRAM_READS + DRAM_WRITES].sum())
    bursts = bits / 8 / device.dram.burst_bytes
    opened = float(counts[:, Action.DRAM_ACTIVATE].sum())
    return {"bursts": bursts, "rows_opened": opened, "page_policy": device.dram.page_policy,
            "row_hit_rate": 1 - opened / bursts if bursts else 0.0}


_RESOURCE_LABEL = {"global_buffer": "the global buffer", "interconnect": "the interconnect",
                   "dram": "DRAM", "digital": "the digital unit", "systolic": "the systolic array",
                   "mesh links": "a mesh link", "crossbar tiles": "crossbar tiles",
                   "tile buffers": "tile buffers"}


def _resource_report(lowered, timeline, plans, device):
    """Per shared resource: busy cycles, utilization and the cycles during which at least one
    ready task waited for it (crossbar tiles, tile buffers and mesh links each as one group;
    crossbar busy cycles are tile-cycles). Stalls by cause are those waiting cycles, plus, per
    compute unit, the cycles inside its active span when none of it computed (waiting for
    data). Also the waiting summed over tasks, which overlaps in time."""
    program = lowered.program
    names = program.resource_names
    cycles = max(timeline.cycles, 1)
    summary = program.summarize(timeline, program.resource, len(names))
    busy, waited = summary["busy"], summary["waited"]
    first, last = summary["first"], summary["last"]
    group_ids, group_names = resource_groups(names)
    queued = dict(zip(group_names, timeline.queued.tolist()))
    resources, stalls, task_waits = {}, {}, {}
    tiles_of, buffers_of = {}, {}
    for plan in plans:
        for part in plan.parts:
            if part.unit == "cim":
                tiles_of[f"array:{part.layer}#{part.part}"] = part.tiles
            if part.staging is not None:
                buffers_of[f"tile_buffer:{part.layer}#{part.part}"] = part.staging.buffers
    grouped = {"crossbar tiles": 0.0, "tile buffers": 0.0, "mesh links": 0.0}
    links = {}
    for r, name in enumerate(names):
        group = group_names[group_ids[r]]
        if name.startswith("link:"):
            links[name[len("link:"):]] = int(busy[r])
            grouped[group] += busy[r]
        elif group == "crossbar tiles":
            # A fast-mode array resource stands for all of its part's tiles.
            grouped[group] += busy[r] * tiles_of.get(name, 1)
        elif group == "tile buffers":
            # A part's buffers work in parallel; the resource is the busiest of them.
            grouped[group] += busy[r] * buffers_of[name]
        else:
            resources[name] = {"busy_cycles": int(busy[r]), "utilization": busy[r] / cycles,
                               "waiting_cycles": int(queued[name])}
        if waited[r] > 0:
            key = f"waiting for {_RESOURCE_LABEL.get(group.split(':')[0], group)}"
            task_waits[key] = task_waits.get(key, 0) + int(waited[r])
    units = {"crossbar tiles": device.cim.tiles if device.cim else 0,
             "tile buffers": device.tile_buffers,
             "mesh links": device.interconnect.links if device.interconnect.kind == "mesh"
             else 0}
    for group, count in units.items():
        if count:
            resources[group] = {"busy_cycles": int(grouped[group]),
                                "utilization": grouped[group] / (count * cycles),
                                "waiting_cycles": int(queued.get(group, 0))}
    for name, entry in resources.items():
        if entry["waiting_cycles"] > 0:
            label = _RESOURCE_LABEL.get(name.split(":")[0], name)
            suffix = name[len(name.split(":")[0]):] if name.startswith("dram:") else ""
            stalls[f"waiting for {label}{suffix}"] = entry["waiting_cycles"]
    # Compute units idle inside their active span: the span minus the cycles any of them
    # computed (the union over the unit's resources, from the engine).
    layers = len(plans)
    for index, unit in enumerate(COMPUTE_UNITS):
        mine = [r for r, name in enumerate(names) if name.startswith(COMPUTE_UNITS[unit])
                and busy[r] > 0]
        if mine:
            span = int(max(last[r] for r in mine) - min(first[r] for r in mine))
            idle = span - int(timeline.group_busy[layers + index])
            if idle > 0:
                stalls[f"{unit} idle, waiting for data"] = idle
    noc = {}
    if device.interconnect.kind == "mesh":
        total_links = device.interconnect.links
        busiest = max(links, key=lambda link: (links[link], link), default=None)
        noc = {"links": total_links, "links_used": sum(1 for b in links.values() if b > 0),
               "busiest_link": busiest,
               "busiest_link_busy_cycles": links.get(busiest, 0),
               "busiest_link_utilization": links.get(busiest, 0) / cycles,
               "link_busy_cycles": dict(sorted(links.items()))}
    return resources, stalls, task_waits, noc
