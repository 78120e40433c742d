"""The importer over every ONNX backend node test (the onnx package generates ~1,900 small
models with inputs and expected outputs), as given, cut to batch 1 and with their settings
fixed as initializers: each imports with
outputs equal to ONNX's, or is refused in one line; none crashes, none is wrong
(benchmarks/onnx_node_sweep.py prints the table)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("onnx", reason="the onnx extra is not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from onnx_node_sweep import sweep  # noqa: E402


def test_no_node_test_crashes_the_importer_or_imports_wrong():
    outcomes, bad = Counter(), []
    for name, label, outcome, detail in sweep():
        outcomes[outcome] += 1
        if outcome in ("crashed", "wrong"):
            bad.append(f"{name} ({label}): {outcome}: {detail[:200]}")
    assert not bad, "\n".join(bad)
    assert sum(outcomes.values()) > 1000 and outcomes["imported"] > 400


def test_with_unsupported_ops_digital_nothing_crashes_either():
    """unsupported="digital" rescues every node that reads an activation (operators not
    modelled, cases of modelled ones not supported) as a generic digital op; what stays
    refused is about the graph's inputs (scalar, empty, string, sequence), subgraphs and
    nodes that read no activation at all."""
    bad = [f"{name}: {outcome}: {detail[:200]}"
           for name, _, outcome, detail in sweep("digital", variants=False)
           if outcome in ("crashed", "wrong") or (
               outcome == "refused" and "node" in detail and "subgraphs" not in detail
               and "has no activation input" not in detail)]
    assert not bad, "\n".join(bad)
