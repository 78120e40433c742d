"""Tile mismatch: energy per MAC of square Linear layers n x n on cim-16x16, n = 8 ... 64.

    python benchmarks/tile_mismatch.py [--out benchmarks/out]

Writes tile_mismatch.csv and tile_mismatch.png; prints the local minima (expected at the
multiples of the 16x16 tile: 16, 32, 48, 64).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import accelsim
from accelsim.workload import Input, Linear, Workload


def sweep(device: str = "cim-16x16", sizes=range(8, 65)) -> list[dict]:
    rows = []
    for n in sizes:
        wl = Workload.from_layers(f"square-{n}", [Input("in", shape=(n, 1, 1)),
                                                  Linear("fc", ("in",), n)])
        res = accelsim.simulate(wl, device)
        fc = next(layer for layer in res.layers if layer.name == "fc")
        rows.append({"n": n, "tiles": fc.tiles, "utilization": fc.utilization,
                     "layer_pj": fc.energy_pj, "pj_per_mac": fc.energy_pj / fc.macs,
                     "total_pj_per_mac": res.energy_pj / res.macs})
    return rows


def plot(rows: list[dict], path: Path, *, tile: int = 16) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r["n"] for r in rows], [r["pj_per_mac"] for r in rows], marker=".")
    for m in range(tile, rows[-1]["n"] + 1, tile):
        ax.axvline(m, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("layer size n (n x n Linear)")
    ax.set_ylabel("layer energy per MAC (pJ)")
    ax.set_title("Tile mismatch on cim-16x16: minima at multiples of 16")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = sweep()
    with open(args.out / "tile_mismatch.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, args.out / "tile_mismatch.png")
    minima = [rows[i]["n"] for i in range(1, len(rows) - 1)
              if rows[i]["pj_per_mac"] < min(rows[i - 1]["pj_per_mac"],
                                             rows[i + 1]["pj_per_mac"])]
    print("local minima of energy per MAC at n =", minima, "(and the last point, n = 64)")
    for n in (16, 17, 20, 32, 33):
        r = rows[n - 8]
        print(f"n={n:2d}: {r['tiles']} tiles, utilization {100 * r['utilization']:.2f} %, "
              f"{r['pj_per_mac']:.3f} pJ/MAC")
    print(f"wrote {args.out / 'tile_mismatch.csv'} and {args.out / 'tile_mismatch.png'}")


if __name__ == "__main__":
    main()
