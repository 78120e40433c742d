"""Turning a simulated run into a Result: per-layer rows from the plans and the timeline, the
energy ledger priced, and the resource, stall, mesh and DRAM reports."""

from __future__ import annotations

import time

import numpy as np

from accelsim.energy.ledger import Ledger, leakage_energy
from accelsim.energy.table import DRAM_READS, DRAM_WRITES, TRAFFIC, Action, Operand, action_name
from accelsim.hardware.plan import ResourceKind, UnitKind
from accelsim.hardware.pricing import area_by_component, energy_per_action, leakage_power_mw
from accelsim.mapping.tasks import COMPUTE_UNITS, resource_group, resource_groups
from accelsim.results.result import DramReport, LayerResult, NocReport, ResourceUse, Result
from accelsim.results.trace import TaskTrace


def build_result(wl, dev, plans, lowered, timeline, *, batch: int, mode: str, trace: bool,
                 execution: str = "pipelined",
                 output, skipped: dict, began: float, zeroed: tuple = (),
                 value_run: dict | None = None, agreement: dict | None = None,
                 reference=None) -> Result:
    """The Result of ``plans`` lowered to ``lowered`` and run to ``timeline``. Value mode:
    value_run the seed and options, agreement each weighted layer's product against the
    exact one, reference a function that returns the float64 reference's output."""
    prices = energy_per_action(dev)
    ledger = Ledger.of(plans, batch=batch, written_in_run=lowered.written_in_run)
    area = {name: estimate.value for name, estimate in area_by_component(dev).items()}
    unit_area = _unit_area(area, dev)
    rows = []
    spans = _layer_spans(plans, lowered, timeline)
    mapped: dict = {}           # see _mapped_tiles
    energies = [float(np.dot(counts, prices)) for counts in ledger.counts]
    traffic = (ledger.counts[:, _TRAFFIC_ACTIONS] * _TRAFFIC_SCALES).tolist()
    for index, plan in enumerate(plans):
        tiles, utilization = _mapped_tiles(plan, mapped)
        rows.append(LayerResult(
            name=plan.name, kind=plan.kind, unit=str(plan.unit), macs=plan.macs * batch,
            start_cycle=spans[index][0], end_cycle=spans[index][1],
            energy_pj=energies[index],
            tiles=tiles, utilization=utilization, parts=len(plan.parts),
            area_mm2=unit_area.get(str(plan.unit), 0.0) * (tiles if plan.unit == UnitKind.CIM
                                                          else 1),
            group=lowered.placement.group.get((plan.name, 0)),
            first_tile=lowered.placement.first_tile.get((plan.name, 0)), reason=plan.reason,
            mapping=plan.mapping,
            compute_cycles=sum(_compute_cycles(part, batch) for part in plan.parts),
            busy_cycles=int(timeline.group_busy[index]),
            **_agreement_fields((agreement or {}).get(plan.name)),
            traffic=dict(zip(_TRAFFIC_KEYS, traffic[index])),
            inputs_fetched=max((part.staging.fetched for part in plan.parts
                                if part.staging is not None), default=None)))
    cycles = timeline.cycles
    resources, stalls, task_waits, links = _resource_report(lowered, timeline, plans, dev)
    noc = None
    if dev.interconnect.kind == "mesh":
        busiest = max(links, key=lambda link: (links[link], link), default=None)
        noc = NocReport(hop_bits=float(ledger.counts[:, Action.BUS_BIT].sum()),
                        links=dev.interconnect.links,
                        links_used=sum(1 for b in links.values() if b > 0),
                        busiest_link=busiest,
                        busiest_link_busy_cycles=links.get(busiest, 0),
                        busiest_link_utilization=links.get(busiest, 0) / max(cycles, 1),
                        link_busy_cycles=dict(sorted(links.items())))
    image_done = lowered.program.summarize(timeline, lowered.task_image, batch)["last"]
    task_trace = None
    if trace:
        program = lowered.program
        task_trace = TaskTrace(timeline.start, program.occupancy, program.resource,
                               lowered.task_layer, lowered.task_stage,
                               tuple(str(r) for r in program.resource_names),
                               tuple(plan.name for plan in plans), lowered.stage_names,
                               dev.clock_hz)
    return Result(
        device=dev.name, workload=wl.name, batch=batch, mode=mode, execution=execution,
        clock_hz=dev.clock_hz,
        cycles=cycles, macs=wl.macs * batch, layers=tuple(rows), action_counts=ledger.counts,
        prices_pj=prices,
        leakage_pj=leakage_energy(leakage_power_mw(dev), cycles, dev.clock_hz),
        one_time_counts=ledger.one_time,
        one_time_programming_pj=float(np.dot(ledger.one_time, prices)),
        weight_groups=lowered.placement.groups, events=timeline.events,
        engine_seconds=timeline.seconds, compile_seconds=timeline.compile_seconds,
        wall_seconds=time.perf_counter() - began, trace=task_trace, output=output,
        resources=resources, stalls=stalls, task_wait_cycles=task_waits, noc=noc,
        dram=_dram_report(ledger.counts, dev),
        image_done_cycles=tuple(int(cycle) for cycle in image_done),
        area_by_component=area,
        skipped=price_skipped(skipped, prices) if skipped else {},
        zeroed_layers=tuple(zeroed), value_run=value_run, reference=reference)


def _agreement_fields(agreement: dict | None) -> dict:
    """A layer's product_correlation and product_error from its agreement (value mode)."""
    if agreement is None:
        return {}
    return {"product_correlation": agreement["correlation"],
            "product_error": agreement["relative_error"]}


def _layer_spans(plans, lowered, timeline) -> list[tuple[int, int]]:
    """Each layer's (first start, last finish) over its tasks and, when weights are written
    in the run, its programming tasks ((0, 0) for a layer without tasks)."""
    firsts, lasts, owners = [], [], []
    for index, plan in enumerate(plans):
        for part in plan.parts:
            key = (part.layer, part.part)
            ranges = [lowered.part_tasks[key]]
            if key in lowered.programming_tasks:
                ranges.append(lowered.programming_tasks[key])
            for first, last in ranges:
                if last > first:
                    firsts.append(first)
                    lasts.append(last)
                    owners.append(index)
    spans = [(0, 0)] * len(plans)
    if not firsts:
        return spans
    first, length = np.asarray(firsts), np.asarray(lasts) - np.asarray(firsts)
    offsets = np.concatenate([[0], np.cumsum(length)[:-1]])
    tasks = np.repeat(first - offsets, length) + np.arange(int(length.sum()))
    owner = np.asarray(owners)
    layer_offsets = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    # min and max over each range, then over each layer's ranges (consecutive)
    starts = np.minimum.reduceat(np.minimum.reduceat(timeline.start[tasks], offsets),
                                 layer_offsets)
    ends = np.maximum.reduceat(np.maximum.reduceat(timeline.finish[tasks], offsets),
                               layer_offsets)
    for index, start, end in zip(owner[layer_offsets].tolist(), starts.tolist(), ends.tolist()):
        spans[index] = (int(start), int(end))
    return spans


def _unit_area(area: dict[str, float], dev) -> dict[str, float]:
    """Area a layer occupies on each compute unit: per crossbar tile (all crossbar components
    over the tiles), or the whole systolic array or digital unit."""
    cim_parts = ("array", "dac", "adc", "shift_add")
    out = {str(UnitKind.SYSTOLIC): area.get("systolic", 0.0),
           str(UnitKind.DIGITAL): area.get("digital", 0.0)}
    if dev.cim is not None:
        out[str(UnitKind.CIM)] = sum(area.get(name, 0.0) for name in cim_parts) / dev.cim.tiles
    return out


def price_skipped(skipped, prices: np.ndarray) -> dict[str, dict]:
    """{layer: {"tiles_not_mapped": n, "energy_saved_pj": pJ, action: count avoided}}. A count
    can be negative: the array's signal where cells read above the dense plan's half scale."""
    out = {}
    for layer, (avoided, tiles) in skipped.items():
        entry = {"tiles_not_mapped": int(tiles),
                 "energy_saved_pj": float(np.dot(avoided, prices[:avoided.size]))}
        for action in range(avoided.size):
            if avoided[action] != 0:
                entry[action_name(action)] = float(avoided[action])
        out[layer] = entry
    return out


def _mapped_tiles(plan, known: dict) -> tuple[int, float]:
    """Tiles a layer occupies (value mode: without all-zero ones) and their utilization.
    ``known``: the answers by the tiling and tile arrays, which plans of one shape share
    (the plans, alive while it is used, keep those objects and so their ids)."""
    tiling = plan.tiling
    if tiling is None:
        return 0, 0.0
    held = [part.tile_indices for part in plan.parts if part.unit == UnitKind.CIM]
    key = (id(tiling), *map(id, held))
    if key not in known:
        tiles = np.concatenate(held) if held else np.zeros(0, dtype=np.int64)
        useful = float(tiling.weights[tiles].sum()) * tiling.cells_per_weight
        known[key] = ((int(tiles.size), useful / (tiles.size * tiling.rows * tiling.cols))
                      if tiles.size else (0, 0.0))
    return known[key]


# A layer's global-buffer words and DRAM bytes, read and written, by operand: the names of
# the figures, the actions they count and the scale to their unit.
_TRAFFIC_KEYS = [f"{kind}_{operand.name.lower()}_{unit}"
                 for kind, (_, unit, _) in TRAFFIC.items() for operand in Operand]
_TRAFFIC_ACTIONS = [actions[operand] for actions, _, _ in TRAFFIC.values() for operand in Operand]
_TRAFFIC_SCALES = np.array([scale for _, _, scale in TRAFFIC.values() for _ in Operand])


def _dram_report(counts: np.ndarray, device) -> DramReport | None:
    """Row-buffer figures of the run's DRAM traffic (None without a row-buffer model)."""
    if device.dram.row_bytes is None:
        return None
    bits = float(counts[:, DRAM_READS + DRAM_WRITES].sum())
    bursts = bits / 8 / device.dram.burst_bytes
    opened = float(counts[:, Action.DRAM_ACTIVATE].sum())
    return DramReport(bursts=bursts, rows_opened=opened, page_policy=device.dram.page_policy,
                      row_hit_rate=1 - opened / bursts if bursts else 0.0)


_LABEL = {ResourceKind.GLOBAL_BUFFER: "the global buffer",
          ResourceKind.BUFFER_WRITE_PORT: "the global buffer's write ports",
          ResourceKind.INTERCONNECT: "the interconnect", ResourceKind.DRAM: "DRAM",
          ResourceKind.DIGITAL: "the digital unit", ResourceKind.SYSTOLIC: "the systolic array"}


def _resource_report(lowered, timeline, plans, device):
    """Per shared resource: busy cycles, utilization and the cycles during which at least one
    ready task waited for it (crossbar tiles, tile buffers and mesh links each as one group;
    crossbar busy cycles are tile-cycles). Stalls by cause are those waiting cycles, plus, per
    compute unit, the cycles inside its active span when none of it computed (waiting for
    data). Also the waiting summed over tasks, which overlaps in time; and each link's busy
    cycles on a mesh."""
    program = lowered.program
    resources_of = program.resource_names
    cycles = max(timeline.cycles, 1)
    summary = timeline.resources        # per resource, from the engine (fans included)
    busy, waited = summary.busy, summary.waited
    first, last = summary.first, summary.last
    _, group_names = resource_groups(resources_of)
    queued = dict(zip(group_names, timeline.queued.tolist()))
    resources, stalls, task_waits = {}, {}, {}
    tiles_of, buffers_of = {}, {}
    for plan in plans:
        for part in plan.parts:
            key = f"{part.layer}#{part.part}"
            if part.unit == UnitKind.CIM:
                tiles_of[key] = part.tiles
            if part.staging is not None:
                buffers_of[key] = part.staging.buffers
    grouped = {"crossbar tiles": 0.0, "tile buffers": 0.0, "mesh links": 0.0}
    links = {}
    # Reference mode has a resource per physical tile (tens of thousands): those are summed
    # with numpy, the few others visited one by one.
    tile = np.fromiter((r.kind == ResourceKind.TILE for r in resources_of), dtype=bool,
                       count=len(resources_of))
    if tile.any():
        grouped["crossbar tiles"] += float(busy[tile].sum())
        if waited[tile].sum() > 0:
            key = f"waiting for {resource_group(resources_of[int(np.argmax(tile))])}"
            task_waits[key] = int(waited[tile].sum())
    # Fast mode has an array resource per part (a 10,000-layer network has 10,000): summed
    # with numpy too, each standing for all of its part's tiles; the first that waited
    # stands for them in the loop below.
    array = np.fromiter((r.kind == ResourceKind.ARRAY for r in resources_of), dtype=bool,
                        count=len(resources_of))
    arrays = np.flatnonzero(array)
    array_waiting = None
    if arrays.size:
        per_array = np.array([tiles_of.get(resources_of[r].key, 1) for r in arrays.tolist()])
        grouped["crossbar tiles"] += float((busy[arrays] * per_array).sum())
        waiting = arrays[waited[arrays] > 0]
        if waiting.size:
            array_waiting = int(waiting[0])
    keep = ~tile & ~array
    if array_waiting is not None:
        keep[array_waiting] = True
    others = np.flatnonzero(keep).tolist()
    for r in others:
        resource = resources_of[r]
        group = resource_group(resource)
        if resource.kind == ResourceKind.LINK:
            links[resource.key] = int(busy[r])
            grouped[group] += busy[r]
        elif resource.kind == ResourceKind.ARRAY:
            key = f"waiting for {group}"
            task_waits[key] = task_waits.get(key, 0) + int(waited[arrays].sum())
            continue
        elif resource.kind == ResourceKind.TILE_BUFFER:
            # A part's buffers work in parallel; the resource is the busiest of them.
            grouped[group] += busy[r] * buffers_of[resource.key]
        else:
            resources[group] = ResourceUse(int(busy[r]), float(busy[r] / cycles),
                                           int(queued[group]))
        if waited[r] > 0:
            key = f"waiting for {_LABEL.get(resource.kind, group)}"
            task_waits[key] = task_waits.get(key, 0) + int(waited[r])
    counts = {"crossbar tiles": device.cim.tiles if device.cim else 0,
              "tile buffers": device.tile_buffers,
              "mesh links": device.interconnect.links if device.interconnect.kind == "mesh"
              else 0}
    for group, count in counts.items():
        if count:
            resources[group] = ResourceUse(int(grouped[group]),
                                           float(grouped[group] / (count * cycles)),
                                           int(queued.get(group, 0)))
    # One resource per group stands for the group (all tiles share a label).
    representatives = (([int(np.argmax(tile))] if tile.any() else [])
                       + sorted({*others, *arrays[:1].tolist()}))
    for r in representatives:
        resource = resources_of[r]
        name = resource_group(resource)
        entry = resources.get(name)
        if entry is not None and entry.waiting_cycles > 0:
            label = _LABEL.get(resource.kind, "a mesh link" if name == "mesh links" else name)
            suffix = f":{resource.key}" if resource.kind == ResourceKind.DRAM and resource.key \
                else ""
            stalls[f"waiting for {label}{suffix}"] = entry.waiting_cycles
    # Compute units idle inside their active span: the span minus the cycles any of them
    # computed (the union over the unit's resources, from the engine).
    layers = len(plans)
    for index, (unit, kinds) in enumerate(COMPUTE_UNITS.items()):
        mine = np.fromiter((r.kind in kinds for r in resources_of), dtype=bool,
                           count=len(resources_of)) & (busy > 0)
        if mine.any():
            span = int(last[mine].max() - first[mine].min())
            idle = span - int(timeline.group_busy[layers + index])
            if idle > 0:
                stalls[f"{unit} idle, waiting for data"] = idle
    return resources, stalls, task_waits, links


def _compute_cycles(part, batch: int) -> int:
    """Cycles a part's crossbars or systolic array compute, over the batch: in value mode
    what was measured (each vector's slowest kept tile, as the schedule runs it), else the
    plan's cycles per pass times the passes."""
    if part.measured is not None and part.measured.block_cycles is not None:
        return int(part.measured.slowest().sum())
    return part.compute_cycles * (batch // part.images)
