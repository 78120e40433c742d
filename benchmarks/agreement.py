"""Fast mode against reference mode (one event per tile MVM per vector): total cycles.

    python benchmarks/agreement.py
"""

from __future__ import annotations

import time

import accelsim

DEVICES = ["cim-16x16", "cim-128x128-rram", "ania-like", "hybrid-cim-systolic", "eyeriss-like",
           "eyeriss"]
WORKLOADS = ["mlp", "lenet5", "resnet18", "mobilenetv2", "resnet50", "vgg16"]
TOO_LARGE = {("cim-16x16", "vgg16")}   # ~60 M reference events; fast mode only


def main() -> None:
    accelsim.simulate("mlp", "cim-16x16")  # compile or load the engine first
    print("| device | workload | fast cycles | reference cycles | difference | fast s | "
          "reference s | reference events |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for device in DEVICES:
        for workload in WORKLOADS:
            fast = accelsim.simulate(workload, device)
            if (device, workload) in TOO_LARGE:
                print(f"| {device} | {workload} | {fast.cycles:,} | (not run) | | "
                      f"{fast.wall_seconds:.2f} | | |")
                continue
            began = time.perf_counter()
            ref = accelsim.simulate(workload, device, mode="reference")
            seconds = time.perf_counter() - began
            diff = 100 * (fast.cycles - ref.cycles) / ref.cycles
            print(f"| {device} | {workload} | {fast.cycles:,} | {ref.cycles:,} | {diff:+.3f} % | "
                  f"{fast.wall_seconds:.2f} | {seconds:.1f} | {ref.events:,} |", flush=True)


if __name__ == "__main__":
    main()
