"""Random graphs that move the batch inwards, against onnxruntime.

Each graph takes a batch of 2 or 3 images, moves the batch inwards with a Transpose, and
applies one to five random operations of the kinds the importer carries a held transpose
past (accelsim/workload/onnx/sinking.py): activations, elementwise operations with
broadcast constants or with another held tensor, a MatMul by a constant, Softmax along any
axis, Reshapes that merge or split axes, Transposes, Squeeze and Unsqueeze, Gather, Slice,
Split and residual adds. Most end with a random Transpose. Each graph must import with
outputs equal to onnxruntime's, or be refused in one line; none may crash or import wrong
(the cases are counted as in onnx_node_sweep.py).

    python benchmarks/onnx_batch_fuzz.py [--seed 0] [--count 500]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from onnx_node_sweep import run_case  # noqa: E402


def _split(size: int) -> list[int] | None:
    for a in range(2, size):
        if size % a == 0:
            return [a, size // a]
    return None


def random_graph(rng: np.random.Generator):
    """(model, input shape): a graph as described in the module docstring."""
    from onnx import TensorProto, helper, numpy_helper
    shape = [int(rng.choice([2, 3]))] + [int(rng.choice([2, 3, 4, 6]))
                                         for _ in range(int(rng.integers(1, 4)))]
    nodes, inits, count = [], [], [0]

    def name(stem):
        count[0] += 1
        return f"{stem}{count[0]}"

    def const(value):
        inits.append(numpy_helper.from_array(np.asarray(value), name("c")))
        return inits[-1].name

    def op(kind, inputs, n_out=1, **attrs):
        outs = [name(kind.lower()) for _ in range(n_out)]
        nodes.append(helper.make_node(kind, inputs, outs, name=outs[0], **attrs))
        return outs[0] if n_out == 1 else outs

    def floats(*dims):
        return const(rng.normal(size=dims).astype(np.float32))

    def ints(values):
        return const(np.array(values, dtype=np.int64))

    perm = [0]
    while perm[0] == 0:
        perm = [int(a) for a in rng.permutation(len(shape))]
    x, cur = op("Transpose", ["x"], perm=perm), [shape[a] for a in perm]
    for _ in range(int(rng.integers(1, 6))):
        rank, kind = len(cur), int(rng.integers(0, 14))
        if kind == 0:
            x = op("Relu", [x])
        elif kind == 1:                  # a constant broadcast along some axes
            dims = [c if rng.random() < 0.5 else 1 for c in cur][int(rng.integers(0, rank)):]
            pair = [x, floats(*dims)]
            x = op(str(rng.choice(["Add", "Mul", "Sub"])), pair[::int(rng.choice([1, -1]))])
        elif kind == 2:
            out = int(rng.choice([2, 5]))
            x, cur[-1] = op("MatMul", [x, floats(cur[-1], out)]), out
        elif kind == 3:
            x = op("Softmax", [x], axis=int(rng.integers(-rank, rank)))
        elif kind == 4:
            order = [int(a) for a in rng.permutation(rank)]
            x, cur = op("Transpose", [x], perm=order), [cur[a] for a in order]
        elif kind == 5 and rank >= 2:    # merge two neighbouring axes
            i = int(rng.integers(0, rank - 1))
            cur = cur[:i] + [cur[i] * cur[i + 1]] + cur[i + 2:]
            x = op("Reshape", [x, ints(cur)])
        elif kind == 6:                  # split an axis in two
            axes = [i for i, c in enumerate(cur) if _split(c)]
            if axes:
                i = int(rng.choice(axes))
                cur = cur[:i] + _split(cur[i]) + cur[i + 1:]
                x = op("Reshape", [x, ints(cur)])
        elif kind == 7:
            a = int(rng.integers(0, rank + 1))
            x, cur = op("Unsqueeze", [x, ints([a])]), cur[:a] + [1] + cur[a:]
        elif kind == 8:
            ones = [i for i, c in enumerate(cur) if c == 1]
            if ones:
                a = int(rng.choice(ones))
                x, cur = op("Squeeze", [x, ints([a])]), cur[:a] + cur[a + 1:]
        elif kind == 9:
            a = int(rng.integers(0, rank))
            if rng.random() < 0.5:
                index = const(np.array(int(rng.integers(0, cur[a])), dtype=np.int64))
                x, cur = op("Gather", [x, index], axis=a), cur[:a] + cur[a + 1:]
            else:
                x = op("Gather", [x, ints(rng.integers(0, cur[a], size=2))], axis=a)
                cur[a] = 2
        elif kind == 10:
            a = int(rng.integers(0, rank))
            if cur[a] > 1:
                x = op("Slice", [x, ints([1]), ints([cur[a]]), ints([a])])
                cur[a] -= 1
        elif kind == 11:                 # two readers of the same tensor
            x = op("Add", [x, op("Sigmoid", [x])])
        elif kind == 12:
            a = int(rng.integers(0, rank))
            if cur[a] % 2 == 0:
                half = cur[a] // 2
                x = op("Mul", op("Split", [x, ints([half, half])], n_out=2, axis=a))
                cur[a] = half
        elif kind == 13:                 # a residual: x + x W (W square)
            x = op("Add", [x, op("MatMul", [x, floats(cur[-1], cur[-1])])])
        if not cur:
            break
    if len(cur) > 1 and rng.random() < 0.7:
        x = op("Transpose", [x], perm=[int(a) for a in rng.permutation(len(cur))])
    x = op("Relu", [x])
    graph = helper.make_graph(
        nodes, "fuzz", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model, shape


def fuzz(seed: int = 0, count: int = 500):
    """Yield (index, outcome, detail) for ``count`` random graphs; graphs that onnxruntime
    itself rejects are "invalid"."""
    import onnxruntime as ort
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(count):
            model, shape = random_graph(rng)
            x = rng.normal(size=shape).astype(np.float32)
            try:
                options = ort.SessionOptions()
                options.log_severity_level = 4
                expected = ort.InferenceSession(model.SerializeToString(), options).run(
                    None, {"x": x})
            except Exception:                     # noqa: BLE001 - an invalid random graph
                yield index, "invalid", ""
                continue
            outcome, detail = run_case(model, [x], expected, Path(tmp))
            yield index, outcome, detail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args(argv)
    counts = collections.Counter()
    for index, outcome, detail in fuzz(args.seed, args.count):
        counts[outcome] += 1
        if outcome in ("crashed", "wrong"):
            print(f"graph {index}: {outcome}: {detail[:300]}")
    print("| seed | graphs | imported | refused (one line) | crashed | wrong | invalid |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.seed} | {args.count} | {counts['imported']} | {counts['refused']} | "
          f"{counts['crashed']} | {counts['wrong']} | {counts['invalid']} |")
    return 1 if counts["crashed"] or counts["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
