"""Simulation speed: cold (empty numba cache) and warm runs, each in a fresh process.

    python benchmarks/speed.py            # prints a Markdown table for benchmarks/RESULTS.md

Each measurement runs `simulate()` in a new Python process whose NUMBA_CACHE_DIR is a private
temporary folder: the first process compiles the kernels (cold), later ones load them (warm).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile

CASES = [("resnet18", "cim-16x16", "fast"), ("resnet50", "cim-16x16", "fast"),
         ("mobilenetv2", "cim-16x16", "fast"), ("vgg16", "cim-16x16", "fast"),
         ("resnet18", "cim-16x16", "reference"), ("bert-base", "cim-16x16", "fast"),
         ("vit-b16", "cim-16x16", "fast"), ("gpt2-prefill", "cim-16x16", "fast"),
         ("gpt2-decode", "cim-16x16", "fast")]

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import accelsim
t1 = time.perf_counter()
workload, device, mode = sys.argv[1:4]
res = accelsim.simulate(workload, device, mode=mode)
t2 = time.perf_counter()
res2 = accelsim.simulate(workload, device, mode=mode)
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_s": t2 - t1, "again_s": t3 - t2,
                  "events": res.events, "engine_s": res2.engine_seconds,
                  "cycles": res.cycles}))
"""


def measure(workload: str, device: str, mode: str, cache: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", _CHILD, workload, device, mode], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


HIERARCHY = "cim-16x16 + tile buffers, mesh, ddr4"


def hierarchy_device(folder: str) -> str:
    """cim-16x16 with every contention model on: tile buffers, a 16 x 16 mesh, DDR4 rows."""
    import yaml
    from _common import shipped
    data = shipped()
    data["tile_buffer"] = {"size_bytes": "2KiB", "word_bits": 128, "banks": 1,
                           "read_pj": "auto", "write_pj": "auto", "leakage_mw": 0.001,
                           "crossbars": 16}
    data["interconnect"] = {**data["interconnect"], "kind": "mesh", "cols": 16, "rows": 16}
    data["dram"] = {"preset": "ddr4"}
    path = os.path.join(folder, "hierarchy.yaml")
    with open(path, "w") as handle:
        yaml.safe_dump(data, handle)
    return path


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as cache:
        devices = {HIERARCHY: hierarchy_device(cache)}
        cases = CASES + [("resnet18", HIERARCHY, "fast"), ("resnet50", HIERARCHY, "fast")]
        cold = measure("mlp", "cim-16x16", "fast", cache)
        print(f"\ncold start (empty numba cache), mlp: import {cold['import_s']:.2f} s, "
              f"first simulate() incl. compile {cold['first_s']:.2f} s\n")
        print("| workload | device | mode | import s | simulate() s, new process | "
              "simulate() s, again | events | engine events/s | cycles |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for workload, device, mode in cases:
            warm = measure(workload, devices.get(device, device), mode, cache)
            rate = warm["events"] / warm["engine_s"] if warm["engine_s"] else float("nan")
            print(f"| {workload} | {device} | {mode} | {warm['import_s']:.2f} | "
                  f"{warm['first_s']:.3f} | {warm['again_s']:.3f} | {warm['events']:,} | "
                  f"{rate / 1e6:.1f} M | {warm['cycles']:,} |")


if __name__ == "__main__":
    main()
