"""Start-up: the whole `accelsim run` process with warm caches (numba's and the C event
loop's) and with empty ones (as right after `pip install`), and where the time of one run
goes.

    python benchmarks/startup.py [--tree PATH] [--repeat 3]

``--tree`` runs another checkout (its folder first on PYTHONPATH), so that the trees before and
after a change are measured in one session. Byte-code caching is on in the child processes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BREAKDOWN = r"""
import sys, time
t0 = time.perf_counter()
import accelsim.cli
t1 = time.perf_counter()
from accelsim.mapping.lower import lower
from accelsim.mapping.plan import place_and_route, plan_workload
from accelsim.hardware.pricing import resolve
from accelsim.results.build import build_result
from accelsim.spec.load import load_device
from accelsim.workload.load import load_workload
t2 = time.perf_counter()
wl, dev = load_workload("resnet18"), resolve(load_device("cim-16x16"))
t3 = time.perf_counter()
sys.path.insert(0, BENCHMARKS)
from _common import phase_times
seconds, timeline = phase_times(wl, dev)
print(f"imports {t2 - t0:.2f} s (the command line's {t1 - t0:.2f} s), loading {t3 - t2:.2f} s, "
      f"planning and lowering {seconds['planning'] + seconds['lowering']:.2f} s, event loop "
      f"{seconds['event loop']:.3f} s ({getattr(timeline, 'engine', 'numba')}; of which "
      f"{timeline.compile_seconds:.2f} s starting it), result {seconds['result']:.2f} s")
"""


def run(args: list[str], tree: Path | None, **env: str) -> float:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment.update(env)
    if tree is not None:
        environment["PYTHONPATH"] = str(tree)
    began = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, env=environment,
                   cwd=tempfile.gettempdir())
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    command = ["-m", "accelsim", "run", "-d", "cim-16x16", "-q", "-w"]
    run([*command, "resnet18"], args.tree)              # the numba cache warm, if it is used
    print(f"tree: {args.tree or 'this checkout'}")
    for workload in ("resnet18", "lenet5"):
        best = min(run([*command, workload], args.tree) for _ in range(args.repeat))
        print(f"warm `accelsim run -w {workload}`: {best:.2f} s (best of {args.repeat})")
    with tempfile.TemporaryDirectory() as cache:
        cold = []
        for _ in range(2):
            for entry in Path(cache).iterdir():
                subprocess.run(["rm", "-rf", str(entry)], check=True)
            # numba's cache and the C event loop's both live under $XDG_CACHE_HOME
            cold.append(run([*command, "resnet18"], args.tree, XDG_CACHE_HOME=cache,
                            NUMBA_CACHE_DIR=str(Path(cache) / "accelsim" / "numba")))
    print(f"cold (empty numba and C-loop caches) `accelsim run -w resnet18`: "
          f"{', '.join(f'{s:.2f}' for s in cold)} s")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.tree is not None:
        environment["PYTHONPATH"] = str(args.tree)
    child = f"BENCHMARKS = {str(Path(__file__).resolve().parent)!r}\n{BREAKDOWN}"
    out = subprocess.run([sys.executable, "-c", child], check=True, capture_output=True,
                         text=True, env=environment, cwd=tempfile.gettempdir()).stdout
    print(f"one ResNet-18 run, in one fresh process: {out.strip()}")


if __name__ == "__main__":
    main()
