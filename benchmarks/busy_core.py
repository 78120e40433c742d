"""Value mode with one core taken by another process: ResNet-18 (`values=True, seed=1`) on
both shipped CIM devices, best of N warm calls on an idle machine and with a busy loop
running in a second process, alternately (issue 20's target: no more than 1.5x slower).

    python benchmarks/busy_core.py [--repeat 3] [--rounds 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from accelsim import simulate

DEVICES = ("cim-16x16", "cim-128x128-rram")


def best(device: str, repeat: int) -> float:
    seconds = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        simulate("resnet18", device, values=True, seed=1)
        seconds = min(seconds, time.perf_counter() - began)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for device in DEVICES:
        simulate("lenet5", device, values=True, seed=1)        # kernels compiled or loaded
    print("| round | device | idle s | one core busy s | ratio |")
    print("|---|---|---:|---:|---:|")
    for round_ in range(1, args.rounds + 1):
        for device in DEVICES:
            idle = best(device, args.repeat)
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                time.sleep(0.5)                              # let the scheduler place it
                busy = best(device, args.repeat)
            finally:
                hog.kill()
                hog.wait()
            print(f"| {round_} | {device} | {idle:.2f} | {busy:.2f} | {busy / idle:.2f} |")


if __name__ == "__main__":
    main()
