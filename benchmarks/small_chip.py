"""A network far larger than the chip: ResNet-18 on cim-16x16 cut to 1, 4 and 64 tiles.

    python benchmarks/small_chip.py [--out benchmarks/out]

With one tile, ResNet-18's 45,640 tiles of weights become 45,640 layer groups, each written
into the tile and run in turn: the planning and lowering of many small parts, not the event
loop, is what costs. Prints simulate()'s phases (best of 3 each, warm process) and the whole
call; writes small_chip.csv.
"""

from __future__ import annotations

import time

from _common import output_dir, phase_times, shipped, write_csv

import accelsim
from accelsim.hardware.pricing import resolve
from accelsim.sweep.grid import apply


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    workload = accelsim.load_workload("resnet18")
    base = shipped("cim-16x16")
    accelsim.simulate("lenet5", "cim-16x16")        # compile or load the engine first
    rows = []
    print("| tiles | layer groups | planning s | placing and lowering s | event loop s "
          "| result s | simulate() s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for tiles in (1, 4, 64):
        device = resolve(apply(base, {"cim.tiles": tiles}, source="small_chip"))
        best: dict[str, float] = {}
        for _ in range(3):
            seconds, _ = phase_times(workload, device)
            best = {k: min(v, best.get(k, v)) for k, v in seconds.items()}
        whole, groups = float("inf"), 0
        for _ in range(3):
            began = time.perf_counter()
            groups = accelsim.simulate(workload, device).weight_groups
            whole = min(whole, time.perf_counter() - began)
        rows.append({"tiles": tiles, "weight_groups": groups, **best, "simulate": whole})
        print(f"| {tiles} | {groups:,} | {best['planning']:.2f} | {best['lowering']:.2f} | "
              f"{best['event loop']:.2f} | {best['result']:.2f} | {whole:.2f} |")
    write_csv(rows, out / "small_chip.csv")


if __name__ == "__main__":
    main()
