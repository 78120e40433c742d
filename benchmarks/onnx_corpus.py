"""Import and simulate every model of tests/data/onnx (real exports, graph-only): MACs
against the reference the corpus test checks, import and simulation time.

    python benchmarks/onnx_corpus.py [--device cim-16x16]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cim-16x16")
    args = parser.parse_args()
    from test_onnx_corpus import MACS, MANIFEST, TORCHVISION_GMACS, load

    import accelsim

    print(f"| model | MACs | reference | import s | simulate s ({args.device}) | cycles |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in sorted(MANIFEST):
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wl = load(name)
        imported = time.perf_counter()
        result = accelsim.simulate(wl, args.device)
        done = time.perf_counter()
        base = name.removesuffix("-batch4")
        reference = (f"{MACS[name]:,} (formula)" if name in MACS
                     else f"{TORCHVISION_GMACS[base]:.2f} G (torchvision)")
        print(f"| {name} | {wl.macs:,} | {reference} | {imported - began:.2f} | "
              f"{done - imported:.2f} | {result.cycles:,} |")


if __name__ == "__main__":
    main()
