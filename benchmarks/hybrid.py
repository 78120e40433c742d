"""MobileNetV2 on the hybrid device: energy and latency by mapping policy.

    python benchmarks/hybrid.py [--out benchmarks/out]

Writes hybrid.csv and hybrid.png (energy by component for each policy, cycles on top).
"""

from __future__ import annotations

from pathlib import Path

from _common import output_dir, write_csv

import accelsim

POLICIES = ["rules", "energy", "edp", "latency", "cim", "systolic"]
LABELS = {"rules": "hybrid (rules)", "energy": "hybrid (energy)", "edp": "hybrid (edp)",
          "latency": "hybrid (latency)", "cim": "all analog", "systolic": "all digital"}


def run(workload: str = "mobilenetv2", device: str = "hybrid-cim-systolic") -> list[dict]:
    rows = []
    for policy in POLICIES:
        res = accelsim.simulate(workload, device, policy=policy)
        digital = sum(1 for layer in res.layers if layer.unit == "systolic")
        rows.append({"policy": policy, "energy_uj": res.energy_pj / 1e6, "cycles": res.cycles,
                     "tops_per_watt": res.tops_per_watt, "layers_on_systolic": digital,
                     **{f"{k}_uj": v / 1e6 for k, v in res.energy_by_component().items()}})
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    components = sorted({k[:-3] for row in rows for k in row if k.endswith("_uj")
                         and k != "energy_uj"},
                        key=lambda c: -max(row.get(f"{c}_uj", 0) for row in rows))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    bottom = [0.0] * len(rows)
    names = [LABELS[row["policy"]] for row in rows]
    for component in components:
        values = [row.get(f"{component}_uj", 0.0) for row in rows]
        ax.bar(names, values, bottom=bottom, label=component)
        bottom = [b + v for b, v in zip(bottom, values)]
    for x, row in enumerate(rows):
        ax.annotate(f"{row['cycles'] / 1e6:.2f} M cycles", (x, bottom[x]), ha="center",
                    va="bottom", fontsize=8)
    ax.set_ylim(top=1.12 * max(bottom))
    ax.set_ylabel("energy per image (µJ)")
    ax.set_title("MobileNetV2 on hybrid-cim-systolic: energy by component per mapping policy")
    ax.legend(fontsize=8, ncol=2)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    rows = run()
    fields = sorted({k for row in rows for k in row}, key=lambda k: (k not in rows[0], k))
    write_csv(rows, out / "hybrid.csv", fields=fields, restval=0.0)
    plot(rows, out / "hybrid.png")
    print("| policy | energy µJ | cycles | TOPS/W | layers on the systolic array |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {LABELS[row['policy']]} | {row['energy_uj']:.1f} | {row['cycles']:,} | "
              f"{row['tops_per_watt']:.3f} | {row['layers_on_systolic']} |")
    print(f"wrote {out / 'hybrid.csv'} and {out / 'hybrid.png'}")


if __name__ == "__main__":
    main()
