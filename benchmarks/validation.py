"""Predicted against published TOPS/W and TOPS/mm² of compute-in-memory macros.

    python benchmarks/validation.py            # prints the Markdown table of docs/validation.md
    python benchmarks/validation.py --plot benchmarks/validation.png   # and draws it

Each macro is a device file in validation/macros/, written from its published configuration
only (array, cell, bits, node, supply, clock); every energy and area is 'auto'. Nothing is
tuned to the published efficiency. The macro runs one Linear layer that fills its arrays,
64 input vectors in fast mode (every row driven, cells at half scale: the dense condition);
its energy is the crossbar components' (row drivers and DACs, cells and column lines, ADCs,
shift-and-add, accumulation) plus the tiles' leakage over the compute time, its time the
crossbars' compute cycles, its area the crossbar components' (cells, drivers, ADCs,
shift-and-add). Buffers, bus, DRAM and digital units are outside a macro measurement.
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim  # noqa: E402
from accelsim.energy.table import action_label  # noqa: E402
from accelsim.workload import Input, Linear, Workload  # noqa: E402

MACROS = ROOT / "validation" / "macros"
MACRO_COMPONENTS = ("dac", "array", "adc", "shift_add", "accumulator")
VECTORS = 64


@dataclass(frozen=True)
class Published:
    file: str
    point: str                    # operating point
    tops_per_w: float
    tops_per_mm2: float | None    # None: not published
    source: str
    changes: tuple = ()           # (dotted key, value) applied to the device file
    measured: bool = True         # False: a paper's design estimate, not a chip's measurement


PUBLISHED = [
    Published("ania_cicc2021", "0.8 V, 7b x ternary", 1050, 12.1,
              "Papistas et al., CICC 2021 (12.1 TOPS/mm²); 1050 TOPS/W at 0.8 V with every "
              "input toggling: imec/GF, as used by ZigZag-IMC"),
    Published("wang_vlsi2022", "0.7 V, 8b x 8b", 32.2, 2.4, "Wang et al., VLSI 2022, Table III"),
    Published("wang_vlsi2022", "1.1 V, 8b x 8b", 15.5, 4.0, "Wang et al., VLSI 2022, Table III",
              (("voltage_v", 1.1), ("clock_hz", 244.1e6))),
    Published("sinangil_jssc2021", "0.8 V, 4b x 4b", 351, 0.3724 / 0.002396,
              "Sinangil et al., JSSC 2021: 351 TOPS/W, 372.4 GOPS; area 1596 + 800 µm² "
              "(Section IV, as transcribed by CiMLoop)"),
    Published("sinangil_jssc2021", "1.0 V, 4b x 4b", 321, 0.4551 / 0.002396,
              "Sinangil et al., JSSC 2021, Table I: 455.1 GOPS, 321 TOPS/W at mid outputs",
              (("voltage_v", 1.0), ("clock_hz", 222.2e6))),
    Published("jia_jssc2020", "0.85 V, 1b x 1b", 400, 0.24, "Jia et al., JSSC 2020, Table II"),
    Published("jia_jssc2020", "1.2 V, 1b x 1b", 192, 0.6, "Jia et al., JSSC 2020, Table II",
              (("voltage_v", 1.2), ("clock_hz", 100e6))),
    Published("hermes_jssc2022", "8b in, 8b out", 10.5, 1.59,
              "Khaddam-Aljameh et al., JSSC 2022, abstract"),
    Published("neurram_nature2022", "4b in, 6b out", 15.95, None,
              "Wan et al., Nature 2022, Fig. 12 (48 cores), as transcribed by CiMLoop"),
    # ISAAC's IMA: 8 x 128 rows x 16 weights of 16 bits per 16 reads of 100 ns (20.48 GOPS)
    # over its Table 6 crossbar parts (22.61 mW, 0.01025 mm²; see the macro file)
    Published("isaac_isca2016", "IMA, 16b x 16b", 2 * 8 * 128 * 16 / 1.6e-6 / 22.61e-3 / 1e12,
              2 * 8 * 128 * 16 / 1.6e-6 / 0.01025 / 1e12,
              "Shafiee et al., ISCA 2016, Table 6 (a design estimate)", measured=False),
]


@dataclass(frozen=True)
class Predicted:
    tops_per_w: float
    tops: float
    tops_per_mm2: float
    area_mm2: float
    breakdown: dict               # share of energy by component
    areas: dict                   # mm² by component


def device(entry: Published):
    from accelsim.spec.yamlfile import read_yaml
    data = read_yaml(MACROS / f"{entry.file}.yaml")
    for key, value in entry.changes:
        data[key] = value
    return accelsim.device_from_dict(data, source=f"{entry.file}.yaml")


def predict(dev) -> Predicted:
    from accelsim.hardware.pricing import resolve
    dev = resolve(dev)
    cim = dev.cim
    outputs = cim.tiles * (cim.cols // cim.cells_per_weight)
    wl = Workload.from_layers("macro", [Input("in", shape=(cim.rows, VECTORS, 1)),
                                        Linear("fc", ("in",), outputs)])
    res = accelsim.simulate(wl, dev)
    row = [layer.name for layer in res.layers].index("fc")
    layer = res.layers[row]
    energy: dict[str, float] = {}
    for action, count in enumerate(res.action_counts[row]):
        component, what = action_label(action)
        if component in MACRO_COMPONENTS and what != "write" and count:
            energy[component] = energy.get(component, 0.0) + count * res.prices_pj[action]
    seconds = layer.compute_cycles / dev.clock_hz
    energy["leakage"] = cim.tiles * cim.tile_leakage_mw * 1e-3 * seconds * 1e12
    total = math.fsum(energy.values())
    ops = 2 * layer.macs
    tops = ops / seconds / 1e12
    areas = {name: mm2 for name, mm2 in res.area_breakdown().items()
             if name in MACRO_COMPONENTS}
    area = math.fsum(areas.values())
    return Predicted(ops / total, tops, tops / area, area,
                     {name: pj / total for name, pj in energy.items()}, areas)


def error(predicted: float, published: float) -> float:
    return predicted / published - 1


# ISAAC's Table 6, one IMA's crossbar parts: (power mW, area mm²) by the model's component
ISAAC_TABLE = {
    "adc": (16.0, 0.0096),             # 8 ADCs, 8 bits at 1.28 GS/s
    "dac": (4.0, 0.00017),             # 8 x 128 1-bit DACs
    "array": (2.4 + 0.01, 0.0002 + 0.00004),  # 8 crossbars, and 8 x 128 sample-and-holds
    "shift_add": (0.2, 0.00024),       # 4 shift-and-add units
}


def isaac_components(rows: list[tuple[Published, Predicted]]) -> None:
    """ISAAC's IMA part by part (its row of ``rows``): its Table 6 against the model, at the
    IMA's throughput."""
    p = next(predicted for entry, predicted in rows if entry.file == "isaac_isca2016")
    watts = p.tops * 1e12 / p.tops_per_w               # ops/s over ops per pJ: pJ/s
    print()
    print("| ISAAC IMA part | power mW (ISAAC) | predicted | area mm² (ISAAC) | predicted |")
    print("|---|---:|---:|---:|---:|")
    for name, (mw, mm2) in ISAAC_TABLE.items():
        print(f"| {name} | {mw:.3g} | {p.breakdown.get(name, 0.0) * watts * 1e-9:.3g} | "
              f"{mm2:.3g} | {p.areas.get(name, 0.0):.3g} |")
    print(f"| total | {sum(v[0] for v in ISAAC_TABLE.values()):.4g} | {watts * 1e-9:.3g} | "
          f"{sum(v[1] for v in ISAAC_TABLE.values()):.4g} | {p.area_mm2:.3g} |")


def plot(rows: list[tuple[Published, Predicted]], path: Path) -> None:
    """Predicted against published TOPS/W and TOPS/mm², log-log, with the ±25 % and ±35 %
    bands of issue 13's targets; a design estimate (ISAAC) drawn hollow."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 5), constrained_layout=True)
    for ax, (label, band, of) in zip(axes, (
            ("TOPS/W", 0.25, lambda e, p: (e.tops_per_w, p.tops_per_w)),
            ("TOPS/mm²", 0.35, lambda e, p: (e.tops_per_mm2, p.tops_per_mm2)))):
        points = [(e, *of(e, p)) for e, p in rows if of(e, p)[0] is not None]
        low = min(min(x, y) for _, x, y in points) / 2
        high = max(max(x, y) for _, x, y in points) * 2
        line = [low, high]
        ax.plot(line, line, color="black", linewidth=0.8)
        ax.fill_between(line, [v * (1 - band) for v in line], [v * (1 + band) for v in line],
                        color="tab:green", alpha=0.15, label=f"±{band:.0%}")
        for entry, published, predicted in points:
            ax.scatter(published, predicted, s=40, color="tab:blue",
                       facecolors="tab:blue" if entry.measured else "none")
            ax.annotate(f"{entry.file.split('_')[0]} {entry.point.split(',')[0]}",
                        (published, predicted), fontsize=7, xytext=(4, 3),
                        textcoords="offset points")
        ax.set(xscale="log", yscale="log", xlim=line, ylim=line, xlabel=f"published {label}",
               ylabel=f"predicted {label}", title=f"{label}: no per-macro calibration")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Compute-in-memory macros predicted from their published configurations "
                 "(hollow: a design estimate)", fontsize=10)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, help="also draw predicted against published")
    args = parser.parse_args(argv)
    rows: list[tuple[Published, Predicted]] = []
    print("| macro | point | TOPS/W published | predicted | error | TOPS/mm² published | "
          "predicted | error | largest energy share | area mm² |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    w_errors, a_errors, w_measured, a_measured = [], [], [], []
    for entry in PUBLISHED:
        try:
            p = predict(device(entry))
        except accelsim.AccelsimError as err:   # a macro file edited into an impossible one
            print(f"error: {err}", file=sys.stderr)
            return 1
        rows.append((entry, p))
        ew = error(p.tops_per_w, entry.tops_per_w)
        w_errors.append(abs(ew))
        if entry.measured:
            w_measured.append(abs(ew))
        if entry.tops_per_mm2 is not None:
            ea = error(p.tops_per_mm2, entry.tops_per_mm2)
            a_errors.append(abs(ea))
            if entry.measured:
                a_measured.append(abs(ea))
            area_cells = f"{entry.tops_per_mm2:.3g} | {p.tops_per_mm2:.3g} | {ea:+.0%}"
        else:
            area_cells = f"not published | {p.tops_per_mm2:.3g} | "
        top = max(p.breakdown, key=p.breakdown.get)
        print(f"| {entry.file} | {entry.point} | {entry.tops_per_w:.3g} | {p.tops_per_w:.3g} | "
              f"{ew:+.0%} | {area_cells} | {top} {p.breakdown[top]:.0%} | {p.area_mm2:.4g} |")
    print()
    print(f"median |error|: TOPS/W {statistics.median(w_errors):.0%} over {len(w_errors)} "
          f"points, TOPS/mm² {statistics.median(a_errors):.0%} over {len(a_errors)} points")
    print(f"measured chips only: TOPS/W {statistics.median(w_measured):.0%} over "
          f"{len(w_measured)} points, TOPS/mm² {statistics.median(a_measured):.0%} over "
          f"{len(a_measured)} points")
    isaac_components(rows)
    if args.plot:
        plot(rows, args.plot)
        print(f"\nwrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
