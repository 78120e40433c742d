"""Relations that must hold whatever the model's constants, on every shipped device.

    python benchmarks/relations.py [--out benchmarks/out]

1. A one-layer network is not slower pipelined than layer by layer (the input load and the
   output store stream as the layer's own DRAM traffic does layer by layer). A systolic
   layer's first fold (weight stationary: every fold) waits for the inputs it covers to be
   loaded, where layer by layer it reads them from DRAM as it runs, so systolic devices are
   reported, not held to it.
2. A Linear layer split into two (or four) Linears of the same input, joined by a concat,
   costs about what the whole layer costs (no tile rewritten for every image because of the
   split).
3. Renaming every layer changes nothing.

Prints a Markdown table per relation and writes relations.csv; exits non-zero when a
crossbar device breaks relation 1 by more than 0.5 %, relation 2 by more than 10 % in
energy, or relation 3 at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from _common import arguments, write_csv

import accelsim
from accelsim.workload.graph import Workload

CROSSBAR = {"cim-16x16", "cim-128x128-rram", "ania-like", "hybrid-cim-systolic"}


def one_conv() -> Workload:
    return accelsim.workload_from_dict({"version": 1, "name": "one-conv", "layers": [
        {"name": "input", "type": "input", "shape": [32, 28, 28]},
        {"name": "conv", "type": "conv2d", "out_channels": 64, "kernel": 3, "padding": 1}]})


def split_linear(parts: int) -> Workload:
    layers = [{"name": "input", "type": "input", "shape": [256, 1, 1]}]
    if parts == 1:
        layers.append({"name": "fc", "type": "linear", "out_features": 256})
    else:
        layers += [{"name": f"fc{p}", "type": "linear", "out_features": 256 // parts,
                    "inputs": ["input"]} for p in range(parts)]
        layers.append({"name": "cat", "type": "concat",
                       "inputs": [f"fc{p}" for p in range(parts)]})
    return accelsim.workload_from_dict({"version": 1, "name": f"split-{parts}",
                                        "layers": layers})


def renamed(workload: Workload) -> Workload:
    names = {name: f"z{k:05d}" for k, name in enumerate(reversed(workload.order))}
    return Workload.from_layers(workload.name, [
        dataclasses.replace(workload.layers[name], name=names[name],
                            inputs=tuple(names[i] for i in workload.layers[name].inputs))
        for name in workload.order])


def main() -> None:
    args = arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    rows, failures = [], []
    print("| device | one conv pipelined | layer by layer | pipelined over layer by layer |")
    print("|---|---:|---:|---:|")
    for device in accelsim.available_devices():
        piped = accelsim.simulate(one_conv(), device)
        serial = accelsim.simulate(one_conv(), device, execution="layer_by_layer")
        ratio = piped.cycles / serial.cycles - 1
        rows.append({"relation": "one layer", "device": device, "a": piped.cycles,
                     "b": serial.cycles, "change": ratio})
        print(f"| {device} | {piped.cycles:,} | {serial.cycles:,} | {ratio:+.2%} |")
        if device in CROSSBAR and ratio > 0.005:
            failures.append(f"{device}: one conv {ratio:+.2%} pipelined")
    print("\n| device | whole Linear µJ | two halves | four quarters |")
    print("|---|---:|---:|---:|")
    for device in accelsim.available_devices():
        energy = [accelsim.simulate(split_linear(p), device).energy_pj for p in (1, 2, 4)]
        for parts, pj in zip((2, 4), energy[1:]):
            rows.append({"relation": f"split in {parts}", "device": device, "a": energy[0],
                         "b": pj, "change": pj / energy[0] - 1})
            if pj > 1.10 * energy[0]:
                failures.append(f"{device}: a Linear split in {parts} costs "
                                f"{pj / energy[0] - 1:+.1%}")
        print(f"| {device} | {energy[0] / 1e6:.4f} | {energy[1] / energy[0] - 1:+.1%} | "
              f"{energy[2] / energy[0] - 1:+.1%} |")
    mismatches = 0
    for name in ("resnet18", "mobilenetv2", "bert-base"):
        workload = accelsim.load_workload(name)
        other = renamed(workload)
        for device in accelsim.available_devices():
            for execution in ("pipelined", "layer_by_layer"):
                a = accelsim.simulate(workload, device, execution=execution)
                b = accelsim.simulate(other, device, execution=execution)
                same = (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)
                mismatches += not same
                if not same:
                    failures.append(f"{device} {name} {execution}: renaming changed "
                                    f"{a.cycles} -> {b.cycles} cycles")
    print(f"\nrenaming every layer: {mismatches} mismatches in "
          f"{3 * len(accelsim.available_devices()) * 2} runs")
    write_csv(rows, args.out / "relations.csv")
    if failures:
        print("\n".join(["", "FAILED:", *failures]))
        sys.exit(1)


if __name__ == "__main__":
    main()
