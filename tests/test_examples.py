"""The numbered examples run and print what their .out files show (as SimPy checks its docs).

The .out files are the documented output; independent checks of the same facts live in the
unit tests (tiling, hand-computed energies, SCALE-Sim, ...) and a few are repeated here.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("[0-9][0-9]_*.py"))


def test_all_seven_examples_are_there():
    assert [p.name[:2] for p in EXAMPLES] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_prints_its_expected_output(script, tmp_path):
    if script.stem == "04_precision":
        pytest.importorskip("sklearn", reason="example 04 needs scikit-learn (pip install "
                            "'accelsim[examples]')")
    import os
    proc = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=script.parent, timeout=600,
                          env={**os.environ, "ACCELSIM_PLOT_CHECK": "1"})
    assert proc.returncode == 0, proc.stderr
    expected = script.with_suffix(".out").read_text()
    assert proc.stdout == expected
    assert (tmp_path / f"{script.stem}.png").stat().st_size > 1000
    # every plot: bounded size, a title, and axes labelled with their units
    import json
    meta = json.loads((tmp_path / f"{script.stem}.json").read_text())
    assert meta["inches"][0] <= 16 and meta["inches"][1] <= 12
    for axis in meta["axes"]:
        assert axis["title"] or len(meta["axes"]) > 1, axis
        labels = axis["xlabel"] + " " + axis["ylabel"]
        assert "(" in labels, axis                          # a unit or a count, in brackets


def test_examples_state_independently_known_facts():
    two = (EXAMPLES[1].with_suffix(".out")).read_text()
    assert "20x20: 4 tiles, utilization 39.06 %" in two           # REFERENCES.md worked example
    assert "local minima of the tiles' energy per MAC at n = [16, 32, 48]" in two
    one = (EXAMPLES[0].with_suffix(".out")).read_text()
    # 128 conversions of the ADC model's 8-bit, 500 MS/s converter at 22 nm and 0.8 V
    from accelsim.models import adc
    from accelsim.models.technology import technology
    conversions = 128 * adc.energy_pj(8, 500e6, technology(22, 0.8))
    line = next(row for row in one.splitlines() if "ADCs (16 columns x 8 cycles)" in row)
    assert f"{conversions:.4g} pJ" in line


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_docs_quote_the_output_they_explain(script):
    """Every line of a ```text block in docs/examples/NN.md is a line of the example's .out,
    so the numbers the docs discuss are the simulator's."""
    doc = script.parents[1] / "docs" / "examples" / f"{script.stem}.md"
    output = script.with_suffix(".out").read_text().splitlines()
    blocks = re.findall(r"```text\n(.*?)```", doc.read_text(), flags=re.S)
    for block in blocks:
        for line in filter(str.strip, block.splitlines()):
            assert line.strip() in {out.strip() for out in output}, line
