"""Value-mode speed: ResNet-18 with seeded inputs and weights on both shipped CIM devices
(network MACs per second, and a SHA-1 of the outputs and of the result, so two trees can be
checked bit for bit), and crossbar_layer alone on synthetic layers against float32 BLAS.

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
import hashlib, json, sys, time
import numpy as np
from accelsim import simulate
from accelsim.kernels.crossbar import crossbar_layer
repeat = int(sys.argv[1])
for device in ("cim-16x16", "cim-128x128-rram"):
    simulate("lenet5", device, values=True, seed=1)         # kernels compiled or loaded
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        result = simulate("resnet18", device, values=True, seed=1)
        best = min(best, time.perf_counter() - began)
    fields = result.to_dict()
    for timing in ("engine_seconds", "wall_seconds", "compile_seconds"):
        fields.pop(timing, None)
    digest = hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()
    print(f"| resnet18 | {device} | {best:.2f} | {result.macs / best / 1e9:.2f} | "
          f"{hashlib.sha1(result.output.tobytes()).hexdigest()[:12]} | {digest[:12]} |")
rng = np.random.default_rng(0)
print()
for vectors, k, n, rows, slices in ((196, 2304, 256, 16, 1), (784, 1152, 128, 16, 1),
                                    (49, 4608, 512, 16, 1), (196, 2304, 256, 128, 4)):
    q = rng.integers(0, 256, size=(vectors, k))
    q[rng.random(q.shape) > 0.5] = 0
    width = n * slices
    cells = rng.integers(-127, 128, size=(k, width)).astype(float)
    r0 = np.arange(0, k, rows)
    blocks = r0.size
    fixed = (q, 1, 8, cells, r0, np.minimum(r0 + rows, k), np.zeros(blocks, np.int64),
             np.full(blocks, width, np.int64), np.zeros(blocks, np.int64), slices, 1.0,
             -128.0, 127.0, 2.0 ** np.arange(8), np.ones(width), 0,
             np.zeros((blocks, width)), rng.random(k))
    def layer():
        active = np.zeros((vectors, blocks, 8), np.int32)
        began = time.perf_counter()
        crossbar_layer(*fixed, np.zeros((vectors, n)), active, np.zeros((vectors, blocks, 8)))
        return time.perf_counter() - began, active
    layer()
    seconds, active = min((layer() for _ in range(repeat)), key=lambda pair: pair[0])
    a = rng.random((vectors, k)).astype(np.float32)
    b = rng.random((k, n)).astype(np.float32)
    a @ b
    began = time.perf_counter()
    a @ b
    blas = vectors * k * n / (time.perf_counter() - began)
    macs, conversions = int(active.sum()) * width, int((active > 0).sum()) * width
    print(f"| {vectors} x {k} x {n}, {rows}-row tiles | {macs / seconds / 1e9:.2f} G "
          f"| {conversions / seconds / 1e9:.2f} G | {blas / 1e9:.1f} G |")
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
    print("| workload | device | best s | network GMAC/s | output SHA-1 | result SHA-1 |")
    print("|---|---|---:|---:|---|---|")
    out = subprocess.run([sys.executable, "-c", CHILD, str(args.repeat)], check=True,
                         capture_output=True, text=True, env=environment,
                         cwd=tempfile.gettempdir()).stdout
    head, _, tail = out.partition("\n\n")
    print(head)
    print("\ncrossbar_layer alone (8-bit inputs, half zero, 1-bit DAC, 8 input cycles):\n")
    print("| layer | driven cell MACs/s | conversions/s | float32 BLAS, same GEMM |")
    print("|---|---:|---:|---:|")
    print(tail.strip())


if __name__ == "__main__":
    main()
