"""Planning cost per layer: a 10,000-layer MLP (64 -> 64 Linear layers with ReLU) on
cim-16x16, simulate() timed whole and phase by phase (as simulate() runs them, with the
cyclic garbage collector paused) in one warm process; and warm simulate() calls of ResNet-18,
ResNet-50 and BERT-base.

    python benchmarks/deep_mlp.py [--layers 10000] [--tree PATH]

``--tree`` runs another checkout (its folder first on PYTHONPATH) in a child process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from _common import phase_times

from accelsim import simulate
from accelsim.hardware.pricing import resolve
from accelsim.spec.load import load_device
from accelsim.workload.graph import WorkloadBuilder
from accelsim.workload.layers import Input, Linear


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--tree", type=Path, default=None)
    args = parser.parse_args()
    if args.tree is not None:
        environment = dict(os.environ, PYTHONPATH=str(args.tree.resolve()))
        print(f"tree: {args.tree}")
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--layers",
                        str(args.layers)], check=True, env=environment,
                       cwd=tempfile.gettempdir())
        return
    layers = args.layers
    import accelsim
    print(f"accelsim from {Path(accelsim.__file__).parent.parent}")
    device = resolve(load_device("cim-16x16"))
    for _ in range(2):
        simulate("mlp", device)                         # numba started and warm
    for network in ("resnet18", "resnet50", "bert-base"):
        best = float("inf")
        for _ in range(5):
            began = time.perf_counter()
            simulate(network, device)
            best = min(best, time.perf_counter() - began)
        print(f"simulate({network!r}, 'cim-16x16'), warm: {1000 * best:.1f} ms (best of 5)")
    builder = WorkloadBuilder(f"mlp-{layers}")
    builder.add(Input, "input", shape=(64, 1, 1))
    for i in range(layers):
        builder.add(Linear, f"fc{i}", out_features=64, activation="relu")
    t0 = time.perf_counter()
    workload = builder.build()
    t1 = time.perf_counter()
    whole = []
    for _ in range(3):
        began = time.perf_counter()
        simulate(workload, device)
        whole.append(time.perf_counter() - began)
    print(f"{layers:,}-layer MLP: simulate() {min(whole):.2f} s (best of 3; "
          f"{', '.join(f'{t:.2f}' for t in whole)})")
    try:    # as simulate() runs them (trees before 2026-12-01 did not pause the collector)
        from accelsim.simulate import _collector_paused as paused
    except ImportError:
        paused = nullcontext
    with paused():
        phases(workload, device, layers, t1 - t0)


def phases(workload, device, layers: int, build_seconds: float) -> None:
    """Time simulate()'s phases one by one (fast mode, batch 1)."""
    seconds, _ = phase_times(workload, device)
    print(f"{layers:,}-layer MLP: workload {build_seconds:.2f} s, planning "
          f"{seconds['planning']:.2f} s, placing and lowering {seconds['lowering']:.2f} s, "
          f"event loop {seconds['event loop']:.2f} s, result {seconds['result']:.2f} s; "
          f"together {sum(seconds.values()):.2f} s")


if __name__ == "__main__":
    main()
