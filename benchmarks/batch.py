"""Batches on three devices: latency of the first image, the pipeline's interval, throughput.

    python benchmarks/batch.py [--out benchmarks/out]

ResNet-18 at batch 1, 8 and 64 on cim-16x16, cim-128x128-rram and eyeriss-like. Images/s is
the batch over the whole run (so it never exceeds what the timeline shows); the steady-state
interval is (last image done - first image done) / (batch - 1). Writes batch.csv.

Then a batch against its images run one at a time, on every shipped device with a systolic
array: energy and cycles of batch B over B times batch 1's. Above 1, batching costs more
than running the images separately would.
"""

from __future__ import annotations

import resource
import time

from _common import output_dir, write_csv

import accelsim


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    rows = []
    print("| device | batch | cycles | first image | steady-state interval | images/s "
          "| energy per image | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for device in ("cim-16x16", "cim-128x128-rram", "eyeriss-like"):
        for batch in (1, 8, 64):
            began = time.perf_counter()
            res = accelsim.simulate("resnet18", device, batch=batch)
            wall = time.perf_counter() - began
            interval = res.steady_state_cycles_per_image
            rows.append({"device": device, "batch": batch, "cycles": res.cycles,
                         "first_image_cycles": res.first_image_cycles,
                         "steady_state_cycles_per_image": interval,
                         "images_per_second": res.images_per_second,
                         "energy_per_image_pj": res.energy_pj / batch, "wall_seconds": wall})
            print(f"| {device} | {batch} | {res.cycles:,} | {res.first_image_cycles:,} | "
                  f"{'' if interval is None else f'{interval:,.0f}'} | "
                  f"{res.images_per_second:,.1f} | {res.energy_pj / batch / 1e9:.3f} mJ | "
                  f"{wall:.2f} |")
    write_csv(rows, out / "batch.csv")
    print("\n| device | workload | batch | energy / (B x batch 1) | cycles / (B x batch 1) |")
    print("|---|---|---:|---:|---:|")
    for device in ("eyeriss", "eyeriss-like", "hybrid-cim-systolic"):
        for workload in ("resnet18", "mobilenetv2", "alexnet", "vgg16", "resnet50",
                         "small-cnn", "bert-base", "vit-b16"):
            one = accelsim.simulate(workload, device)
            for batch in (2, 4, 8):
                res = accelsim.simulate(workload, device, batch=batch)
                print(f"| {device} | {workload} | {batch} | "
                      f"{res.energy_pj / (batch * one.energy_pj):.3f} | "
                      f"{res.cycles / (batch * one.cycles):.3f} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
