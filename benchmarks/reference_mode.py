"""Reference mode at scale: wall time, peak memory and bytes per event, each run in a fresh
process (numba cache warm), for the jobs of issue 20's reference-mode target.

    python benchmarks/reference_mode.py [--tree PATH] [--out benchmarks/out]

``--tree`` runs another checkout of accelsim (its source folder put first on PYTHONPATH), so
that a tree before a change and after it are measured in one session. A job the tree refuses
(its memory estimate above the budget) is retried with a budget of 20 GiB. Writes
reference_mode.csv and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from _common import write_csv

JOBS = [("resnet18", 1), ("resnet18", 8), ("resnet50", 1), ("vgg16", 1), ("mobilenetv2", 1)]
DEVICE = "cim-16x16"

CHILD = r"""
import json, resource, sys, time
began = time.perf_counter()
import accelsim
workload, device, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
accelsim.simulate("mlp", device)                     # the engine loaded
start = time.perf_counter()
result = accelsim.simulate(workload, device, batch=batch, mode="reference",
                           memory_limit_gib=20)
done = time.perf_counter()
print(json.dumps({"cycles": result.cycles, "events": result.events,
                  "simulate_s": done - start, "engine_s": result.engine_seconds,
                  "process_s": done - began,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(workload: str, batch: int, tree: Path | None) -> dict:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = f"{tree}{os.pathsep}{env.get('PYTHONPATH', '')}"
    proc = subprocess.run([sys.executable, "-c", CHILD, workload, DEVICE, str(batch)],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        return {"failed": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"tree: {args.tree or 'this checkout'}; device {DEVICE}")
    print("| workload | batch | events | simulate s | engine s | peak MiB | bytes per event |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for workload, batch in JOBS:
        outcome = run(workload, batch, args.tree)
        rows.append({"workload": workload, "batch": batch, **outcome})
        if "failed" in outcome:
            print(f"| {workload} | {batch} | failed: {outcome['failed'][:60]} | | | | |")
            continue
        per_event = outcome["peak_mib"] * 2 ** 20 / outcome["events"]
        print(f"| {workload} | {batch} | {outcome['events']:,} | {outcome['simulate_s']:.1f} | "
              f"{outcome['engine_s']:.1f} | {outcome['peak_mib']:,.0f} | {per_event:.0f} |",
              flush=True)
    write_csv(rows, args.out / "reference_mode.csv",
              fields=["workload", "batch", "cycles", "events", "simulate_s", "engine_s",
                      "process_s", "peak_mib", "failed"])


if __name__ == "__main__":
    main()
