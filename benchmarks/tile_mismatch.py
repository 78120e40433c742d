"""Tile mismatch: energy per MAC of square Linear layers n x n on cim-16x16, n = 8 ... 64.

    python benchmarks/tile_mismatch.py [--out benchmarks/out]

Writes tile_mismatch.csv and tile_mismatch.png; prints the local minima (expected at the
multiples of the 16x16 tile: 16, 32, 48, 64).
"""

from __future__ import annotations

from _common import output_dir, write_csv

from accelsim.analysis import tile_mismatch_curve
from accelsim.results import plots


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    rows = tile_mismatch_curve("cim-16x16", range(8, 65))
    write_csv(rows, out / "tile_mismatch.csv")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ax = plots.tile_mismatch(rows, "cim-16x16")
    ax.set_title("Tile mismatch on cim-16x16: minima at multiples of 16")
    ax.figure.tight_layout()
    ax.figure.savefig(out / "tile_mismatch.png", dpi=120)
    plt.close(ax.figure)
    minima = [rows[i]["n"] for i in range(1, len(rows) - 1)
              if rows[i]["tile_pj_per_mac"] < min(rows[i - 1]["tile_pj_per_mac"],
                                                  rows[i + 1]["tile_pj_per_mac"])]
    print("local minima of the tiles' energy per MAC at n =", minima,
          "(and the last point, n = 64)")
    for n in (16, 17, 20, 32, 33):
        r = rows[n - 8]
        print(f"n={n:2d}: {r['tiles']} tiles, utilization {100 * r['utilization']:.2f} %, "
              f"tiles {r['tile_pj_per_mac']:.3f} pJ/MAC, layer {r['pj_per_mac']:.3f} pJ/MAC")
    print(f"wrote {out / 'tile_mismatch.csv'} and {out / 'tile_mismatch.png'}")


if __name__ == "__main__":
    main()
