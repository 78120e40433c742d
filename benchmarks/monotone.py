"""More of a resource should not make a run slower: a sweep that counts where it does.

    python benchmarks/monotone.py [--out benchmarks/out] [--batch 1]

On every shipped device and four networks (ResNet-18, MobileNetV2, BERT-base, ResNet-50),
DRAM bandwidth and the bus width are each raised in steps (x1, 1.25, 1.5, 2, 3, 4, 8), and on
devices with crossbars the tile count (x0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8: fewer tiles than the
network needs means layer groups and reprogramming). A
step whose run takes more cycles than the step before, by more than 0.2 %, is a violation:
an architect sweeping that knob would see a curve go the wrong way. Greedy list scheduling
(what the event simulation does, as hardware arbiters do) is not monotone in general, so a
few small ones are expected; large or systematic ones point at a bad arbitration rule.
Writes monotone.csv (every run) and prints the violations and a summary.
"""

from __future__ import annotations

import argparse

from _common import arguments, shipped, write_csv

import accelsim
from accelsim.sweep.grid import apply

DEVICES = ("cim-16x16", "cim-128x128-rram", "ania-like", "eyeriss-like", "eyeriss",
           "hybrid-cim-systolic")
WORKLOADS = ("resnet18", "mobilenetv2", "bert-base", "resnet50")
FACTORS = (1, 1.25, 1.5, 2, 3, 4, 8)
TILE_FACTORS = (0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8)
TOLERANCE = 0.002


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1, help="images per run (default 1)")
    args = arguments(parser)
    out, batch = args.out, args.batch
    rows, steps, violations, worst = [], 0, [], 1.0
    for device in DEVICES:
        base = shipped(device)
        spec = accelsim.load_device(device)
        knobs = {"dram.bandwidth_bytes_per_s": (spec.dram.bandwidth_bytes_per_s, float,
                                                FACTORS),
                 "interconnect.width_bits": (spec.interconnect.width_bits, int, FACTORS)}
        if spec.cim is not None:
            knobs["cim.tiles"] = (spec.cim.tiles, int, TILE_FACTORS)
        for workload in WORKLOADS:
            for path, (value, kind, factors) in knobs.items():
                previous = None
                # at least 1 of anything, each value once, in order
                values = dict.fromkeys(max(1, kind(value * factor)) for factor in factors)
                for raised in values:
                    factor = raised / value
                    point = apply(base, {path: raised}, source="monotone")
                    cycles = accelsim.simulate(workload, point, batch=batch).cycles
                    rows.append({"device": device, "workload": workload, "knob": path,
                                 "factor": factor, "cycles": cycles})
                    if previous is not None:
                        steps += 1
                        ratio = cycles / previous
                        worst = max(worst, ratio)
                        if ratio > 1 + TOLERANCE:
                            violations.append((device, workload, path, factor, ratio))
                    previous = cycles
    write_csv(rows, out / f"monotone-batch{batch}.csv")
    print("| device | workload | knob raised | to | cycles over the step before |")
    print("|---|---|---|---:|---:|")
    for device, workload, path, factor, ratio in violations:
        print(f"| {device} | {workload} | {path} | x{factor:g} | {ratio:.4f} |")
    print(f"\n{len(violations)} of {steps} steps slower by more than {TOLERANCE:.1%}; "
          f"worst {worst - 1:+.2%}")


if __name__ == "__main__":
    main()
