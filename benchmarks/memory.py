"""Peak memory of every zoo network on every shipped device at batch 1, 8 and 64 (fast mode),
and of reference mode at batch 1, each run in a fresh process.

    python benchmarks/memory.py [--out benchmarks/out]

A run that the memory budget refuses up front (its estimate above 4 GiB) is listed with its
estimate instead. Writes memory.csv and prints a Markdown table.
"""

from __future__ import annotations

import json
import subprocess
import sys

from _common import output_dir, write_csv

import accelsim

CHILD = r"""
import json, resource, sys, time
import accelsim
workload, device, batch, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
began = time.perf_counter()
try:
    result = accelsim.simulate(workload, device, batch=batch, mode=mode)
    outcome = {"cycles": result.cycles, "events": result.events}
except accelsim.AccelsimError as exc:
    outcome = {"refused": str(exc)}
outcome["seconds"] = time.perf_counter() - began
outcome["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(outcome))
"""


def run(workload: str, device: str, batch: int, mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, workload, device, str(batch), mode],
                          capture_output=True, text=True)
    if proc.returncode:
        return {"crashed": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    rows = []
    workloads = [w for w in accelsim.available_workloads()]
    devices = list(accelsim.available_devices())
    print("| workload | device | fast b1 MiB | fast b8 MiB | fast b64 MiB | reference b1 |")
    print("|---|---|---:|---:|---:|---|")
    for workload in workloads:
        for device in devices:
            cells = []
            for batch, mode in ((1, "fast"), (8, "fast"), (64, "fast"), (1, "reference")):
                outcome = run(workload, device, batch, mode)
                rows.append({"workload": workload, "device": device, "batch": batch,
                             "mode": mode, **{k: v for k, v in outcome.items()}})
                if "refused" in outcome:
                    estimate = outcome["refused"].split("needs about ")[-1].split(" (")[0] \
                        if "needs about" in outcome["refused"] else outcome["refused"][:40]
                    cells.append(f"refused ({estimate})")
                elif "crashed" in outcome:
                    cells.append("crashed")
                else:
                    cells.append(f"{outcome['peak_mib']:,.0f}")
            print(f"| {workload} | {device} | " + " | ".join(cells) + " |", flush=True)
    write_csv(rows, out / "memory.csv",
              fields=["workload", "device", "batch", "mode", "peak_mib", "seconds", "cycles",
                      "events", "refused", "crashed"])
    fast = [r for r in rows if r["mode"] == "fast" and "peak_mib" in r and "refused" not in r]
    worst = max(fast, key=lambda r: r["peak_mib"])
    print(f"largest fast-mode peak: {worst['peak_mib']:,.0f} MiB ({worst['workload']} on "
          f"{worst['device']}, batch {worst['batch']})")


if __name__ == "__main__":
    main()
