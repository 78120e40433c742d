"""The importer over every ONNX backend node test (the onnx package generates ~1,900 small
models with inputs and expected outputs), as given and cut to batch 1: each imports with
outputs equal to ONNX's, or is refused in one line; none crashes, none is wrong
(benchmarks/onnx_node_sweep.py prints the table)."""

from __future__ import annotations

import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from onnx_node_sweep import batch_one, run_case  # noqa: E402


def test_no_node_test_crashes_the_importer_or_imports_wrong(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case.node import collect_testcases
        cases = [c for c in collect_testcases(None) if c.model is not None and c.data_sets]
    outcomes, bad = Counter(), []
    for case in cases:
        inputs, outputs = case.data_sets[0]
        variants = [("as given", case.model, inputs, outputs)]
        one = batch_one(case.model, inputs)
        if one is not None:
            variants.append(("batch 1", *one))
        for label, model, ins, outs in variants:
            outcome, detail = run_case(model, ins, outs, tmp_path)
            outcomes[outcome] += 1
            if outcome in ("crashed", "wrong"):
                bad.append(f"{case.name} ({label}): {outcome}: {detail[:200]}")
    assert not bad, "\n".join(bad)
    assert len(cases) > 1000 and outcomes["imported"] > 400


def test_with_unsupported_ops_digital_nothing_crashes_either(tmp_path):
    """unsupported="digital" rescues every node that reads an activation (operators not
    modelled, cases of modelled ones not supported) as a generic digital op; what stays
    refused is about the graph's inputs (scalar, empty, string, sequence), subgraphs and
    nodes that read no activation at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case.node import collect_testcases
        cases = [c for c in collect_testcases(None) if c.model is not None and c.data_sets]
    outcomes, bad = Counter(), []
    for case in cases:
        inputs, outputs = case.data_sets[0]
        outcome, detail = run_case(case.model, inputs, outputs, tmp_path, "digital")
        outcomes[outcome] += 1
        if outcome in ("crashed", "wrong") or (
                outcome == "refused" and "node" in detail and "subgraphs" not in detail
                and "has no activation input" not in detail):
            bad.append(f"{case.name}: {outcome}: {detail[:200]}")
    assert not bad, "\n".join(bad)
