"""Sweep the ONNX importer over the ONNX backend node tests (the onnx package generates
them: one small model per operator variant, with inputs and expected outputs), as given,
in a batch-1 variant, and with every input after the first fixed as an initializer (as an
exporter writes a Resize's scales or a Reduce's axes). Each case ends as:

- imported: the float reference (value mode's) equals the expected outputs to 1e-4
  relative, or the model has nothing value mode runs (graph-only, or a rescued op);
- refused: a one-line error naming the file, node and reason;
- crashed: any other exception (a bug);
- wrong: imported, but the outputs differ from ONNX's (a bug, the worst kind).

    python benchmarks/onnx_node_sweep.py [--only SUBSTRING] [--show crashed,wrong]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np

RTOL = 1e-4
LABELS = ("as given", "batch 1", "settings fixed")


def run_case(model, inputs, outputs, directory: Path,
             unsupported: str = "error") -> tuple[str, str]:
    import onnx

    from accelsim.errors import AccelsimError
    from accelsim.values import reference_outputs
    from accelsim.workload.onnx import from_onnx_layout, load_onnx, to_onnx_layout
    path = directory / "model.onnx"
    onnx.save(model, str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wl = load_onnx(path, unsupported=unsupported)
    except AccelsimError as exc:
        text = str(exc)
        return ("refused", text) if "\n" not in text.strip() else ("crashed",
                                                                   "multi-line: " + text)
    except Exception as exc:                      # noqa: BLE001 - that is what we count
        return "crashed", f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=-3)}"
    if wl.missing_weights or any(wl.layers[n].kind == "generic" for n in wl.order):
        return "imported", "not checked (nothing value mode runs)"
    graph_inputs = [i.name for i in model.graph.input
                    if i.name not in {t.name for t in model.graph.initializer}]
    try:
        inputs = [a if isinstance(a, np.ndarray) else onnx.numpy_helper.to_array(a)
                  for a in inputs]
        outputs = [a if isinstance(a, np.ndarray) else onnx.numpy_helper.to_array(a)
                   for a in outputs]
    except Exception:                             # noqa: BLE001 - sequences, optionals
        return "imported", "not checked (inputs or outputs are not tensors)"
    feeds = dict(zip(graph_inputs, inputs))
    try:
        arrays = {layer: from_onnx_layout(wl, layer, np.asarray(feeds[name], dtype=np.float64))
                  for layer, (name, *_) in wl.layouts.items() if name in feeds}
        if not arrays:
            return "imported", "not checked (no activation input)"
        acts = reference_outputs(wl, arrays)
    except AccelsimError as exc:
        return "refused", f"value mode: {exc}"
    except Exception as exc:                      # noqa: BLE001
        return "crashed", f"value mode: {type(exc).__name__}: {exc}"
    expected = dict(zip([o.name for o in model.graph.output], outputs))
    checked = 0
    for layer, (name, *_) in wl.layouts.items():
        if name not in expected or layer not in acts:
            continue
        want = np.asarray(expected[name])
        if want.dtype.kind not in "fiub":
            continue
        got = to_onnx_layout(wl, layer, acts[layer])
        # the expected values are rounded to their own type: a float16 output is checked
        # to ten of its steps, not to 1e-4
        rtol = max(RTOL, 10 * float(np.finfo(want.dtype).eps)) if want.dtype.kind == "f" \
            else RTOL
        if want.dtype == np.float32:
            # -inf and float32's lowest both mask a score out: onnxruntime's fused Attention
            # writes the second where the operator's function body (and accelsim) the first
            lowest = float(np.finfo(np.float32).max)
            got = np.where(np.asarray(got) <= -lowest, -np.inf, got)
            want = np.where(want <= -lowest, -np.inf, want)
        want = want.astype(np.float64)
        if got.shape != want.shape:
            return "wrong", f"output {name}: shape {got.shape}, ONNX {want.shape}"
        finite = np.isfinite(want)
        if not np.array_equal(np.isfinite(got), finite) or not np.allclose(
                got[finite], want[finite], rtol=rtol,
                atol=rtol * max(1.0, float(np.abs(want[finite]).max(initial=0)))):
            error = float(np.max(np.abs(got[finite] - want[finite]), initial=0))
            return "wrong", f"output {name}: max error {error:.3g}"
        checked += 1
    return "imported", f"{checked} output(s) checked"


def batch_one(model, inputs):
    """The model with every activation input cut to its first image, and the outputs
    onnxruntime gives for it; None when the inputs have no common batch axis above 1."""
    import onnx
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    if not all(isinstance(a, np.ndarray) for a in inputs):
        return None
    firsts = {a.shape[0] if a.ndim else 0 for a in inputs}
    if len(firsts) != 1 or firsts.pop() <= 1:
        return None
    variant = onnx.ModelProto()
    variant.CopyFrom(model)
    for info in variant.graph.input:
        if info.name in {i.name for i in graph_inputs}:
            if not info.type.tensor_type.shape.dim:
                return None
            info.type.tensor_type.shape.dim[0].Clear()
            info.type.tensor_type.shape.dim[0].dim_value = 1
    for info in variant.graph.output:
        info.type.tensor_type.ClearField("shape")
    del variant.graph.value_info[:]
    cut = [np.asarray(a)[:1] for a in inputs]
    try:
        import onnxruntime
        session = onnxruntime.InferenceSession(variant.SerializeToString(),
                                               providers=["CPUExecutionProvider"])
        outs = session.run(None, dict(zip([i.name for i in graph_inputs], cut)))
    except Exception:                             # noqa: BLE001 - no reference, no variant
        return None
    return variant, cut, outs


def settings_fixed(model, inputs):
    """The model with every graph input after the first made an initializer holding the
    test's value (a Resize's scales, a Reduce's axes, a Pad's pads, a second operand), as
    an exporter writes them; None when there is one input. The outputs are unchanged."""
    import onnx
    from onnx import numpy_helper
    initializers = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in initializers]
    if len(names) < 2 or len(inputs) != len(names) or not all(
            isinstance(a, np.ndarray) for a in inputs):
        return None
    variant = onnx.ModelProto()
    variant.CopyFrom(model)
    fixed = set(names[1:])
    kept = [i for i in variant.graph.input if i.name not in fixed]
    del variant.graph.input[:]
    variant.graph.input.extend(kept)
    for name, value in zip(names[1:], inputs[1:]):
        variant.graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    return variant, inputs[:1]


def sweep(unsupported: str = "error", variants: bool = True, only: str = ""):
    """(case, variant, outcome, detail) for every node test whose name contains ``only``:
    as given, and when ``variants`` also cut to batch 1 and with its settings fixed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case.node import collect_testcases
        cases = [c for c in collect_testcases(None)
                 if only in c.name and c.model is not None and c.data_sets]
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            inputs, outputs = case.data_sets[0]
            runs = [("as given", case.model, inputs, outputs)]
            one = batch_one(case.model, inputs) if variants else None
            if one is not None:
                runs.append(("batch 1", *one))
            fixed = settings_fixed(case.model, inputs) if variants else None
            if fixed is not None:
                runs.append(("settings fixed", *fixed, outputs))
            for label, model, ins, outs in runs:
                yield (case.name, label, *run_case(model, ins, outs, Path(tmp), unsupported))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="cases whose name contains this")
    parser.add_argument("--unsupported-ops", default="error", choices=("error", "digital"),
                        help="digital: count operators accelsim does not model as generic "
                             "digital ops (the rescue every structurally valid node needs)")
    parser.add_argument("--show", default="crashed,wrong",
                        help="outcomes to list one by one (comma-separated)")
    args = parser.parse_args()
    counts = collections.Counter()
    listed = collections.defaultdict(list)
    show = set(args.show.split(","))
    for name, label, outcome, detail in sweep(args.unsupported_ops, only=args.only):
        counts[(label, outcome)] += 1
        if outcome in show:
            listed[outcome].append(f"{name} ({label}): {detail[:300]}")
    print("| variant | cases | imported | refused (one line) | crashed | wrong |")
    print("|---|---:|---:|---:|---:|---:|")
    for label in LABELS:
        row = [counts[(label, o)] for o in ("imported", "refused", "crashed", "wrong")]
        print(f"| {label} | {sum(row)} | " + " | ".join(map(str, row)) + " |")
    for outcome in sorted(listed):
        print(f"\n{outcome}:")
        for line in listed[outcome]:
            print("  " + line)
    sys.exit(1 if any(counts[(label, o)] for label in LABELS for o in ("crashed", "wrong"))
             else 0)


if __name__ == "__main__":
    main()
