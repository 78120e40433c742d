"""Shared bits of the benchmark scripts: where output goes, CSV files, shipped devices."""

from __future__ import annotations

import argparse
import copy
import csv
from pathlib import Path

from accelsim._data import data_dir
from accelsim.spec.yamlfile import read_yaml


def output_dir(description: str) -> Path:
    """Parse --out (default: benchmarks/out) and return it, created."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    return out


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
