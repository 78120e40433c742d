"""Shared bits of the numbered examples: where plots go, and how numbers are printed."""

from __future__ import annotations

import argparse
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
    for scale, unit in ((1e9, "mJ"), (1e6, "uJ"), (1e3, "nJ")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value:.4g} pJ"


def save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path.name}")
