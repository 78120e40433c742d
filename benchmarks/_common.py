"""Shared bits of the benchmark scripts: where output goes, CSV files, shipped devices."""

from __future__ import annotations

import argparse
import copy
import csv
import time
from pathlib import Path

import numpy as np

from accelsim._data import data_dir
from accelsim.spec.yamlfile import read_yaml


def output_dir(description: str) -> Path:
    """Parse --out (default: benchmarks/out) and return it, created."""
    return arguments(argparse.ArgumentParser(description=description)).out


def arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """``parser``'s arguments and --out (default: benchmarks/out), the folder created."""
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def write_csv(rows: list[dict], path: Path, *, fields: list[str] | None = None,
              restval="") -> None:
    """Rows as CSV, columns ``fields`` (default: the first row's keys)."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or list(rows[0]), restval=restval)
        writer.writeheader()
        writer.writerows(rows)


def shipped(name: str = "cim-16x16") -> dict:
    """A fresh, modifiable copy of a shipped device's YAML dict."""
    return copy.deepcopy(read_yaml(data_dir("devices") / f"{name}.yaml"))


def per_level(result, levels: dict[str, str], layers) -> dict[str, dict[str, list[float]]]:
    """For each layer of ``result`` named in ``layers``: [energy pJ, count] of the actions of
    each memory level (or the ALU), found by the actions' (component, action) labels:
    ``levels`` maps "component/action" or a whole "component" to a level; the other actions
    are left out."""
    from accelsim.energy.table import action_label
    chosen = {}
    for index in range(result.action_counts.shape[1]):
        component, action = action_label(index)
        level = levels.get(f"{component}/{action}", levels.get(component))
        if level is not None:
            chosen[index] = level
    out = {}
    for layer, counts in zip(result.layers, result.action_counts):
        if layer.name in layers:
            row = out.setdefault(layer.name, {level: [0.0, 0.0] for level in levels.values()})
            for index, level in chosen.items():
                row[level][0] += counts[index] * result.prices_pj[index]
                row[level][1] += counts[index]
    return out


def phase_times(workload, device) -> tuple[dict[str, float], object]:
    """simulate()'s phases on a loaded workload and a resolved device (fast mode, batch 1),
    timed one by one: seconds of "planning", "lowering" (placing included), "event loop" and
    "result"; and the run's Timeline."""
    from accelsim.mapping.lower import lower
    from accelsim.mapping.plan import place_and_route, plan_workload
    from accelsim.results.build import build_result
    t0 = time.perf_counter()
    plans = plan_workload(workload, device)
    t1 = time.perf_counter()
    mapping = place_and_route(plans, device)
    lowered = lower(mapping.plans, placement=mapping.placement)
    t2 = time.perf_counter()
    timeline = lowered.program.run()
    t3 = time.perf_counter()
    build_result(workload, device, mapping.plans, lowered, timeline, batch=1, mode="fast",
                 execution="pipelined", trace=False, output=None, skipped={}, began=t0)
    t4 = time.perf_counter()
    return ({"planning": t1 - t0, "lowering": t2 - t1, "event loop": t3 - t2,
             "result": t4 - t3}, timeline)


def blas_macs_per_second(size: int = 2048, repeats: int = 3) -> float:
    """float32 BLAS multiply-accumulates per second: a size^3 matmul, warmed once, timed
    ``repeats`` times. Time kernels before calling it: OpenBLAS threads keep spinning for a
    while after a matmul and would take the cores from a kernel's threads."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a
    began = time.perf_counter()
    for _ in range(repeats):
        a @ a
    return repeats * size ** 3 / (time.perf_counter() - began)


def peer_cycles(figures: dict) -> float:
    """A ZigZag layer's cycles: loading its data, computing, and storing its results."""
    return (figures["onloading_cycles"] + figures["computation_cycles"]
            + figures["offloading_cycles"])


def print_level_table(ours: dict, theirs: dict, levels, peer: str, more: str = "") -> None:
    """The Markdown table of energy by level summed over layers, accelsim against ``peer``
    ({layer: {level: pJ, "cycles": n}} each), with each level's share and the total's error,
    then the cycles summed over layers (and ``more``)."""
    total = {lv: sum(row[lv] for row in ours.values()) for lv in levels}
    total_p = {lv: sum(row[lv] for row in theirs.values()) for lv in levels}
    energy, energy_p = sum(total.values()), sum(total_p.values())
    print(f"| level | accelsim µJ | {peer} µJ | share ({peer}) |")
    print("|---|---|---|---|")
    for lv in levels:
        print(f"| {lv} | {total[lv] / 1e6:.1f} | {total_p[lv] / 1e6:.1f} | "
              f"{100 * total[lv] / energy:.1f} % ({100 * total_p[lv] / energy_p:.1f} %) |")
    print(f"| total | {energy / 1e6:.1f} | {energy_p / 1e6:.1f} | {energy / energy_p - 1:+.0%} |")
    cycles = sum(row["cycles"] for row in ours.values())
    cycles_p = sum(row["cycles"] for row in theirs.values())
    print(f"\nCycles, summed over layers: {cycles:,} against {cycles_p:,.0f} "
          f"({cycles / cycles_p - 1:+.0%}).{more}\n")


def microjoules(pj: float) -> str:
    """pJ as µJ with one decimal, as the per-layer tables print energies."""
    return f"{pj / 1e6:.1f}"


def print_layer_table(ours: dict, theirs: dict, levels, peer: str, columns) -> None:
    """The Markdown table per layer, accelsim against ``peer``: energy summed over ``levels``
    and its error, then ``columns`` ((header, key, format) each: row[key] formatted, the peer's
    in brackets), then cycles and their error."""
    middle = "".join(f" {header} ({peer}) |" for header, _, _ in columns)
    print(f"| layer | energy µJ ({peer}) | error |{middle} cycles ({peer}) | error |")
    print("|---|---|---|" + "---|" * len(columns) + "---|---|")
    for name, row in ours.items():
        z = theirs[name]
        e, ez = sum(row[lv] for lv in levels), sum(z[lv] for lv in levels)
        cells = "".join(f" {fmt(row[key])} ({fmt(z[key])}) |" for _, key, fmt in columns)
        print(f"| {name} | {microjoules(e)} ({microjoules(ez)}) | {e / ez - 1:+.0%} |{cells} "
              f"{row['cycles']:,} ({z['cycles']:,.0f}) | {row['cycles'] / z['cycles'] - 1:+.0%} |")
