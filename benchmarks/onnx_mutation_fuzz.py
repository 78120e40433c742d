"""Broken ONNX files made from good ones: each must import (and simulate) or be refused in
one line naming the file; none may raise anything else, hang, or kill the process.

Each case takes one of the base models, applies one to three random mutations and imports
the result with load_onnx, then simulates it on cim-16x16. Mutations: an integer or float
attribute set to a hostile value (negative, zero, 2^40, NaN, infinity), an attribute
duplicated, retyped, removed or added, an input dropped or renamed to a tensor nothing
gives, an operator swapped for another, two nodes writing one tensor, a node removed, an
initializer's dimensions, element type or raw bytes changed, a graph input's dimension,
rank or element type changed, the graph output renamed.

With --cuts each case also cuts the graph (load_onnx's inputs= and outputs=) at one to three
tensors that nodes of the mutated model give, chosen at random: as outputs, as inputs, or
both.

The cases run in a worker process under a memory limit and a timeout per case; a case that
kills the worker (a C++ assertion in a library it calls) is counted as aborted and the
worker restarts after it.

    python benchmarks/onnx_mutation_fuzz.py [--seed 0] [--count 300] [--cuts] [FILE.onnx ...]

Without files the base models are the shipped graph-only exports in tests/data/onnx (all
but the four largest) and the test suite's resnet-style and transformer-style graphs.
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT = 60                     # seconds per case
MEMORY = 6 * 2 ** 30             # bytes of address space for the worker
HOSTILE_INTS = [-1, 0, 1, 2, 3, 7, 2 ** 31, -2 ** 31, 2 ** 40, 10 ** 12]
HOSTILE_FLOATS = [float("nan"), float("inf"), -1.0, 0.0, 1e30, 1e-30]
OPS = ["Conv", "MatMul", "Gemm", "Add", "Relu", "Reshape", "Transpose", "Softmax", "Gather",
       "Concat", "Slice", "Split", "Squeeze", "Unsqueeze", "ReduceMean", "LayerNormalization",
       "Resize", "Pad", "MaxPool", "AveragePool", "Expand", "Where", "Cast", "Shape",
       "ConstantOfShape", "Range", "Loop", "NoSuchOp"]


def mutate(model, rng: random.Random) -> str:
    """Apply one random mutation to ``model`` in place; a description of it ('' if the
    chosen kind did not apply to this model)."""
    from onnx import helper
    graph, nodes = model.graph, list(model.graph.node)
    node = rng.choice(nodes) if nodes else None
    kind = rng.randrange(16)
    if kind == 0 and node is not None:
        ints = [a for a in node.attribute if a.type in (2, 7)]
        if ints:
            a = rng.choice(ints)
            if a.type == 2:
                a.i = rng.choice(HOSTILE_INTS)
            elif len(a.ints):
                a.ints[rng.randrange(len(a.ints))] = rng.choice(HOSTILE_INTS)
            return f"{node.op_type}.{a.name} set to a hostile integer"
    elif kind == 1 and node is not None:
        floats = [a for a in node.attribute if a.type == 1]
        if floats:
            a = rng.choice(floats)
            a.f = rng.choice(HOSTILE_FLOATS)
            return f"{node.op_type}.{a.name} = {a.f}"
    elif kind == 2 and node is not None and len(node.input):
        del node.input[rng.randrange(len(node.input))]
        return f"{node.op_type}: an input dropped"
    elif kind == 3 and node is not None and len(node.input):
        node.input[rng.randrange(len(node.input))] = "nowhere"
        return f"{node.op_type}: an input renamed"
    elif kind == 4 and graph.initializer:
        t = rng.choice(list(graph.initializer))
        if len(t.dims):
            t.dims[rng.randrange(len(t.dims))] = rng.choice([0, 1, -1, 2 ** 40, 3])
            return f"initializer {t.name}: dimensions {list(t.dims)}"
    elif kind == 5 and graph.input:
        dims = rng.choice(list(graph.input)).type.tensor_type.shape.dim
        if len(dims):
            dims[rng.randrange(len(dims))].dim_value = rng.choice([0, -1, 2 ** 31, 10 ** 9, 3])
            return "a graph input's dimension changed"
    elif kind == 6 and node is not None:
        old, node.op_type = node.op_type, rng.choice(OPS)
        return f"{old} became {node.op_type}"
    elif kind == 7 and len(nodes) > 1:
        a, b = rng.sample(nodes, 2)
        if len(a.output) and len(b.output):
            b.output[0] = a.output[0]
            return "two nodes write one tensor"
    elif kind == 8 and graph.initializer:
        t = rng.choice(list(graph.initializer))
        t.data_type = rng.choice([0, 8, 9, 13, 16, 17, 99])
        return f"initializer {t.name}: element type {t.data_type}"
    elif kind == 9 and node is not None:
        if node.attribute and rng.random() < 0.5:
            node.attribute.append(copy.deepcopy(node.attribute[0]))
            return f"{node.op_type}: attribute {node.attribute[0].name} given twice"
        node.attribute.append(helper.make_attribute("bogus", 3))
        return f"{node.op_type}: an unknown attribute"
    elif kind == 10 and node is not None and len(node.attribute):
        a = rng.choice(list(node.attribute))
        node.attribute.remove(a)
        if rng.random() < 0.8:
            node.attribute.append(helper.make_attribute(
                a.name, rng.choice(["s", 1.5, [1.5, 2.5], 7, ["a"]])))
            return f"{node.op_type}.{a.name} retyped"
        return f"{node.op_type}.{a.name} removed"
    elif kind == 11 and graph.output:
        graph.output[0].name = rng.choice(["nowhere", graph.input[0].name if graph.input
                                           else "x"])
        return "the graph output renamed"
    elif kind == 12 and graph.initializer:
        t = rng.choice(list(graph.initializer))
        if t.raw_data:
            t.raw_data = t.raw_data[: len(t.raw_data) // 2 + 1]
            return f"initializer {t.name}: raw bytes cut"
    elif kind == 13 and graph.input:
        info = rng.choice(list(graph.input))
        info.type.tensor_type.elem_type = rng.choice([8, 9, 7, 6, 2, 10, 11])
        return "a graph input's element type changed"
    elif kind == 14 and graph.input:
        dims = rng.choice(list(graph.input)).type.tensor_type.shape.dim
        if rng.random() < 0.5 and len(dims):
            del dims[rng.randrange(len(dims))]
            return "a graph input's rank lowered"
        dims.add().dim_value = rng.choice([1, 2, 3])
        return "a graph input's rank raised"
    elif kind == 15 and node is not None:
        graph.node.remove(node)
        return f"a {node.op_type} removed"
    return ""


def cut(model, rng: random.Random) -> dict:
    """load_onnx's inputs= and outputs= at random tensors that nodes of ``model`` give."""
    names = [out for node in model.graph.node for out in node.output if out]
    if not names:
        return {}
    pick = rng.randrange(3)
    chosen = {}
    if pick in (0, 2):
        chosen["outputs"] = rng.sample(names, min(len(names), rng.randint(1, 3)))
    if pick in (1, 2):
        chosen["inputs"] = rng.sample(names, min(len(names), rng.randint(1, 2)))
    return chosen


def worker(seed: int, start: int, count: int, files: list[str], cuts: bool) -> None:
    """Run cases start..count-1, one JSON line each on stdout ('case' before the work, so
    that a case that kills the process is known)."""
    import resource
    import signal
    import traceback
    import warnings

    import onnx

    import accelsim
    from accelsim.workload.onnx import load_onnx
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    warnings.simplefilter("ignore")

    def timeout(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, timeout)
    models = {f: onnx.load(f) for f in files}
    directory = Path(tempfile.mkdtemp())
    for case in range(start, count):
        rng = random.Random(f"{seed}-{case}")       # each case alone is reproducible
        base = rng.choice(files)
        model = copy.deepcopy(models[base])
        what = [m for m in (mutate(model, rng) for _ in range(rng.choice([1, 1, 2, 3]))) if m]
        kwargs = cut(model, rng) if cuts else {}
        what += [f"{key}={value}" for key, value in kwargs.items()]
        path = directory / "mutated.onnx"
        path.write_bytes(model.SerializeToString())
        print(json.dumps({"case": case, "base": Path(base).name, "what": what}), flush=True)
        signal.alarm(TIMEOUT)
        try:
            accelsim.simulate(load_onnx(path, **kwargs), "cim-16x16")
            outcome, detail = "ran", ""
        except accelsim.AccelsimError as exc:
            outcome, detail = "refused", str(exc).splitlines()[0][:200]
        except TimeoutError:
            outcome, detail = "hung", f"more than {TIMEOUT} s"
        except Exception as exc:   # the bug this script looks for
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            outcome = "crashed"
            detail = (f"{type(exc).__name__}: {str(exc)[:150]} "
                      f"({Path(frame.filename).name}:{frame.lineno})")
        finally:
            signal.alarm(0)
        print(json.dumps({"case": case, "outcome": outcome, "detail": detail}), flush=True)


def default_files() -> list[str]:
    data = HERE.parent / "tests" / "data" / "onnx"
    shipped = sorted(data.glob("*.onnx"), key=lambda p: p.stat().st_size)[:-4]
    sys.path.insert(0, str(HERE.parent / "tests"))
    import onnx
    from onnx_models import resnet_style, transformer_style
    directory = Path(tempfile.mkdtemp())
    built = []
    for build in (resnet_style, transformer_style):
        built.append(directory / f"{build.__name__}.onnx")
        onnx.save(build(), str(built[-1]))
    return [str(p) for p in (*shipped, *built)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--cuts", action="store_true",
                        help="also cut each case's graph at random tensors (see the docstring)")
    parser.add_argument("files", nargs="*", help="base models (default: see the docstring)")
    parser.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.seed, args.worker[0], args.count, args.files, args.cuts)
        return 0
    files = args.files or default_files()
    outcomes, examples, start = collections.Counter(), {}, 0
    while start < args.count:
        proc = subprocess.run([sys.executable, __file__, "--seed", str(args.seed), "--count",
                               str(args.count), "--worker", str(start), "0",
                               *(["--cuts"] if args.cuts else []), *files],
                              capture_output=True, text=True, env={**os.environ})
        last = None
        for line in proc.stdout.splitlines():
            entry = json.loads(line)
            if "outcome" in entry:
                outcomes[entry["outcome"]] += 1
                if entry["outcome"] in ("crashed", "hung"):
                    examples.setdefault(entry["detail"].split(" (")[0][:60],
                                        (last, entry["detail"]))
                last = None
            else:
                last = entry
        if last is None:                          # the worker finished every case
            break
        outcomes["aborted"] += 1                  # the worker died inside this case
        tail = proc.stderr.strip().splitlines()
        examples.setdefault(f"aborted {last['case']}", (last, tail[-1][:200] if tail else ""))
        start = last["case"] + 1
    total = sum(outcomes.values())
    print(f"| seed | base models | cases | ran | refused (one line) | crashed | hung | "
          f"aborted |\n|---|---:|---:|---:|---:|---:|---:|---:|\n| {args.seed} | {len(files)} "
          f"| {total} | " + " | ".join(str(outcomes[k]) for k in
                                        ("ran", "refused", "crashed", "hung", "aborted")) + " |")
    for case, detail in examples.values():
        print(f"- case {case['case']} ({case['base']}: {'; '.join(case['what'])}): {detail}")
    return 1 if examples else 0


if __name__ == "__main__":
    sys.exit(main())
