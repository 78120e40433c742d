"""Shared fixtures: shipped devices as dicts that tests can modify."""

from __future__ import annotations

import copy
import importlib
import sys
from pathlib import Path

import pytest

from accelsim import device_from_dict, load_device
from accelsim._data import data_dir
from accelsim.spec.yamlfile import read_yaml


@pytest.fixture
def cim16_dict() -> dict:
    return copy.deepcopy(read_yaml(data_dir("devices") / "cim-16x16.yaml"))


@pytest.fixture
def cim16():
    """cim-16x16 with every 'auto' figure worked out (as simulate() sees it)."""
    from accelsim.hardware.pricing import resolve
    return resolve(load_device("cim-16x16"))


def modified(data: dict, **changes) -> object:
    """A device from ``data`` with dotted-path changes: modified(d, **{"cim.tiles": 1})."""
    data = copy.deepcopy(data)
    for path, value in changes.items():
        node = data
        *parents, leaf = path.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return device_from_dict(data, source="test")


def benchmark(name: str, why: str):
    """The module benchmarks/``name``.py of the source checkout, or the test skipped (an
    installed package has no benchmarks/; ``why``: what the test needs from it)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "benchmarks" / f"{name}.py").exists():
        pytest.skip(f"runs from a source checkout (benchmarks/ holds {why})")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"benchmarks.{name}")
