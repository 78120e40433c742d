"""Shared bits of the numbered examples: where plots go, and how numbers are printed."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def output_dir(description: str) -> Path:
    """Parse --out (default: examples/out) and return it, created."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out",
                        help="folder for the plot (default: examples/out)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    return out


def pj(value: float) -> str:
    """An energy with 4 significant digits and a unit that fits."""
    for scale, unit in ((1e9, "mJ"), (1e6, "µJ"), (1e3, "nJ")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value:.4g} pJ"


def save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    if os.environ.get("ACCELSIM_PLOT_CHECK"):
        # what the tests check: each plot's size and its axes' titles and labels
        axes = [{"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel()}
                for ax in figure.axes if ax.get_label() != "<colorbar>"]
        path.with_suffix(".json").write_text(json.dumps(
            {"inches": list(figure.get_size_inches()), "axes": axes}))
    print(f"plot: {path.name}")
