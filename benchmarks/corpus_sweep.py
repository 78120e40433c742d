"""Cycles and energy of the zoo's transformers and CNNs and of every ONNX corpus model
(tests/data/onnx, needs the onnx extra) on five devices, written as JSON; with --compare, the
runs that changed against an earlier JSON (another commit's, run from a git worktree).

    python benchmarks/corpus_sweep.py --json after.json [--compare before.json]

The twenty-second session's before/after tables in RESULTS.md come from it.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

ZOO = ("resnet18", "resnet50", "bert-base", "vit-b16", "gpt2-prefill", "mobilenetv2", "vgg16")
DEVICES = ("cim-16x16", "cim-128x128-rram", "hybrid-cim-systolic", "ania-like", "eyeriss-like")


def sweep() -> dict[str, list[float] | str]:
    from test_onnx_corpus import MANIFEST, load

    import accelsim
    models = {name: (lambda name=name: accelsim.load_workload(name)) for name in ZOO}
    models.update({name: (lambda name=name: load(name)) for name in sorted(MANIFEST)})
    runs: dict[str, list[float] | str] = {}
    for name, build in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workload = build()
        for device in DEVICES:
            try:
                result = accelsim.simulate(workload, device)
                runs[f"{name}|{device}"] = [result.cycles, result.energy_pj]
            except accelsim.AccelsimError as exc:      # reported, not fatal
                runs[f"{name}|{device}"] = str(exc)[:120]
        print(name, file=sys.stderr, flush=True)
    return runs


def compare(before: dict, after: dict) -> None:
    print("| model, device | cycles | energy µJ |\n|---|---|---|")
    changed = 0
    for key in sorted(after, key=lambda k: (str(after[k]), k)):
        old, new = before.get(key), after[key]
        if isinstance(old, str) or isinstance(new, str) or old is None:
            if old != new:
                print(f"| {key.replace('|', ', ')} | {old} | {new} |")
                changed += 1
            continue
        dc, de = new[0] / old[0] - 1, new[1] / old[1] - 1
        if abs(dc) > 1e-4 or abs(de) > 1e-4:
            changed += 1
            print(f"| {key.replace('|', ', ')} | {old[0]:,} → {new[0]:,} ({dc:+.1%}) | "
                  f"{old[1] / 1e6:,.1f} → {new[1] / 1e6:,.1f} ({de:+.1%}) |")
    print(f"\n{len(after)} runs; {changed} changed by over 0.01 %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write the runs")
    parser.add_argument("--compare", type=Path, help="an earlier --json to compare with")
    args = parser.parse_args()
    runs = sweep()
    args.json.write_text(json.dumps(runs))
    if args.compare is not None:
        compare(json.loads(args.compare.read_text()), runs)


if __name__ == "__main__":
    main()
