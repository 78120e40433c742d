"""The command line: accelsim run | devices | workloads.

User errors (bad files, unknown names, invalid graphs) print one line to stderr and exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from accelsim.errors import AccelsimError


def _console() -> Console:
    # Wide enough for the layer table when output is piped to a file.
    return Console(width=None if sys.stdout.isatty() else 140)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AccelsimError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="accelsim")
def main() -> None:
    """Simulate neural networks on compute-in-memory accelerators."""


@main.command()
@click.option("--device", "-d", required=True, help="Device name (see `accelsim devices`) or YAML path.")
@click.option("--workload", "-w", required=True, help="Workload name (see `accelsim workloads`) or YAML path.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Images to stream through.")
@click.option("--mode", type=click.Choice(["fast", "reference"]), default="fast", show_default=True,
              help="reference: one event per tile MVM per input vector (slow; for validation).")
@click.option("--no-preload", is_flag=True, help="Count writing the weights even when they all fit.")
@click.option("--policy", type=click.Choice(["rules", "energy", "latency", "edp", "cim", "systolic"]),
              default="rules", show_default=True,
              help="Which unit runs each conv/linear layer on a device with crossbars and a systolic array.")
@click.option("--assign", "assignments", multiple=True, metavar="LAYER=UNIT",
              help="Run one layer on a given unit (cim or systolic); repeatable.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the full result as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write per-layer rows as CSV.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the totals.")
def run(device: str, workload: str, batch: int, mode: str, no_preload: bool, policy: str,
        assignments: tuple[str, ...], json_path: Path | None, csv_path: Path | None,
        quiet: bool) -> None:
    """Simulate WORKLOAD on DEVICE and print per-layer cycles and energy."""
    from accelsim.results.report import print_report, totals_lines
    from accelsim.simulate import simulate

    assign = {}
    for item in assignments:
        layer, sep, unit = item.rpartition("=")
        if not sep or not layer:
            raise click.BadParameter(f"'{item}' is not LAYER=UNIT", param_hint="--assign")
        assign[layer] = unit
    result = simulate(workload, device, batch=batch, mode=mode,
                      preload_weights=not no_preload, policy=policy, assign=assign)
    console = _console()
    if quiet:
        for line in totals_lines(result):
            console.print(line, highlight=False)
    else:
        print_report(result, console)
    for path, write in ((json_path, result.to_json), (csv_path, result.to_csv)):
        if path is not None:
            try:
                write(path)
            except OSError as exc:
                raise AccelsimError(f"{path}: cannot write: {exc.strerror}") from None
            console.print(f"wrote {path}", highlight=False)


@main.command()
def devices() -> None:
    """List the devices that ship with accelsim."""
    from accelsim.spec.load import available_devices, load_device

    table = Table(title="Devices (use the name with --device)", title_justify="left")
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
        table.add_row(name, str(len(wl)), f"{wl.macs:,}", f"{wl.weights:,}", about)
    _console().print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
