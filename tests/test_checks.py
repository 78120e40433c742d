"""Static checks, run with the tests so CI runs them: ruff over the whole tree, and mypy on the
public API and the engine (strict there: every function typed). Each is skipped, saying so,
when the tool is not installed (pip install '.[test]' installs both)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# The modules mypy checks strictly (see [tool.mypy] in pyproject.toml).
TYPED = ["accelsim/engine", "accelsim/simulate.py", "accelsim/results/result.py",
         "accelsim/choices.py", "accelsim/arith.py", "accelsim/errors.py", "accelsim/units.py",
         "accelsim/__init__.py"]


def _tool(name: str) -> list[str]:
    if shutil.which(name) is None and not (Path(sys.executable).parent / name).exists():
        pytest.skip(f"{name} is not installed (pip install '.[test]')")
    return [sys.executable, "-m", name]


def test_ruff_finds_nothing():
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("runs from a source checkout")
    proc = subprocess.run([*_tool("ruff"), "check", "accelsim", "tests", "benchmarks",
                           "examples"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_mypy_finds_nothing_on_the_typed_modules():
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("runs from a source checkout")
    proc = subprocess.run([*_tool("mypy"), "--follow-imports=silent", *TYPED], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
