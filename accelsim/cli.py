"""The command line: accelsim run | devices | workloads.

User errors (bad files, unknown names, invalid graphs) print one line to stderr and exit 2.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from accelsim.choices import EXECUTIONS, MODES, POLICIES
from accelsim.errors import AccelsimError, AccelsimWarning

if TYPE_CHECKING:
    from accelsim.spec.device import DeviceSpec


def _console() -> Console:
    """The terminal's width (or $COLUMNS); 140 columns when output is piped to a file."""
    import os
    if os.environ.get("COLUMNS", "").isdigit():
        return Console(width=int(os.environ["COLUMNS"]))
    return Console(width=None if sys.stdout.isatty() else 140)


def _check_output(path: Path | None) -> None:
    """Refuse, before a long run, an output that cannot be written (see
    results.files.output_path)."""
    from accelsim.results.files import output_path
    if path is not None:
        output_path(path, "output")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Group(click.Group):
    """Every user error ends the command with one line on stderr and exit code 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            hint = f" (see accelsim {exc.ctx.info_name} --help)" if getattr(
                exc, "ctx", None) is not None and exc.ctx.info_name != "accelsim" else ""
            click.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except AccelsimError as exc:
            click.echo(f"error: {_one_line(exc)}", err=True)
            sys.exit(2)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AccelsimError as exc:
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accelsim")
def main() -> None:
    """Simulate neural networks on compute-in-memory accelerators."""


def _value_options(settings: tuple[str, ...]) -> dict:
    """--value-option KEY=VALUE pairs as ValueOptions keyword arguments (true/false for the
    switches, words for the choices, numbers for the rest); ValueOptions checks the names and
    ranges."""
    from dataclasses import fields

    from accelsim.kernels.options import ValueOptions
    kinds = {f.name: f.type for f in fields(ValueOptions)}
    options: dict = {}
    for item in settings:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--value-option")
        if key not in kinds:
            raise click.BadParameter(f"unknown option '{key}'; known: {', '.join(kinds)}",
                                     param_hint="--value-option")
        if kinds[key] in (bool, "bool"):
            if text.lower() not in ("true", "false"):
                raise click.BadParameter(f"{key} is true or false, got '{text}'",
                                         param_hint="--value-option")
            options[key] = text.lower() == "true"
        elif kinds[key] in (str, "str"):
            options[key] = text
        else:
            try:
                options[key] = float(text)
            except ValueError:
                raise click.BadParameter(f"{key} is a number, got '{text}'",
                                         param_hint="--value-option") from None
    return options


def _extrapolation_note(console, device: DeviceSpec, given: str) -> None:
    """Name the device's figures that its models extrapolated beyond their fitted data."""
    from accelsim.hardware.pricing import extrapolated
    names = extrapolated(device)
    if names:
        console.print(f"note              {len(names)} figure(s) extrapolated beyond their "
                      f"models' data: {', '.join(names)} (accelsim devices --explain {given})",
                      highlight=False)


@main.command()
@click.option("--device", "-d", required=True,
              help="Device name (see `accelsim devices`) or YAML path.")
@click.option("--workload", "-w", required=True,
              help="Workload name (see `accelsim workloads`), YAML path or ONNX path.")
@click.option("--unsupported-ops", type=click.Choice(["error", "digital"]), default="error",
              show_default=True,
              help="ONNX: refuse operators accelsim does not model, or count each as one "
                   "digital operation per output element.")
@click.option("--input-shape", "input_shape_items", multiple=True, metavar="INPUT=D1,D2,...",
              help="ONNX: the full shape of a graph input with symbolic axes "
                   "(e.g. input_ids=1,128); repeat for several inputs.")
@click.option("--onnx-input", "onnx_inputs", multiple=True, metavar="TENSOR",
              help="ONNX: start the graph at this tensor, taken as an input (host work on "
                   "token ids left out); repeat for several.")
@click.option("--onnx-output", "onnx_outputs", multiple=True, metavar="TENSOR",
              help="ONNX: simulate the graph up to this tensor (e.g. a detector's heads, "
                   "without its post-processing); repeat for several.")
@click.option("--batch", type=click.IntRange(min=1, max=10 ** 7), default=None,
              help="Images to stream through (default: the batch an ONNX file was exported "
                   "with, else 1).")
@click.option("--mode", type=click.Choice(MODES), default="fast", show_default=True,
              help="reference: one event per tile MVM per input vector (slow; for validation).")
@click.option("--execution", type=click.Choice([e.replace("_", "-") for e in EXECUTIONS]),
              default="pipelined", show_default=True,
              help="layer-by-layer: one layer at a time, every activation through DRAM (as "
                   "ZigZag and Timeloop assume); compare with pipelined to see what on-chip "
                   "pipelining saves.")
@click.option("--no-preload", is_flag=True,
              help="Count writing every weight, also those that stay in their tiles.")
@click.option("--policy", type=click.Choice(POLICIES),
              default="rules", show_default=True,
              help="Which unit runs each conv/linear layer on a device with crossbars and a "
                   "systolic array.")
@click.option("--assign", "assignments", multiple=True, metavar="LAYER=UNIT",
              help="Run one layer on a given unit (cim or systolic); repeatable.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full result as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write per-layer rows as CSV.")
@click.option("--values", "values", is_flag=True,
              help="Run real numbers (seeded random weights and inputs unless the workload has "
                   "weights); counts then come from the data, and the report shows what "
                   "sparsity skipped.")
@click.option("--seed", type=click.IntRange(min=0, max=2 ** 63 - 1), default=0,
              show_default=True, help="Seed for --values.")
@click.option("--value-option", "value_settings", multiple=True, metavar="KEY=VALUE",
              help="A value-mode option (accelsim.ValueOptions: adc_range=array|calibrated, "
                   "adc_full_scale, ideal_adc, per_channel, cell_variation, read_noise, "
                   "adc_offset, zero_threshold), e.g. adc_range=calibrated; repeatable; needs "
                   "--values.")
@click.option("--input-zeros", "zero_items", multiple=True, metavar="[LAYER=]FRACTION",
              help="Without --values: the share of zero inputs of systolic-array layers, for "
                   "the array's zero policy (one FRACTION for all, or LAYER=FRACTION, "
                   "repeatable).")
@click.option("--memory-limit-gib", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Refuse runs estimated to need more memory (default: 4 GiB or half the "
                   "machine's memory, or $ACCELSIM_MEMORY_LIMIT_GIB).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the event timeline (Chrome/Perfetto trace JSON, one track per resource).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the totals.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bars for long work (ONNX import, value mode, building the event "
                   "graph). Default: on when standard error is a terminal.")
@click.option("--wide", is_flag=True,
              help="Show every column of the layer table, however wide the terminal.")
def run(device: str, workload: str, unsupported_ops: str, input_shape_items: tuple[str, ...],
        onnx_inputs: tuple[str, ...], onnx_outputs: tuple[str, ...], batch: int | None,
        mode: str,
        execution: str, no_preload: bool, policy: str, assignments: tuple[str, ...],
        values: bool, seed: int, value_settings: tuple[str, ...], zero_items: tuple[str, ...],
        json_path: Path | None, csv_path: Path | None, trace_path: Path | None,
        quiet: bool, wide: bool, memory_limit_gib: float | None,
        progress: bool | None) -> None:
    """Simulate WORKLOAD on DEVICE and print per-layer cycles and energy."""
    from accelsim.results.report import print_report, totals_lines
    from accelsim.simulate import simulate

    for path in (json_path, csv_path, trace_path):
        _check_output(path)
    from accelsim.progress import wanted
    from accelsim.workload.load import load_workload
    progress = wanted(progress)
    workload = load_workload(workload, unsupported=unsupported_ops, progress=progress,
                             input_shapes=_input_shapes(input_shape_items),
                             inputs=list(onnx_inputs) or None,
                             outputs=list(onnx_outputs) or None)

    assign = {}
    for item in assignments:
        layer, sep, unit = item.rpartition("=")
        if not sep or not layer:
            raise click.BadParameter(f"'{item}' is not LAYER=UNIT", param_hint="--assign")
        assign[layer] = unit
    value_options = _value_options(value_settings) if value_settings else None
    if value_options is not None and not values:
        raise click.UsageError("--value-option needs --values")
    from accelsim.spec.load import load_device
    spec = load_device(device)
    with warnings.catch_warnings():
        # the report prints the same caveats
        warnings.simplefilter("ignore", AccelsimWarning)
        result = simulate(workload, spec, batch=batch, mode=mode,
                          execution=execution.replace("-", "_"),
                          preload_weights=not no_preload, policy=policy, assign=assign,
                          trace=trace_path is not None, values=values, seed=seed,
                          value_options=value_options, memory_limit_gib=memory_limit_gib,
                          progress=progress, input_zeros=_input_zeros(zero_items))
    console = _console()
    if quiet:
        for line in totals_lines(result):
            console.print(line, highlight=False)
    else:
        print_report(result, console, wide=wide)
    _extrapolation_note(console, spec, device)
    for path, write in ((json_path, result.to_json), (csv_path, result.to_csv),
                        (trace_path, result.to_trace)):
        if path is not None:
            write(path)                         # a failure is an AccelsimError naming it
            console.print(f"wrote {path}", highlight=False)


def _input_zeros(items: tuple[str, ...]) -> float | dict[str, float] | None:
    """--input-zeros items: one FRACTION, or LAYER=FRACTION items (simulate checks the range)."""
    zeros: dict[str, float] = {}
    for item in items:
        layer, sep, text = item.rpartition("=")
        try:
            fraction = float(text)
        except ValueError:
            fraction = None
        if fraction is None or (sep and not layer):
            raise click.BadParameter(f"'{item}' is not FRACTION or LAYER=FRACTION",
                                     param_hint="--input-zeros")
        if not sep and len(items) > 1:
            raise click.BadParameter(f"'{item}' covers every layer, so it cannot be given "
                                     "with other items", param_hint="--input-zeros")
        if not sep:
            return fraction
        zeros[layer] = fraction
    return zeros or None


def _input_shapes(items: tuple[str, ...]) -> dict[str, list[int]] | None:
    """--input-shape INPUT=D1,D2,... items as {input: [dims]} (the importer checks them)."""
    shapes = {}
    for item in items:
        name, sep, dims = item.rpartition("=")
        try:
            shape = [int(d) for d in dims.replace("x", ",").split(",")]
        except ValueError:
            shape = None
        if not sep or not name or shape is None:
            raise click.BadParameter(f"'{item}' is not INPUT=D1,D2,... (whole numbers)",
                                     param_hint="--input-shape")
        if name in shapes:
            raise click.BadParameter(f"input '{name}' is given twice",
                                     param_hint="--input-shape")
        shapes[name] = shape
    return shapes or None


@main.command("sweep")
@click.argument("sweep_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Results file (.csv, or .parquet); default: the file's `output:` or SWEEP.csv.")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=1024),
              help="Local worker processes (default: all cores).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on a Dask cluster (e.g. tcp://host:8786). The cluster runs the code it "
                   "is sent: use only a scheduler you trust.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--keep-errors", is_flag=True,
              help="On resume, keep the error rows already in the output instead of running "
                   "those points again.")
def sweep_command(sweep_file: Path, output: Path | None, jobs: int | None, scheduler: str | None,
                  no_progress: bool, keep_errors: bool) -> None:
    """Run the design points of SWEEP_FILE; run it again to resume after an interruption."""
    from accelsim.results.report import format_figure
    from accelsim.sweep import load_sweep, pareto_front, sweep
    from accelsim.units import format_pj

    kwargs = load_sweep(sweep_file)
    _check_output(output)
    if output is not None:
        kwargs["output"] = str(output)
    kwargs.setdefault("output", str(sweep_file.with_suffix(".csv")))
    if jobs is not None:
        kwargs["jobs"] = jobs
    try:
        result = sweep(**kwargs, scheduler=scheduler, progress=False if no_progress else None,
                       retry_errors=not keep_errors)
    except KeyboardInterrupt:
        click.echo(f"interrupted: finished points are in {kwargs['output']}; run the same "
                   "command again to resume", err=True)
        sys.exit(130)
    console = _console()
    ok = [row for row in result.rows if row["status"] == "ok"]
    console.print(f"{len(result.rows)} points, {len(result.errors)} errors, written to "
                  f"{result.path}", highlight=False)
    for row in result.errors[:5]:
        console.print(f"  error at point {row['point']}: {row['error']}", highlight=False)
    if ok:
        # value mode: energy against the output's error (what fewer converter bits cost)
        values = "output_error" in ok[0]
        x = "output_error" if values else "cycles"
        front = [row for row, best in zip(result.rows, pareto_front(result.rows, x=x))
                 if best]
        table = Table(title=f"Pareto fronts (energy vs {'output error' if values else 'cycles'}"
                            "), one per workload and device"
                            + ("; output against the float64 reference" if values else ""),
                      title_justify="left")
        extra = ("corr", "error %") if values else ()
        for column in ("workload", "device", "point", *result.parameters, "cycles", "energy",
                       "TOPS/W", *extra):
            table.add_column(column, no_wrap=True,
                             justify="left" if column in ("workload", "device") else "right")
        for row in sorted(front, key=lambda r: (r["workload"], r["device"], r[x])):
            table.add_row(row["workload"], row["device"], str(row["point"]),
                          *(str(row[p]) for p in result.parameters), f"{row['cycles']:,}",
                          format_pj(row["energy_pj"]), f"{row['tops_per_watt']:.3f}",
                          *((format_figure(row["output_correlation"], "{:.4f}"),
                             format_figure(row["output_error"], "{:.3g}", 100)) if values else ()))
        console.print(table)


PLOTS = ("breakdown", "mismatch", "utilization", "roofline", "pareto", "area", "timeline")
# Sweep columns a Pareto plot can put on its axes (each minimized).
PARETO_AXES = ("cycles", "seconds", "energy_pj", "area_mm2", "average_power_mw",
               "output_error")


@main.command("plot")
@click.argument("kind", type=click.Choice(PLOTS))
@click.option("--device", "-d", help="Device name or YAML path (all plots but pareto).")
@click.option("--workload", "-w", help="Workload (breakdown, utilization, roofline, timeline).")
@click.option("--sweep", "sweep_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Sweep results CSV (pareto).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Image file to write (default: KIND.png).")
@click.option("--top", type=click.IntRange(min=1),
              help="breakdown: only the N most energetic layers.")
@click.option("--traffic", type=click.Choice(["interconnect", "memory"]),
              default="interconnect", show_default=True,
              help="roofline: the traffic on the x axis and its bandwidth roofs.")
@click.option("--x", "x_axis", type=click.Choice(PARETO_AXES), default="cycles",
              show_default=True, help="pareto: the quantity on the x axis.")
@click.option("--y", "y_axis", type=click.Choice(PARETO_AXES), default="energy_pj",
              show_default=True, help="pareto: the quantity on the y axis.")
@click.option("--execution", type=click.Choice([e.replace("_", "-") for e in EXECUTIONS]),
              default="pipelined", show_default=True,
              help="The run's execution order (plots of a run: breakdown, utilization, "
                   "roofline, timeline).")
def plot_command(kind: str, device: str | None, workload: str | None, sweep_csv: Path | None,
                 output: Path | None, top: int | None, traffic: str, x_axis: str,
                 y_axis: str, execution: str) -> None:
    """Draw a plot: breakdown | mismatch | utilization | roofline | pareto | area | timeline."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from accelsim.results import plots

    needs = {"breakdown": ("device", "workload"), "utilization": ("device", "workload"),
             "roofline": ("device", "workload"), "mismatch": ("device",), "pareto": ("sweep",),
             "area": ("device",), "timeline": ("device", "workload")}
    given = {"device": device, "workload": workload, "sweep": sweep_csv}
    for option in needs[kind]:
        if given[option] is None:
            raise click.UsageError(f"`accelsim plot {kind}` needs --{option}")
    output = output or Path(f"{kind}.png")
    _check_output(output)
    formats = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    if output.suffix and output.suffix[1:].lower() not in formats:    # before the simulation
        raise click.BadParameter(f"{output}: matplotlib cannot write '{output.suffix}' files; "
                                 f"use one of {', '.join('.' + f for f in sorted(formats))}",
                                 param_hint="'--output'")
    if kind == "mismatch":
        from accelsim.analysis import tile_mismatch_curve
        ax = plots.tile_mismatch(tile_mismatch_curve(device), device)
    elif kind == "pareto":
        from accelsim.sweep import load_results
        ax = plots.pareto(load_results(sweep_csv), x=x_axis, y=y_axis)
    elif kind == "area":
        ax = plots.area_breakdown(device)
    else:
        from accelsim.simulate import simulate
        from accelsim.spec.load import load_device
        dev = load_device(device)
        result = simulate(workload, dev, execution=execution.replace("-", "_"))
        if kind == "breakdown":
            ax = plots.energy_breakdown(result, top=top)
        elif kind == "utilization":
            ax = (plots.tile_utilization(result, chip_tiles=dev.cim.tiles) if dev.cim else
                  plots.array_utilization(result, dev))
        elif kind == "timeline":
            ax = plots.timeline(result)
        else:
            ax = plots.roofline(result, dev, traffic=traffic)
    ax.figure.tight_layout()
    try:
        ax.figure.savefig(output, dpi=120)
    except OSError as exc:
        raise AccelsimError(f"{output}: cannot write: {exc.strerror}") from None
    plt.close(ax.figure)
    click.echo(f"wrote {output}")


@main.command()
@click.option("--explain", "explain", metavar="NAME",
              help="Show every price, area and latency of device NAME (a shipped name or a "
                   "YAML path) with where it comes from: the file, or a model and its inputs.")
def devices(explain: str | None) -> None:
    """List the devices that ship with accelsim (or explain one)."""
    from accelsim.spec.load import available_devices, load_device

    if explain is not None:
        _explain(load_device(explain))
        return
    table = Table(title="Devices (use the name with --device; --explain NAME for its figures)",
                  title_justify="left")
    for column in ("name", "crossbars", "weight/input/ADC bits", "systolic array", "clock",
                   "description"):
        table.add_column(column)
    for name in available_devices():
        dev = load_device(name)
        cim, array = dev.cim, dev.systolic
        table.add_row(name, f"{cim.tiles:,} x {cim.rows}x{cim.cols}" if cim else "",
                      f"{cim.weight_bits}/{cim.input_bits}/{cim.adc_bits}" if cim else "",
                      f"{array.rows}x{array.cols} {array.dataflow}, {array.operand_bits}-bit"
                      if array else "",
                      f"{dev.clock_hz / 1e6:g} MHz", dev.description)
    _console().print(table)


def _explain(device) -> None:
    """Print a device's resolved figures with their provenance."""
    from accelsim.hardware.pricing import area_by_component, estimates, latencies

    found = estimates(device)            # refuses an impossible device before any output
    console = _console()
    console.print(f"{device.name}: {device.technology_nm:g} nm, {device.voltage_v:g} V, "
                  f"{device.clock_hz / 1e6:g} MHz. Figures marked 'given' come from the file; "
                  "the others from the component models (docs/models.md).", highlight=False)
    table = Table(title="Prices, leakage, cycles and cell parameters", title_justify="left")
    for column, justify in (("field", "left"), ("value", "right"), ("unit", "left"),
                            ("source", "left"), ("inputs", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for section, figures in found.items():
        for name, estimate in figures.items():
            table.add_row(f"{section}.{name}", _figure(estimate.value), estimate.unit,
                          "given" if estimate.given else estimate.source, estimate.detail)
    console.print(table)
    area = area_by_component(device)
    total = sum(e.value for e in area.values())
    table = Table(title=f"Area: {total:,.4g} mm² (DRAM off chip)", title_justify="left")
    for column, justify in (("component", "left"), ("mm²", "right"), ("share", "right"),
                            ("source", "left"), ("inputs", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for name, estimate in sorted(area.items(), key=lambda item: -item[1].value):
        table.add_row(name, _figure(estimate.value),
                      f"{estimate.value / total:.1%}" if total else "", estimate.source,
                      estimate.detail)
    console.print(table)
    table = Table(title=f"Latencies (clock period {1e9 / device.clock_hz:.3g} ns)",
                  title_justify="left")
    for column, justify in (("component", "left"), ("ns", "right"), ("source", "left"),
                            ("note", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for name, estimate in latencies(device).items():
        table.add_row(name, _figure(estimate.value), estimate.source, estimate.detail)
    console.print(table)


def _figure(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e9:
        return f"{int(value):,}"
    return f"{value:.4g}"


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--match", default="", metavar="TEXT",
              help="Only tensors whose name, node or operator contains TEXT.")
def tensors(model: str, match: str) -> None:
    """List the tensors of an ONNX MODEL: the names --onnx-input and --onnx-output take."""
    from accelsim.workload.onnx.cut import graph_tensors

    rows = [row for row in graph_tensors(model)
            if not match or any(match.lower() in field.lower() for field in row[:3])]
    table = Table(title=f"{model}: {len(rows)} tensor{'s' * (len(rows) != 1)} given by nodes"
                  + (f" matching '{match}'" if match else ""), title_justify="left")
    for column in ("operator", "node", "tensor", "shape"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(field) for field in row))     # (shapes are not markup)
    _console().print(table)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--input", "inputs", multiple=True, metavar="TENSOR",
              help="Start the graph at this tensor, taken as an input; repeatable.")
@click.option("--output", "outputs", multiple=True, metavar="TENSOR",
              help="End the graph at this tensor; repeatable.")
@click.option("--input-shape", "input_shape_items", multiple=True, metavar="INPUT=D1,D2,...",
              help="Write this full shape into a graph input (symbolic axes made static); "
                   "repeatable.")
def cut(model: str, out: str, inputs: tuple[str, ...], outputs: tuple[str, ...],
        input_shape_items: tuple[str, ...]) -> None:
    """Write the part of an ONNX MODEL between tensors, or of the shapes given, to OUT
    (.onnx): what --onnx-input, --onnx-output and --input-shape simulate, as a file to sweep
    or share."""
    from accelsim.results.files import output_path
    from accelsim.workload.onnx.cut import write_cut

    kept = write_cut(model, output_path(out, "cut model"), inputs=list(inputs) or None,
                     outputs=list(outputs) or None,
                     input_shapes=_input_shapes(input_shape_items))
    _console().print(f"wrote {out} ({kept:,} nodes)", highlight=False)


@main.command()
def workloads() -> None:
    """List the built-in and shipped workloads."""
    from accelsim.workload.load import available_workloads, load_workload

    table = Table(title="Workloads (use the name with --workload)", title_justify="left")
    for column, justify in (("name", "left"), ("layers", "right"), ("MACs", "right"),
                            ("weights", "right"), ("about", "left")):
        table.add_column(column, justify=justify)
    for name, about in available_workloads().items():
        wl = load_workload(name)
        table.add_row(name, str(len(wl)), f"{wl.macs:,}", f"{wl.weight_count:,}", about)
    _console().print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
