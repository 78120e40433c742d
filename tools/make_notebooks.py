"""Write examples/*.ipynb: each numbered example as a notebook, and the interactive explorer.

    python tools/make_notebooks.py          # after changing an example script

The notebooks are generated from the scripts (the script stays the source of truth), so they
cannot drift: tests/test_notebooks.py checks that they are what this writes, and runs them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

SETUP = '''%matplotlib inline
import sys
sys.argv = ["notebook"]       # the example reads its options from the command line
__file__ = "{name}"           # as if run as the script (the notebook runs in examples/)
__doc__ = {doc!r}'''

EXPLORER_INTRO = """# Explore: tile size, ADC bits and pruning

Move the sliders: the crossbar side (capacity kept at 16 MiB of weights), the ADC
resolution and the share of tile-sized weight blocks kept. Left, the tiles' energy per MAC
of an n×n layer (the tile-mismatch sawtooth); right, where a small CNN's energy goes in value
mode, with the pruned blocks never mapped. Every figure comes from the simulator and the
component models (`accelsim devices --explain cim-16x16`)."""

EXPLORER = '''%matplotlib inline
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

import accelsim
from accelsim.analysis import tile_mismatch_curve
from accelsim.results import plots
from accelsim.workload.pruning import block_prune
from accelsim.workload.weights import random_weights

base = accelsim.load_device("cim-16x16")
network = accelsim.load_workload("small-cnn")
network = network.with_weights(random_weights(network, seed=0))
image = np.random.default_rng(0).random(network.shapes["input"])


def draw(side=16, adc_bits=8, kept=1.0):
    device = base.replace({"cim.rows": side, "cim.cols": side, "cim.adc_bits": adc_bits,
                           "cim.adcs_per_tile": max(1, side // 4),
                           "cim.tiles": 65536 * 256 // (side * side)})
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    plots.tile_mismatch(tile_mismatch_curve(device), device, ax=left)
    pruned = block_prune(network, device, kept) if kept < 1 else network
    result = accelsim.simulate(pruned, device, values=True, inputs=image)
    plots.energy_breakdown(result, ax=right)
    right.set_title(f"small-cnn, {side}x{side} tiles, {adc_bits}-bit ADCs, "
                    f"{kept:.0%} of blocks kept: {result.energy_pj / 1e6:.3g} µJ", fontsize=9)
    plt.show()


draw()                        # the defaults (an error here stops the notebook)
widgets.interact(draw,
                 side=widgets.SelectionSlider(options=[16, 32, 64, 128], value=16,
                                              description="tile side"),
                 adc_bits=widgets.IntSlider(min=4, max=10, value=8, description="ADC bits"),
                 kept=widgets.FloatSlider(min=0.25, max=1.0, step=0.25, value=1.0,
                                          description="blocks kept"));'''


def example_notebook(script: Path) -> nbformat.NotebookNode:
    text = script.read_text()
    match = re.match(r'"""(.*?)"""\n', text, flags=re.S)
    doc = match.group(1).strip() if match else script.stem
    code = text[match.end():] if match else text
    code = re.sub(r'\nmatplotlib\.use\("Agg"\)\n', "\n", code)
    code = re.sub(r"^import matplotlib\n", "", code.lstrip("\n"), flags=re.M)
    title, _, rest = doc.partition("\n")
    intro = (f"# {title}\n\n{rest.strip()}\n\nThe script `examples/{script.name}` prints the "
             f"same numbers; `docs/examples/{script.stem}.md` explains them.")
    blocks = [block.strip("\n") for block in re.split(r"\n{2,}(?=\S)", code) if block.strip()]
    setup = SETUP.format(name=script.name, doc=doc)
    cells = [nbformat.v4.new_markdown_cell(intro), nbformat.v4.new_code_cell(setup)]
    cells += [nbformat.v4.new_code_cell(block) for block in blocks]
    return _notebook(cells)


def explorer_notebook() -> nbformat.NotebookNode:
    return _notebook([nbformat.v4.new_markdown_cell(EXPLORER_INTRO),
                      nbformat.v4.new_code_cell(EXPLORER)])


def _notebook(cells) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"          # stable ids: regenerating changes nothing
    return notebook


def notebooks() -> dict[Path, nbformat.NotebookNode]:
    out = {script.with_suffix(".ipynb"): example_notebook(script)
           for script in sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))}
    out[EXAMPLES / "explore.ipynb"] = explorer_notebook()
    return out


def main() -> int:
    for path, notebook in notebooks().items():
        nbformat.write(notebook, path)
        print(f"wrote {path.relative_to(EXAMPLES.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
