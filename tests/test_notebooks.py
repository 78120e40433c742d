"""The notebooks in examples/ are the example scripts as notebooks (written by
tools/make_notebooks.py), plus the interactive explorer; they run from top to bottom."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
nbformat = pytest.importorskip("nbformat", reason="the notebooks need nbformat (the test extra)")


def generated():
    sys.path.insert(0, str(ROOT / "tools"))
    import make_notebooks
    return make_notebooks.notebooks()


def test_notebooks_are_the_scripts():
    """Regenerate with `python tools/make_notebooks.py` after changing an example."""
    expected = generated()
    found = sorted((ROOT / "examples").glob("*.ipynb"))
    assert found == sorted(expected)
    for path, notebook in expected.items():
        saved = nbformat.read(path, as_version=4)
        assert [c.source for c in saved.cells] == [c.source for c in notebook.cells], path.name
        assert all(not c.get("outputs") for c in saved.cells), f"{path.name} has outputs"


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in sorted((ROOT / "examples").glob("*.ipynb"))])
def test_notebook_runs(name):
    client = pytest.importorskip("nbclient", reason="running notebooks needs nbclient and "
                                 "ipykernel (the test extra)")
    pytest.importorskip("ipykernel", reason="running notebooks needs ipykernel")
    if name == "04_precision.ipynb":
        pytest.importorskip("sklearn", reason="example 04 needs scikit-learn")
    path = ROOT / "examples" / name
    notebook = nbformat.read(path, as_version=4)
    # In full CI runs (nbclient 0.11, jupyter_client 8, ipykernel 7) the explore notebook
    # twice stalled for the whole 600 s timeout, kernel and client both idle, and then
    # passed. The notebooks' slowest cell takes about 15 s with an empty numba cache, so a
    # cell gets 120 s, and the wait for the kernel's info before the first cell 30 s.
    client.NotebookClient(notebook, timeout=30, timeout_func=lambda cell: 120,
                          kernel_name="python3",
                          resources={"metadata": {"path": str(path.parent)}}).execute()
    images = [out for cell in notebook.cells for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})]
    assert images, "the notebook draws its plot"
