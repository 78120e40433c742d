"""Plots of results and sweeps. Each function takes ``ax=`` (a matplotlib Axes; a new figure
when None) and returns the Axes. Nothing here changes global matplotlib settings.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from accelsim.energy.table import (
    BUFFER_READS,
    BUFFER_WRITES,
    DRAM_READS,
    DRAM_WRITES,
    Action,
)
from accelsim.errors import AccelsimError
from accelsim.results.result import Result
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import load_device
from accelsim.units import energy_unit


def _axes(ax, figsize=(8, 4.5)):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    return ax


def layer_energy_by_component(result: Result) -> tuple[list[str], dict[str, np.ndarray]]:
    """Layer names and, per component, each layer's dynamic energy in pJ."""
    from accelsim.energy.table import action_label
    names = [layer.name for layer in result.layers]
    per_action = result.action_counts * result.prices_pj
    components: dict[str, np.ndarray] = {}
    for action in range(per_action.shape[1]):
        component = action_label(action)[0]
        components.setdefault(component, np.zeros(len(names)))
        components[component] += per_action[:, action]
    return names, {c: v for c, v in components.items() if v.any()}


MAX_BARS = 60       # layers shown by energy_breakdown at most (the most energetic)


def energy_breakdown(result: Result, *, ax=None, top: int | None = None):
    """Stacked bars: each layer's dynamic energy by component (leakage is chip-wide, not shown).

    ``top`` keeps the layers with the most energy (at most MAX_BARS are shown: the width stays
    bounded whatever the network)."""
    names, components = layer_energy_by_component(result)
    totals = sum(components.values()) if components else np.zeros(len(names))
    keep = min(top or len(names), MAX_BARS, len(names))
    order = np.sort(np.argsort(totals)[::-1][:keep]) if keep < len(names) else np.arange(
        len(names))
    ax = _axes(ax, (min(20, max(8, 0.25 * order.size)), 4.5))
    unit, scale = energy_unit(float(totals[order].max(initial=0.0)))
    bottom = np.zeros(order.size)
    ranked = sorted(components, key=lambda c: -components[c].sum())
    for component in ranked:
        values = components[component][order] / scale
        ax.bar(np.arange(order.size), values, bottom=bottom, label=component)
        bottom += values
    ax.set_xticks(np.arange(order.size), [names[i] for i in order], rotation=90, fontsize=7)
    ax.set_xlabel("layer" + ("" if order.size == len(names) else
                             f" (the {order.size} most energetic of {len(names)})"))
    ax.set_ylabel(f"dynamic energy ({unit})")
    ax.set_title(f"{result.workload} on {result.device}: energy per layer by component")
    ax.legend(fontsize=7, ncol=2)
    return ax


def tile_mismatch(rows: list[dict[str, Any]], device: DeviceSpec | str, *, ax=None):
    """The sawtooth: energy per useful MAC against layer size (``rows`` from
    accelsim.analysis.tile_mismatch_curve), multiples of the tile size marked."""
    device = load_device(device)
    ax = _axes(ax, (7, 4))
    sizes = [r["n"] for r in rows]
    ax.plot(sizes, [r["pj_per_mac"] for r in rows], marker=".", label="layer (with buffers, bus)")
    systolic = rows[0].get("unit") == "systolic"
    if "tile_pj_per_mac" in rows[0]:
        ax.plot(sizes, [r["tile_pj_per_mac"] for r in rows], marker=".",
                label="its PE array alone (MACs, register files, hops)" if systolic else
                "its crossbar tiles alone")
        ax.legend(fontsize=8)
    # the rows ran on the systolic array only if the device has one
    sides = ({device.systolic.rows, device.systolic.cols} if systolic else
             {device.cim.rows} if device.cim is not None else set())
    for side in sides:
        for m in range(side, rows[-1]["n"] + 1, side):
            ax.axvline(m, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("layer size n (n x n Linear)")
    ax.set_ylabel("energy per MAC (pJ)")
    ax.set_title(f"Array mismatch on {device.name} ({device.systolic.rows} x "
                 f"{device.systolic.cols} PEs)" if systolic else f"Tile mismatch on {device.name}")
    return ax


_MAX_MAP_TILES = 1_000_000  # a map of more tiles than this has more cells than a figure pixels


def tile_utilization(result: Result, *, group: int = 0, chip_tiles: int | None = None, ax=None):
    """Map of the chip's tiles in one weight group, coloured by the utilization of the layer on
    each tile (grey: unused; layers stacked in one tile's rows add up)."""
    layers = [layer for layer in result.layers if layer.tiles and layer.group == group]
    used = max((layer.first_tile + layer.tiles for layer in layers), default=1)
    if chip_tiles is not None and (isinstance(chip_tiles, bool)
                                   or not isinstance(chip_tiles, numbers.Integral)
                                   or not used <= chip_tiles <= _MAX_MAP_TILES):
        raise ValueError(f"chip_tiles must be a whole number from the {used:,} tiles used to "
                         f"{_MAX_MAP_TILES:,}, got {chip_tiles!r}")
    total = int(chip_tiles or used)
    side = math.ceil(math.sqrt(total))
    grid = np.full(side * side, np.nan)
    for layer in layers:
        span = slice(layer.first_tile, layer.first_tile + layer.tiles)
        grid[span] = np.nan_to_num(grid[span]) + layer.utilization
    ax = _axes(ax, (6, 5))
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_invalid(grid.reshape(side, side)), cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="utilization of the tile (used cells / cells)")
    ax.set_title(f"{result.workload} on {result.device}: {used:,} of {total:,} tiles used "
                 f"(group {group})", fontsize=10)
    ax.set_xlabel(f"tile index mod {side} (tiles fill the chip row by row)")
    ax.set_ylabel(f"tile index // {side}")
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color="lightgrey", label="no layer in this group")], fontsize=7,
              loc="upper right")
    return ax


def array_utilization(result: Result, device: DeviceSpec | str, *, ax=None):
    """Each systolic layer's PE utilization: its MACs over (PEs x the cycles the array computed
    it), a bar per layer. The crossbar tile map (tile_utilization) has nothing to show on a
    device without crossbars."""
    device = load_device(device)
    if device.systolic is None:
        raise AccelsimError(f"{device.name} has no systolic array")
    pes = device.systolic.rows * device.systolic.cols
    layers = [layer for layer in result.layers
              if layer.unit == "systolic" and layer.compute_cycles > 0]
    if not layers:
        raise AccelsimError(f"no layer of {result.workload} ran on {device.name}'s systolic array")
    values = [layer.macs / (pes * layer.compute_cycles) for layer in layers]
    ax = _axes(ax, (max(6.0, min(20.0, 0.25 * len(layers) + 2)), 4))
    ax.bar(range(len(layers)), [100 * v for v in values], color="tab:blue")
    ax.set_xticks(range(len(layers)), [layer.name for layer in layers], rotation=90, fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_ylabel("PE utilization %")
    ax.set_title(f"{result.workload} on {result.device}: MACs / ({device.systolic.rows} x "
                 f"{device.systolic.cols} PEs x compute cycles), per layer", fontsize=10)
    return ax


def device_roofs(device: DeviceSpec | str) -> dict[str, float]:
    """Peak MACs per cycle of each compute unit (and together) and the bandwidths, bytes per
    cycle, of the global buffer, DRAM and interconnect (a bus: its width; a mesh: the links
    into the memory router)."""
    from accelsim.hardware.pricing import resolve
    device = resolve(load_device(device))
    roofs = {"cim_macs_per_cycle": 0.0, "systolic_macs_per_cycle": 0.0}
    if device.cim is not None:
        c = device.cim
        per_vector = c.input_cycles * c.cycles_per_input_cycle(c.cols)
        roofs["cim_macs_per_cycle"] = c.tiles * c.rows * (c.cols // c.cells_per_weight) / per_vector
    if device.systolic is not None:
        roofs["systolic_macs_per_cycle"] = float(device.systolic.rows * device.systolic.cols)
    buffer, noc = device.global_buffer, device.interconnect
    links = 1
    if noc.kind == "mesh":
        x, y = noc.memory_router
        links = sum(1 for ok in (x > 0, x < (noc.cols or 1) - 1, y > 0, y < (noc.rows or 1) - 1)
                    if ok)
    return {**roofs,
            "peak_macs_per_cycle": roofs["cim_macs_per_cycle"] + roofs["systolic_macs_per_cycle"],
            "buffer_bytes_per_cycle": buffer.banks * buffer.ports * buffer.word_bits / 8,
            "dram_bytes_per_cycle": device.dram_bytes_per_cycle,
            "interconnect_bytes_per_cycle": max(links, 1) * noc.width_bits / 8}


def roofline_points(result: Result) -> list[dict[str, Any]]:
    """Per layer with MACs: bytes moved (buffer words, DRAM and interconnect bytes), achieved
    MACs per cycle over its span."""
    rows = []
    counts = result.action_counts
    for index, layer in enumerate(result.layers):
        if not layer.macs or not layer.cycles:
            continue
        buffer_words = counts[index, BUFFER_READS + BUFFER_WRITES].sum()
        dram_bits = counts[index, DRAM_READS + DRAM_WRITES].sum()
        rows.append({"layer": layer.name, "unit": layer.unit, "macs": layer.macs,
                     "cycles": layer.cycles, "buffer_words": float(buffer_words),
                     "dram_bytes": float(dram_bits / 8),
                     "interconnect_bytes": float(counts[index, Action.BUS_BIT] / 8),
                     "macs_per_cycle": layer.macs / layer.cycles})
    return rows


def roofline(result: Result, device: DeviceSpec | str, *, traffic: str = "interconnect",
             ax=None):
    """Achieved MACs per cycle of each layer against its own unit's compute roof and the
    bandwidth roofs of one traffic level: ``traffic="interconnect"`` (MACs per byte crossing
    the bus or mesh, what crossbar layers are bound by) or ``"memory"`` (MACs per byte of
    global-buffer and DRAM traffic, with both their roofs)."""
    if traffic not in ("interconnect", "memory"):
        raise ValueError(f"traffic must be 'interconnect' or 'memory', got {traffic!r}")
    device = load_device(device)
    roofs = device_roofs(device)
    ax = _axes(ax, (7.5, 5))
    word_bytes = device.global_buffer.word_bits / 8
    points = roofline_points(result)
    if traffic == "interconnect":
        moved = [p["interconnect_bytes"] for p in points]
        bandwidths = {"interconnect": roofs["interconnect_bytes_per_cycle"]}
    else:
        moved = [p["buffer_words"] * word_bytes + p["dram_bytes"] for p in points]
        bandwidths = {"global buffer": roofs["buffer_bytes_per_cycle"],
                      "DRAM": roofs["dram_bytes_per_cycle"]}
    intensity = np.array([p["macs"] / max(m, 1.0) for p, m in zip(points, moved)])
    achieved = np.array([p["macs_per_cycle"] for p in points])
    units = sorted({p["unit"] for p in points})
    peaks = {unit: roofs.get(f"{unit}_macs_per_cycle", 0.0) or roofs["peak_macs_per_cycle"]
             for unit in units}
    top = max(peaks.values(), default=roofs["peak_macs_per_cycle"])
    low = max(min(intensity.min(initial=1.0), 1.0) / 4, 1e-3)
    high = max(intensity.max(initial=1.0), top) * 4
    x = np.geomspace(low, high, 200)
    colors = {}
    for unit in units:
        mask = np.array([p["unit"] == unit for p in points])
        dots = ax.scatter(intensity[mask], achieved[mask], s=14, label=f"layers on {unit}")
        colors[unit] = dots.get_facecolor()[0]
        ax.loglog(x, np.full_like(x, peaks[unit]), "-", lw=1, color=colors[unit],
                  label=f"{unit} compute roof ({peaks[unit]:,.0f} MACs/cycle)")
    for (name, bandwidth), style in zip(bandwidths.items(), ("--", ":")):
        ax.loglog(x, np.minimum(top, bandwidth * x), "k" + style, lw=1,
                  label=f"{name} roof ({bandwidth:,.4g} B/cycle)")
    what = "interconnect" if traffic == "interconnect" else "global buffer + DRAM"
    ax.set_xlabel(f"operational intensity (MACs per byte of {what} traffic)")
    ax.set_ylabel("achieved MACs per cycle (over the layer's span)")
    ax.set_title(f"Roofline: {result.workload} on {result.device}")
    ax.legend(fontsize=7)
    return ax


_AXIS_LABELS = {"cycles": ("cycles", 1.0), "energy_pj": ("energy (µJ)", 1e-6),
                "seconds": ("time (s)", 1.0), "area_mm2": ("area (mm²)", 1.0),
                "tops_per_watt": ("TOPS/W", 1.0), "average_power_mw": ("average power (mW)", 1.0),
                "output_error": ("output error against the float64 reference (%)", 100.0)}


def pareto(rows, *, x: str = "cycles", y: str = "energy_pj", ax=None,
           label: str | None = "point"):
    """Scatter of sweep rows with the Pareto front (lower x and y) of each workload and base
    device highlighted, its points labelled by the ``label`` column (None: no labels).

    rows: a list of dicts, a SweepResult or a pandas DataFrame (e.g. from load_results)."""
    from accelsim.results.pareto import as_rows as _as_rows
    from accelsim.results.pareto import pareto_front

    ok = [row for row in _as_rows(rows) if row.get("status", "ok") == "ok"]
    # rows whose figure is undefined (a value-mode output without spread) cannot be placed
    ok = [row for row in ok if all(row.get(axis) not in (None, "") for axis in (x, y))]
    mask = pareto_front(ok, x, y)
    ax = _axes(ax, (7, 5))
    (x_label, x_scale), (y_label, y_scale) = (_AXIS_LABELS.get(x, (x, 1.0)),
                                              _AXIS_LABELS.get(y, (y, 1.0)))
    xs = np.array([float(r[x]) for r in ok]) * x_scale
    ys = np.array([float(r[y]) for r in ok]) * y_scale
    ax.scatter(xs[~mask], ys[~mask], s=12, color="lightgrey", label="design points")
    groups = sorted({(str(r.get("workload", "")), str(r.get("device", ""))) for r in ok})
    for group in groups:
        on = mask & np.array([(str(r.get("workload", "")), str(r.get("device", ""))) == group
                              for r in ok])
        order = np.argsort(xs[on])
        name = " on ".join(part for part in group if part) or "Pareto front"
        ax.plot(xs[on][order], ys[on][order], "o-", ms=5, label=f"front: {name}")
        if label:
            for row, px, py in zip([r for r, f in zip(ok, on) if f], xs[on], ys[on]):
                ax.annotate(str(row.get(label, "")), (px, py), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(f"{len(ok)} design points, {int(mask.sum())} on the fronts"
                 + (f" (labels: {label})" if label else ""))
    ax.legend(fontsize=8)
    return ax


def area_breakdown(device: DeviceSpec | str, *, ax=None):
    """Silicon area by component (horizontal bars, mm², share of the chip and the model each
    figure comes from)."""
    from accelsim.hardware.pricing import area_by_component
    device = load_device(device)
    area = {name: e for name, e in area_by_component(device).items() if e.value > 0}
    total = sum(e.value for e in area.values())
    names = sorted(area, key=lambda name: area[name].value)
    ax = _axes(ax, (8, 0.5 * len(names) + 1.5))
    values = [area[name].value for name in names]
    bars = ax.barh(names, values, color="tab:blue")
    for bar, name in zip(bars, names):
        source = area[name].source.split(" (")[0]
        share = area[name].value / total
        shown = f"{share:.0%}" if share >= 0.1 else f"{100 * share:.2g} %"
        ax.annotate(f" {area[name].value:,.4g} mm² ({shown}), {source}",
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center",
                    fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("area (mm², log scale)")
    ax.set_title(f"{device.name}: {total:,.4g} mm² of silicon by component (DRAM off chip)")
    ax.set_xlim(min(values) / 2, max(values) * 400)
    return ax


UNIT_COLORS = {"cim": "tab:blue", "systolic": "tab:purple", "digital": "tab:orange",
               "lut": "tab:olive", "dram": "tab:gray"}
MAX_TIMELINE_LABELS = 80    # timeline rows labelled by name at most (more: every n-th)


def timeline(result: Result, *, ax=None):
    """When each layer ran: a bar per layer (top to bottom in the network's order) from its
    first task's start to its last task's finish, coloured by the unit that ran it; the
    darker part of a bar is the share of its span in which a task of the layer held a
    resource (busy cycles). Layers overlap when pipelined and follow each other layer by
    layer, so drawing both executions shows what pipelining overlaps. Views (flatten,
    reshape), which take no time, are left out."""
    layers = [layer for layer in result.layers if layer.unit != "view"]
    if not layers:
        raise AccelsimError(f"{result.workload} has no layer that takes time")
    ax = _axes(ax, (10, max(3.0, min(16.0, 0.12 * len(layers) + 1.5))))
    rows = np.arange(len(layers))
    starts = np.array([layer.start_cycle for layer in layers], dtype=float)
    spans = np.array([layer.end_cycle - layer.start_cycle for layer in layers], dtype=float)
    busy = np.array([min(layer.busy_cycles, layer.end_cycle - layer.start_cycle)
                     for layer in layers], dtype=float)
    colors = [UNIT_COLORS.get(layer.unit, "tab:green") for layer in layers]
    ax.barh(rows, spans, left=starts, height=0.8, color=colors, alpha=0.35)
    ax.barh(rows, busy, left=starts, height=0.4, color=colors)
    step = max(1, math.ceil(len(layers) / MAX_TIMELINE_LABELS))
    ax.set_yticks(rows[::step], [layer.name for layer in layers][::step],
                  fontsize=7 if len(layers) <= 40 else 5)
    ax.set_ylim(len(layers) - 0.5, -0.5)
    ax.set_xlim(0, max(result.cycles, 1))
    ax.set_xlabel("cycle")
    ax.set_ylabel("layer, in the network's order")
    order = "layer by layer" if result.execution == "layer_by_layer" else "pipelined"
    ax.set_title(f"{result.workload} on {result.device}, {order}, batch {result.batch}: "
                 f"{result.cycles:,} cycles", fontsize=10)
    from matplotlib.patches import Patch
    units = dict.fromkeys(layer.unit for layer in layers)
    handles = [Patch(color=UNIT_COLORS.get(unit, "tab:green"), label=unit) for unit in units]
    handles.append(Patch(color="black", alpha=0.35, label="span (light) / busy (dark)"))
    ax.legend(handles=handles, fontsize=7, loc="upper right")
    return ax
