"""Plots of results and sweeps. Each function takes ``ax=`` (a matplotlib Axes; a new figure
when None) and returns the Axes. Nothing here changes global matplotlib settings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accelsim.energy.table import (
    ACTION_LABELS,
    BUFFER_READS,
    BUFFER_WRITES,
    DRAM_READS,
    DRAM_WRITES,
    Action,
)
from accelsim.results.result import Result
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import load_device


def _axes(ax, figsize=(8, 4.5)):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize)
    return ax


def layer_energy_by_component(result: Result) -> tuple[list[str], dict[str, np.ndarray]]:
    """Layer names and, per component, each layer's dynamic energy in pJ."""
    names = [layer.name for layer in result.layers]
    per_action = result.action_counts * result.prices_pj
    components: dict[str, np.ndarray] = {}
    for action in Action:
        component = ACTION_LABELS[action][0]
        components.setdefault(component, np.zeros(len(names)))
        components[component] += per_action[:, action]
    return names, {c: v for c, v in components.items() if v.any()}


def energy_breakdown(result: Result, *, ax=None, top: int | None = None):
    """Stacked bars: each layer's dynamic energy by component (leakage is chip-wide, not shown).

    ``top`` keeps the layers with the most energy."""
    ax = _axes(ax, (max(8, 0.25 * len(result.layers)), 4.5))
    names, components = layer_energy_by_component(result)
    order = np.arange(len(names))
    if top is not None:
        totals = sum(components.values())
        order = np.sort(np.argsort(totals)[::-1][:top])
    bottom = np.zeros(order.size)
    ranked = sorted(components, key=lambda c: -components[c].sum())
    for component in ranked:
        values = components[component][order] / 1e6
        ax.bar(np.arange(order.size), values, bottom=bottom, label=component)
        bottom += values
    ax.set_xticks(np.arange(order.size), [names[i] for i in order], rotation=90, fontsize=7)
    ax.set_ylabel("energy (µJ)")
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
    if "tile_pj_per_mac" in rows[0]:
        ax.plot(sizes, [r["tile_pj_per_mac"] for r in rows], marker=".",
                label="its crossbar tiles alone")
        ax.legend(fontsize=8)
    if device.cim is not None:
        for m in range(device.cim.rows, rows[-1]["n"] + 1, device.cim.rows):
            ax.axvline(m, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("layer size n (n x n Linear)")
    ax.set_ylabel("energy per MAC (pJ)")
    ax.set_title(f"Tile mismatch on {device.name}")
    return ax


def tile_utilization(result: Result, *, group: int = 0, chip_tiles: int | None = None, ax=None):
    """Map of the chip's tiles in one weight group, coloured by the utilization of the layer on
    each tile (grey: unused)."""
    layers = [layer for layer in result.layers if layer.tiles and layer.group == group]
    used = max((layer.first_tile + layer.tiles for layer in layers), default=1)
    total = chip_tiles or used
    side = math.ceil(math.sqrt(total))
    grid = np.full(side * side, np.nan)
    for layer in layers:
        grid[layer.first_tile:layer.first_tile + layer.tiles] = layer.utilization
    ax = _axes(ax, (6, 5))
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_invalid(grid.reshape(side, side)), cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="utilization of the tile's layer")
    ax.set_title(f"{result.workload} on {result.device}: {used:,} tiles of group {group}")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def device_roofs(device: DeviceSpec | str) -> dict[str, float]:
    """Peak MACs per cycle and memory bandwidths (bytes per cycle) of a device."""
    from accelsim.hardware.pricing import resolve
    device = resolve(load_device(device))
    peak = 0.0
    if device.cim is not None:
        c = device.cim
        per_vector = c.input_cycles * c.cycles_per_input_cycle(c.cols)
        peak += c.tiles * c.rows * (c.cols // c.cells_per_weight) / per_vector
    if device.systolic is not None:
        peak += device.systolic.rows * device.systolic.cols
    buffer = device.global_buffer
    return {"peak_macs_per_cycle": peak,
            "buffer_bytes_per_cycle": buffer.banks * buffer.ports * buffer.word_bits / 8,
            "dram_bytes_per_cycle": device.dram_bytes_per_cycle}


def roofline_points(result: Result) -> list[dict[str, Any]]:
    """Per layer with MACs: bytes moved (buffer and DRAM), MACs per byte, achieved MACs/cycle."""
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
                     "macs_per_cycle": layer.macs / layer.cycles})
    return rows


def roofline(result: Result, device: DeviceSpec | str, *, ax=None):
    """Achieved MACs per cycle of each layer against the device's compute and bandwidth roofs,
    with operational intensity in MACs per byte of global-buffer and DRAM traffic."""
    device = load_device(device)
    roofs = device_roofs(device)
    ax = _axes(ax, (7, 5))
    word_bytes = device.global_buffer.word_bits / 8
    points = roofline_points(result)
    intensity = np.array([p["macs"] / max(p["buffer_words"] * word_bytes + p["dram_bytes"], 1)
                          for p in points])
    achieved = np.array([p["macs_per_cycle"] for p in points])
    low = max(min(intensity.min(initial=1.0), 1.0) / 4, 1e-3)
    high = max(intensity.max(initial=1.0), roofs["peak_macs_per_cycle"]) * 4
    x = np.geomspace(low, high, 200)
    ax.loglog(x, np.full_like(x, roofs["peak_macs_per_cycle"]), "k-", lw=1, label="compute roof")
    for key, style in (("buffer_bytes_per_cycle", "--"), ("dram_bytes_per_cycle", ":")):
        ax.loglog(x, np.minimum(roofs["peak_macs_per_cycle"], roofs[key] * x), "k" + style,
                  lw=1, label=key.replace("_bytes_per_cycle", " bandwidth roof"))
    for unit in sorted({p["unit"] for p in points}):
        mask = np.array([p["unit"] == unit for p in points])
        ax.scatter(intensity[mask], achieved[mask], s=14, label=f"layers on {unit}")
    ax.set_xlabel("operational intensity (MACs per byte of buffer + DRAM traffic)")
    ax.set_ylabel("achieved MACs per cycle (layer span)")
    ax.set_title(f"Roofline: {result.workload} on {result.device}")
    ax.legend(fontsize=7)
    return ax


_AXIS_LABELS = {"cycles": ("cycles", 1.0), "energy_pj": ("energy (µJ)", 1e-6),
                "seconds": ("time (s)", 1.0), "area_mm2": ("area (mm²)", 1.0),
                "tops_per_watt": ("TOPS/W", 1.0), "average_power_mw": ("average power (mW)", 1.0)}


def pareto(rows, *, x: str = "cycles", y: str = "energy_pj", ax=None,
           label: str | None = "point"):
    """Scatter of sweep rows with the Pareto front (lower x and y) of each workload and base
    device highlighted, its points labelled by the ``label`` column (None: no labels).

    rows: a list of dicts, a SweepResult or a pandas DataFrame (e.g. from load_results)."""
    from accelsim.results.pareto import as_rows as _as_rows
    from accelsim.results.pareto import pareto_front

    ok = [row for row in _as_rows(rows) if row.get("status", "ok") == "ok"]
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
