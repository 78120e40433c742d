"""ResNet-18 on cim-16x16 with tile buffers of growing size beside every 16 crossbars.

    python benchmarks/tile_buffer.py [--out benchmarks/out]

Too small a buffer cannot hold a conv's sliding window: every window is fetched again from the
global buffer and merely passes through. Once the windows fit, each input leaves the global
buffer once, but a larger buffer costs more per access (energies are ``auto``: Horowitz's SRAM
points by size). Prints a Markdown table for benchmarks/RESULTS.md and writes
tile_buffer.csv and tile_buffer.png.
"""

from __future__ import annotations

from _common import output_dir, shipped, write_csv

import accelsim

SIZES = [None, "256B", "512B", "1KiB", "2KiB", "4KiB", "8KiB", "32KiB"]
SHOWN = ("global_buffer", "interconnect", "tile_buffer")


def tile_buffer(size: str) -> dict:
    return {"size_bytes": size, "word_bits": 128, "banks": 1, "read_pj": "auto",
            "write_pj": "auto", "crossbars": 16,
            "leakage_mw": 0.0}  # leakage left out here: the comparison is about accesses


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    rows = []
    for size in SIZES:
        data = shipped()
        if size is not None:
            data["tile_buffer"] = tile_buffer(size)
        result = accelsim.simulate("resnet18", accelsim.device_from_dict(data))
        parts = result.energy_by_component()
        convs = [layer for layer in result.layers if layer.kind == "conv2d"]
        rows.append({"tile_buffer": size or "none", "cycles": result.cycles,
                     "energy_uj": result.energy_pj / 1e6,
                     **{f"{name}_uj": parts.get(name, 0.0) / 1e6 for name in SHOWN},
                     "convs_reusing_inputs": sum(1 for layer in convs
                                                 if (layer.inputs_fetched or 1.0) < 1.0),
                     "convs": len(convs)})
    write_csv(rows, out / "tile_buffer.csv")
    print("| tile buffer (per 16 crossbars) | cycles | energy (µJ) | global buffer | "
          "interconnect | tile buffers | convs reusing inputs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['tile_buffer']} | {row['cycles']:,} | {row['energy_uj']:.1f} | "
              f"{row['global_buffer_uj']:.1f} | {row['interconnect_uj']:.1f} | "
              f"{row['tile_buffer_uj']:.1f} | {row['convs_reusing_inputs']} of {row['convs']} |")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    labels = [row["tile_buffer"] for row in rows]
    bottom = [0.0] * len(rows)
    for name in SHOWN:
        values = [row[f"{name}_uj"] for row in rows]
        left.bar(labels, values, bottom=bottom, label=name.replace("_", " "))
        bottom = [b + v for b, v in zip(bottom, values)]
    left.set_ylabel("energy per image (µJ)")
    left.set_xlabel("tile buffer per 16 crossbars")
    left.set_title("Data movement energy")
    left.legend(fontsize=8)
    right.plot(labels, [row["cycles"] / 1e3 for row in rows], marker="o")
    right.set_ylabel("cycles (thousands)")
    right.set_xlabel("tile buffer per 16 crossbars")
    right.set_title("Latency (the bus no longer carries each window)")
    right.set_ylim(bottom=0)
    figure.suptitle("ResNet-18 on cim-16x16 with tile buffers")
    figure.tight_layout()
    figure.savefig(out / "tile_buffer.png", dpi=120)


if __name__ == "__main__":
    main()
