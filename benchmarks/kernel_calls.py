"""The crossbar layer kernel alone on a real network's calls: every `crossbar_layer` call of
one value-mode ResNet-18 run (`values=True, seed=1`) is recorded with its arguments, then
replayed, and the sum of the calls' times is reported (best of N replays), per device.

    python benchmarks/kernel_calls.py [--tree PATH] [--repeat 3]

``--tree`` runs another checkout in a child process (its folder first on PYTHONPATH): the
calls are recorded from that tree's own run and replayed on that tree's own kernel, so two
trees whose kernels take different arguments can be set side by side.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import sys, time
import numpy as np
import accelsim.kernels.crossbar as kernels
from accelsim import simulate
repeat = int(sys.argv[1])
kernel = kernels.crossbar_layer
for device in ("cim-16x16", "cim-128x128-rram"):
    calls = []
    def record(*args):
        calls.append(tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        return kernel(*args)
    kernels.crossbar_layer = record
    simulate("resnet18", device, values=True, seed=1)
    kernels.crossbar_layer = kernel
    best = float("inf")
    for _ in range(repeat):
        total = 0.0
        for args in calls:      # fresh copies (outputs accumulate), outside the clock
            fresh = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            began = time.perf_counter()
            kernel(*fresh)
            total += time.perf_counter() - began
        best = min(best, total)
    print(f"| {device} | {len(calls)} | {best:.3f} |")
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
    print("| device | calls | kernel s, summed over the calls (best replay) |")
    print("|---|---:|---:|")
    sys.stdout.flush()
    subprocess.run([sys.executable, "-c", CHILD, str(args.repeat)], check=True,
                   env=environment, cwd=tempfile.gettempdir())


if __name__ == "__main__":
    main()
