"""ResNet-18 on cim-16x16 as the global buffer shrinks from 2 MiB to 64 KiB.

    python benchmarks/buffer_size.py [--out benchmarks/out]

Energy split between arrays and converters, buffers, the interconnect and DRAM, and cycles.
Only the capacity changes (the energy per buffer access is kept, so the effect is the spills).
Writes buffer_size.csv and buffer_size.png.
"""

from __future__ import annotations

from _common import output_dir, shipped, write_csv

import accelsim

SIZES = ["2MiB", "1MiB", "512KiB", "256KiB", "128KiB", "64KiB"]
GROUPS = {"arrays and converters": ("array", "dac", "adc", "shift_add", "accumulator"),
          "buffers": ("global_buffer", "tile_buffer"), "interconnect": ("interconnect",),
          "DRAM": ("dram",),
          "digital": ("digital",)}


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    rows = []
    for size in SIZES:
        data = shipped()
        data["global_buffer"]["size_bytes"] = size
        result = accelsim.simulate("resnet18", accelsim.device_from_dict(data))
        parts = result.energy_by_component()
        row = {"buffer": size, "cycles": result.cycles, "energy_uj": result.energy_pj / 1e6}
        for group, members in GROUPS.items():
            row[group] = sum(parts.get(m, 0.0) for m in members) / 1e6
        rows.append(row)
    write_csv(rows, out / "buffer_size.csv")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(rows)
    for group in GROUPS:
        values = [row[group] for row in rows]
        ax.bar(SIZES, values, bottom=bottom, label=group)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xlabel("global buffer")
    ax.set_ylabel("energy per image (µJ)")
    ax.set_title("ResNet-18 on cim-16x16: energy as the global buffer shrinks")
    ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "buffer_size.png", dpi=110)
    print("| buffer | cycles | energy µJ | " + " | ".join(GROUPS) + " |")
    print("|---|---:|---:|" + "---:|" * len(GROUPS))
    for row in rows:
        print(f"| {row['buffer']} | {row['cycles']:,} | {row['energy_uj']:.1f} | "
              + " | ".join(f"{row[g]:.1f}" for g in GROUPS) + " |")


if __name__ == "__main__":
    main()
