"""Human-readable reports of a Result: a per-layer table, totals and the energy breakdown."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from accelsim.results.result import Result, zeroed_message
from accelsim.units import format_pj

# Rich's default box draws "│ " before each cell, " " after, and a closing "│".
_CELL_PADDING = 3
# The largest field a lithography scanner exposes at once, 26 mm x 33 mm (the industry's
# standard reticle field, e.g. ASML's NXT/NXE scanners): a single die cannot be larger.
RETICLE_MM2 = 26 * 33


def fitted_table(title: str, columns: list[tuple[str, str, int]], rows: list[list[str]], *,
                 width: int | None = None, wrap: tuple[str, ...] = ()) -> Table:
    """A table whose cells are never cut: each column is as wide as its widest cell, except
    the ``wrap`` columns (names), which fold onto more lines. When the table is wider than
    ``width``, whole columns are left out, highest ``priority`` number first (0: always
    kept), and a caption names them.

    columns: (header, justify, priority) each; rows: cell texts.
    """
    needed = [max([len(header), *(len(row[i]) for row in rows)])
              for i, (header, _, _) in enumerate(columns)]
    minimum = [min(needed[i], max(len(header), 24)) if header in wrap else needed[i]
               for i, (header, _, _) in enumerate(columns)]
    keep = list(range(len(columns)))
    dropped = []
    if width is not None:
        def total(indices):
            return sum(minimum[i] + _CELL_PADDING for i in indices) + 1
        for i in sorted(keep, key=lambda i: -columns[i][2]):
            if total(keep) <= width or columns[i][2] == 0:
                break
            keep.remove(i)
            dropped.append(columns[i][0])
    caption = (f"left out to fit {width} columns: {', '.join(reversed(dropped))} "
               "(--wide shows them)" if dropped else None)
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for i in keep:
        header, justify, _ = columns[i]
        if header in wrap:
            table.add_column(header, justify=justify, overflow="fold", min_width=minimum[i])
        else:
            table.add_column(header, justify=justify, no_wrap=True, min_width=needed[i])
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


def format_time(seconds: float) -> str:
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3f} {unit}"
    return f"{seconds * 1e9:.1f} ns"


def layer_table(result: Result, width: int | None = None) -> Table:
    """Per layer: unit, tiles, span and busy cycles, MACs and energy. Columns that do not fit
    ``width`` are left out, least important first (the numbers are never cut)."""
    columns = [("layer", "left", 0), ("kind", "left", 3), ("unit", "left", 5),
               ("tiles", "right", 6), ("util %", "right", 2), ("group", "right", 8),
               ("start", "right", 7), ("span", "right", 4), ("busy", "right", 1),
               ("MACs", "right", 6), ("energy", "right", 0), ("share %", "right", 1)]
    dynamic = sum(layer.energy_pj for layer in result.layers) or 1.0
    rows = [[layer.name, layer.kind, layer.unit,
             f"{layer.tiles:,}" if layer.tiles else "",
             f"{100 * layer.utilization:.2f}" if layer.tiles else "",
             "" if layer.group is None else str(layer.group),
             f"{layer.start_cycle:,}", f"{layer.span_cycles:,}", f"{layer.busy_cycles:,}",
             f"{layer.macs:,}" if layer.macs else "",
             format_pj(layer.energy_pj), f"{100 * layer.energy_pj / dynamic:.1f}"]
            for layer in result.layers]
    measured = any(layer.product_correlation is not None for layer in result.layers)
    if measured:       # value mode: each weighted layer's product against the exact one
        columns += [("corr", "right", 2), ("error %", "right", 3)]
        for row, layer in zip(rows, result.layers):
            row += (["", ""] if layer.product_correlation is None else
                    [format_figure(layer.product_correlation, "{:.3f}"),
                     format_figure(layer.product_error, "{:.1f}", 100)])
    mapped = any(layer.mapping for layer in result.layers)
    if mapped:         # row stationary: the mapping each layer's search chose
        columns.append(("mapping", "left", 2))
        for row, layer in zip(rows, result.layers):
            row.append(layer.mapping)
    return fitted_table(f"{result.workload} on {result.device} (batch {result.batch}, "
                        f"{result.mode} mode"
                        + (", layer by layer" if result.execution == "layer_by_layer" else "")
                        + "; span: first start to last finish, busy: cycles "
                        "with a task of the layer running"
                        + ("; corr, error %: the layer's product against the exact product "
                           "of its inputs" if measured else "")
                        + ("; mapping: row stationary, Eyeriss's notation: strip e, filter "
                           "rows R, channel and filter sets r and t, filters p and channels "
                           "q per PE, images n per pass" if mapped else "") + ")",
                        columns, rows, width=width, wrap=("layer", "mapping"))


def format_figure(value: float | None, form: str, scale: float = 1.0) -> str:
    """``value`` * ``scale`` in ``form``; "n/a" for None (no spread, or no reference signal
    to compare with)."""
    return "n/a" if value is None else form.format(value * scale)


def mapping_table(result: Result) -> Table | None:
    """Which unit runs each weighted layer and why; None when the device has only one unit."""
    reasons = {layer.reason for layer in result.layers if layer.reason}
    if not reasons - {"the device's only unit"}:
        return None
    table = Table(title="Mapping: which unit runs each layer, and why", title_justify="left")
    for column in ("layer", "unit", "compute cycles", "why"):
        table.add_column(column, justify="right" if column == "compute cycles" else "left")
    for layer in result.layers:
        if layer.reason:
            table.add_row(layer.name, layer.unit, f"{layer.compute_cycles:,}", layer.reason)
    return table


def breakdown_table(result: Result) -> Table:
    table = Table(title="Energy by component and action", title_justify="left")
    for column, justify in (("component", "left"), ("action", "left"), ("energy", "right"),
                            ("share %", "right")):
        table.add_column(column, justify=justify)
    total = result.energy_pj or 1.0
    items = sorted(result.energy_breakdown().items(), key=lambda item: -item[1])
    for (component, action), pj in items:
        table.add_row(component, action, format_pj(pj), f"{100 * pj / total:.1f}")
    return table


def sparsity_table(result: Result) -> Table | None:
    """What the sparsity policies avoided, per layer (zeros measured by value mode, or given as
    simulate's input_zeros); None when nothing was measured or given."""
    if not result.skipped:
        return None
    source = "measured from the data" if result.output is not None else "given input zeros"
    table = Table(title=f"Skipped by sparsity ({source})", title_justify="left")
    for column in ("layer", "rows not driven", "conversions avoided", "tiles not mapped",
                   "MACs gated/skipped", "energy saved"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for layer, entry in result.skipped.items():
        table.add_row(layer, f"{entry.get('dac_convert', 0):,.0f}",
                      f"{entry.get('adc_convert', 0):,.0f}", f"{entry['tiles_not_mapped']:,}",
                      f"{entry.get('pe_mac', 0):,.0f}", format_pj(entry["energy_saved_pj"]))
    return table


def resource_table(result: Result) -> Table:
    table = Table(title="Resources: busy cycles, and cycles with tasks waiting for them",
                  title_justify="left")
    for column in ("resource", "busy cycles", "utilization %", "cycles with a task waiting"):
        table.add_column(column, justify="left" if column == "resource" else "right")
    for name, entry in sorted(result.resources.items(), key=lambda kv: -kv[1].utilization):
        table.add_row(name, f"{entry.busy_cycles:,}", f"{100 * entry.utilization:.1f}",
                      f"{entry.waiting_cycles:,}")
    return table


def stall_table(result: Result) -> Table | None:
    """Stall cycles by cause (each at most the run's cycles; causes overlap in time)."""
    if not result.stalls:
        return None
    table = Table(title="Stalls: cycles in which a task waited for a resource, or a compute "
                        "unit for data (causes overlap)", title_justify="left")
    for column in ("cause", "cycles", "% of the run"):
        table.add_column(column, justify="left" if column == "cause" else "right")
    for cause, cycles in sorted(result.stalls.items(), key=lambda kv: -kv[1]):
        table.add_row(cause, f"{cycles:,}", f"{100 * cycles / max(result.cycles, 1):.1f}")
    return table


def _shared_note(result: Result) -> str:
    """", N layers stacked in the rows of M shared tiles" when placement shared tiles: a sweep
    over the layers' tile ranges, sorted within each group (a network of 500 k tiles takes a
    fraction of a millisecond, not a pass per tile)."""
    spans = sorted((layer.group, layer.first_tile, layer.first_tile + layer.tiles, layer.name)
                   for layer in result.layers
                   if layer.tiles and layer.first_tile is not None and layer.group is not None)
    stacked: set[str] = set()
    shared = 0
    group = reach = counted = None
    for where, start, end, name in spans:
        if where != group:            # the furthest tile reached so far, by which layer
            group, reach, counted = where, (start, name), start
        elif start < reach[0]:        # overlaps the layer reaching furthest: tiles shared
            stacked.update((name, reach[1]))
            low, high = max(start, counted), min(end, reach[0])
            if high > low:
                shared, counted = shared + high - low, high
        if end > reach[0]:
            reach = (end, name)
    if not shared:
        return ""
    return (f"; {len(stacked)} layers stacked in the rows of {shared} shared "
            f"tile{'s' if shared > 1 else ''}")


def totals_lines(result: Result) -> list[str]:
    lines = [
        f"total cycles      {result.cycles:,} ({format_time(result.seconds)} at "
        f"{result.clock_hz / 1e6:g} MHz)",
        f"total energy      {format_pj(result.energy_pj)}"
        + (f" ({format_pj(result.energy_pj / result.batch)} per input of the batch of "
           f"{result.batch})" if result.batch > 1 else ""),
        f"MACs              {result.macs:,}",
        *(["execution         layer by layer: one layer at a time, every activation through "
           "DRAM"] if result.execution == "layer_by_layer" else []),
        f"efficiency        {result.tops_per_watt:.3f} TOPS/W, "
        f"{format_pj(result.energy_pj / max(result.macs, 1))} per MAC"
        + (f" (DRAM included; on chip {result.on_chip_tops_per_watt:.3f} TOPS/W)"
           if result.dram_energy_pj > 0 else ""),
        f"average power     {result.average_power_mw:.2f} mW"
        + (f" (on chip {result.on_chip_power_mw:.2f} mW, DRAM "
           f"{result.average_power_mw - result.on_chip_power_mw:.2f} mW)"
           if result.dram_energy_pj > 0 else ""),
        *([f"silicon area      {result.area_mm2:,.4g} mm² ("
           + ", ".join(f"{name} {mm2 / result.area_mm2:.0%}" for name, mm2 in
                       sorted(result.area_breakdown().items(), key=lambda item: -item[1])
                       if mm2 >= 0.005 * result.area_mm2)
           + f"); {result.tops:.3g} TOPS, {result.tops_per_mm2:.3g} TOPS/mm²"]
          if result.area_mm2 else []),
        *([f"                  {result.area_mm2 / RETICLE_MM2:.1f}x a reticle (26 x 33 mm): no "
           "single die is this large; take several chips, or fewer or larger tiles"]
          if result.area_mm2 > RETICLE_MM2 else []),
        *([f"batch of {result.batch}      first image done after {result.first_image_cycles:,} "
           f"cycles, then one every {result.steady_state_cycles_per_image:,.0f} on average; "
           f"{result.batch} images in {result.cycles:,} cycles "
           f"({result.images_per_second:,.1f} images/s)"] if result.batch > 1 else []),
        *([f"weight groups     {result.weight_groups}"
           + (" (weights resident)" if result.weight_groups == 1 else
              " (shared tiles rewritten for every image; writes and DRAM traffic counted)")
           + _shared_note(result)]
          if result.weight_groups else []),
        *([f"mesh              {result.noc.hop_bits:,.0f} bit-hops over "
           f"{result.noc.links_used} of {result.noc.links} links; busiest link "
           f"{result.noc.busiest_link} busy {result.noc.busiest_link_busy_cycles:,} "
           f"cycles ({100 * result.noc.busiest_link_utilization:.1f} %)"]
          if result.noc else []),
        *([f"DRAM rows         {result.dram.rows_opened:,.0f} opened for "
           f"{result.dram.bursts:,.0f} bursts ({result.dram.page_policy} page: "
           f"{100 * result.dram.row_hit_rate:.1f} % row hits)"] if result.dram else []),
    ]
    if result.one_time_programming_pj:
        lines.append(f"one-time weight load {format_pj(result.one_time_programming_pj)} "
                     "(not in the totals)")
    compiled = (f", of which {result.compile_seconds:.2f} s compiling or loading the event "
                "loop" if result.compile_seconds > 0.05 else "")
    lines.append(f"simulated         {result.events:,} events in {result.engine_seconds:.3f} s "
                 f"(event loop); {result.wall_seconds:.3f} s in all{compiled}")
    if result.value_run:
        lines.append(f"values            {value_run_line(result.value_run)}")
    if result.reference is not None:
        agreement = result.output_agreement()
        lines.append("output            against the float64 reference (same weights and "
                     "inputs, no quantization): correlation "
                     f"{format_figure(agreement['correlation'], '{:.4f}')}, error "
                     f"{_relative(agreement['relative_error'])}")
        measured = [layer for layer in result.layers if layer.product_error is not None]
        if measured:
            worst = max(measured, key=lambda layer: layer.product_error)
            lines.append(f"weakest layer     {worst.name}: its product against the exact one "
                         "of its inputs, correlation "
                         f"{format_figure(worst.product_correlation, '{:.4f}')}, error "
                         f"{_relative(worst.product_error)}")
    if result.zeroed_layers:
        lines.append(f"WARNING           {zeroed_message(result)}")
    return lines + contention_note(result)


def _relative(error: float | None) -> str:
    """A relative error as a percentage, or as a multiple of the reference from 10x on."""
    if error is None:
        return "n/a"
    return f"{100 * error:.3g} %" if error < 10 else f"{error:.3g}x its size"


def value_run_line(run: dict) -> str:
    """A value-mode run's seed and its options that differ from the defaults, one line."""
    from dataclasses import fields

    from accelsim.kernels.options import ValueOptions
    changed = [f"{f.name}={run[f.name]}" for f in fields(ValueOptions)
               if f.name not in ("ideal_adc", "adc_range") and f.name in run
               and run[f.name] != f.default]
    adc = ("an ideal ADC" if run.get("ideal_adc") else
           "ADC range calibrated per layer on the data" if run.get("adc_range") == "calibrated"
           else "ADC range fixed at the array's largest column sum")
    return f"seed {run.get('seed')}; {adc}" + "".join(f"; {item}" for item in changed)


def print_report(result: Result, console: Console | None = None, *,
                 wide: bool = False) -> None:
    """Print the layer table, the other tables and the totals. ``wide``: every column, however
    wide the console."""
    console = console or Console()
    console.print(layer_table(result, None if wide else console.width))
    for extra in (mapping_table(result), sparsity_table(result), resource_table(result),
                  stall_table(result)):
        if extra is not None:
            console.print(extra)
    console.print(breakdown_table(result))
    for line in totals_lines(result):
        console.print(line, highlight=False)


def contention_note(result: Result) -> list[str]:
    """On a device with crossbars and a systolic array, a reminder that the mapping chose layer
    by layer, blind to the queue its choices build on the one array."""
    on_array = [layer for layer in result.layers if layer.unit == "systolic"]
    array = result.resources.get("systolic")
    if not on_array or array is None or "crossbar tiles" not in result.resources:
        return []
    return [f"note              the mapping chose each layer's unit alone, from per-layer "
            f"estimates that cannot see contention: {len(on_array)} layers queue for the one "
            f"systolic array, busy {100 * array.utilization:.0f} % of the run (compare "
            f"--policy cim)"]
