"""Value-mode speed: ResNet-18 with seeded inputs and weights on both shipped CIM devices
(network MACs per second, and a SHA-1 of the outputs and of the result, so two trees can be
checked bit for bit), and crossbar_layer alone on synthetic layers, with float64 cells and with
the cells value mode passes when column sums are exact integers (int8 summed in float32, and
in int16 as value mode does when the sums stay below 2**15 (since 2026-12-05); float32 cells
in a tree before 2026-12-01), against float32 BLAS.

    python benchmarks/value_speed.py [--tree PATH] [--repeat 3]

``--tree`` runs another checkout (its folder first on PYTHONPATH) in a child process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import hashlib, inspect, json, sys, time
import numpy as np
from accelsim import simulate
from accelsim.kernels.crossbar import crossbar_layer
PARAMETERS = inspect.signature(crossbar_layer.py_func).parameters
SUMMED = 'driven_rows' in PARAMETERS
# value mode's cells: int8 summed in int16 (when the sums stay below 2**15, as here) or in
# float32; float32 cells in a tree before 2026-12-01
EXACT = (((np.int8, np.float32), (np.int8, np.int16)) if 'arithmetic' in PARAMETERS
         else ((np.float32, None),))
repeat = int(sys.argv[1])
for device in ("cim-16x16", "cim-128x128-rram"):
    simulate("lenet5", device, values=True, seed=1)         # kernels compiled or loaded
    import accelsim.values.measure as measure
    getattr(measure, "_WEIGHTS", {}).clear()     # each device's first call draws the weights
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = simulate("resnet18", device, values=True, seed=1)
        times.append(time.perf_counter() - began)
    best = min(times)
    fields = result.to_dict()
    for timing in ("engine_seconds", "wall_seconds", "compile_seconds"):
        fields.pop(timing, None)
    digest = hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()
    print(f"| resnet18 | {device} | {times[0]:.2f} | {best:.2f} | {result.macs / best / 1e9:.2f} | "
          f"{hashlib.sha1(result.output.tobytes()).hexdigest()[:12]} | {digest[:12]} |")
rng = np.random.default_rng(0)
print()
rows_out = []
for vectors, k, n, rows, slices in ((196, 2304, 256, 16, 1), (784, 1152, 128, 16, 1),
                                    (49, 4608, 512, 16, 1), (3136, 64, 64, 16, 1),
                                    (196, 2304, 256, 128, 4)):
    q = rng.integers(0, 256, size=(vectors, k))
    q[rng.random(q.shape) > 0.5] = 0
    width = n * slices
    integers = rng.integers(-127, 128, size=(k, width))
    r0 = np.arange(0, k, rows)
    blocks = r0.size
    for dtype, arithmetic in ((np.float64, np.float64), *EXACT):
        if arithmetic is None:
            arithmetic = dtype
        fixed = (q, 1, 8, integers.astype(dtype), r0, np.minimum(r0 + rows, k),
                 np.zeros(blocks, np.int64), np.full(blocks, width, np.int64),
                 np.zeros(blocks, np.int64), slices, 1.0, -128.0, 127.0, 2.0 ** np.arange(8),
                 np.ones(width), 0, np.zeros((blocks, width)), rng.random(k))
        def layer():
            if SUMMED:           # outputs summed over input cycles, [blocks, vectors]
                counts = (np.zeros((blocks, vectors), np.int64),
                          np.zeros((blocks, vectors), np.int64), np.zeros((blocks, vectors)))
            else:                # a tree before 2026-12-01: per input cycle, [V, blocks, 8]
                counts = (np.zeros((vectors, blocks, 8), np.int32),
                          np.zeros((vectors, blocks, 8)))
            began = time.perf_counter()
            if 'arithmetic' in PARAMETERS:
                counts = (*counts, np.empty(0, dtype=arithmetic))
            crossbar_layer(*fixed, np.zeros((vectors, n)), *counts)
            seconds = time.perf_counter() - began
            if SUMMED:
                return seconds, int(counts[0].sum()), int(counts[1].sum())
            return seconds, int(counts[0].sum()), int((counts[0] > 0).sum())
        layer()
        seconds, driven, conversions = min((layer() for _ in range(repeat)),
                                           key=lambda triple: triple[0])
        driven, conversions = driven * width, conversions * width
        nominal = vectors * 8 * k * width      # every row in every input cycle
        summed = "" if arithmetic in (None, dtype) else f", summed in {arithmetic.__name__}"
        rows_out.append((f"{vectors} x {k} x {n}, {rows}-row tiles", dtype.__name__ + summed,
                         driven / seconds, nominal / seconds, conversions / seconds))
sys.path.insert(0, BENCHMARKS)
from _common import blas_macs_per_second
blas = blas_macs_per_second()          # last (see its docstring)
for name, dtype, driven, nominal, conversions in rows_out:
    print(f"| {name} | {dtype} | {driven / 1e9:.2f} G | {nominal / 1e9:.2f} G | "
          f"{100 * nominal / blas:.0f} % | {conversions / 1e9:.2f} G |")
print(f"\nfloat32 BLAS, 2048^3 matmul: {blas / 1e9:.1f} G MAC/s")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    environment = dict(os.environ)
    if args.tree is not None:
        environment["PYTHONPATH"] = str(args.tree)
    print(f"tree: {args.tree or 'this checkout'}\n")
    # The first call draws the network's random weights; later calls with the same seed reuse
    # them (values.measure keeps them) where a tree since 2026-12-05 does.
    print("| workload | device | first call s | best s | network GMAC/s (best) | output SHA-1 "
          "| result SHA-1 |")
    print("|---|---|---:|---:|---:|---|---|")
    child = f"BENCHMARKS = {str(Path(__file__).resolve().parent)!r}\n{CHILD}"
    out = subprocess.run([sys.executable, "-c", child, str(args.repeat)], check=True,
                         capture_output=True, text=True, env=environment,
                         cwd=tempfile.gettempdir()).stdout
    head, _, tail = out.partition("\n\n")
    print(head)
    print("\ncrossbar_layer alone (8-bit inputs, half zero, 1-bit DAC, 8 input cycles):\n")
    print("| layer | cells | driven cell MACs/s | cell MACs/s, every row and cycle | of BLAS "
          "| conversions/s |")
    print("|---|---|---:|---:|---:|---:|")
    print(tail.strip())


if __name__ == "__main__":
    main()
