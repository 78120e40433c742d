"""accelsim: a cycle-approximate discrete-event simulator for compute-in-memory accelerators.

    import accelsim
    dev = accelsim.load_device("cim-16x16")
    wl = accelsim.load_workload("resnet18")
    res = accelsim.simulate(wl, dev)
    res.cycles, res.energy_pj, res.tops_per_watt, res.energy_breakdown()

The names below are imported when first used (PEP 562), so ``import accelsim`` and the command
line's ``--help`` do not pay for numba, networkx and pydantic until a simulation needs them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY = {
    "AccelsimError": "accelsim.errors", "AccelsimWarning": "accelsim.errors",
    "MappingError": "accelsim.errors",
    "SpecError": "accelsim.errors", "WorkloadError": "accelsim.errors",
    "LayerResult": "accelsim.results", "Result": "accelsim.results",
    "simulate": "accelsim.simulate",
    "DeviceSpec": "accelsim.spec", "available_devices": "accelsim.spec",
    "device_from_dict": "accelsim.spec", "load_device": "accelsim.spec",
    "SweepResult": "accelsim.sweep", "load_results": "accelsim.sweep",
    "load_sweep": "accelsim.sweep", "pareto_front": "accelsim.sweep", "sweep": "accelsim.sweep",
    "Workload": "accelsim.workload", "available_workloads": "accelsim.workload",
    "load_workload": "accelsim.workload", "workload_from_dict": "accelsim.workload",
    "load_onnx": "accelsim.workload.onnx", "from_torch": "accelsim.workload.torch_import",
}

__all__ = ["AccelsimError", "AccelsimWarning", "DeviceSpec", "LayerResult", "MappingError",
           "Result", "SpecError", "SweepResult", "Workload", "WorkloadError", "available_devices",
           "available_workloads", "device_from_dict", "from_torch", "load_device", "load_onnx",
           "load_results", "load_sweep", "load_workload", "pareto_front", "simulate", "sweep",
           "workload_from_dict"]

if TYPE_CHECKING:       # what type checkers and editors see
    from accelsim.errors import (
        AccelsimError,
        AccelsimWarning,
        MappingError,
        SpecError,
        WorkloadError,
    )
    from accelsim.results import LayerResult, Result
    from accelsim.simulate import simulate
    from accelsim.spec import DeviceSpec, available_devices, device_from_dict, load_device
    from accelsim.sweep import SweepResult, load_results, load_sweep, pareto_front, sweep
    from accelsim.workload import (
        Workload,
        available_workloads,
        load_workload,
        workload_from_dict,
    )
    from accelsim.workload.onnx import load_onnx
    from accelsim.workload.torch_import import from_torch


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    else:
        try:       # a subpackage or module: accelsim.energy, accelsim.analysis, ...
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'accelsim' has no attribute {name!r}") from None
    globals()[name] = value       # (a submodule import may have set the module; keep the name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


# Two functions share their name with a module: accelsim.simulate (the module
# accelsim/simulate.py) and accelsim.sweep (the package). Importing such a module binds the
# module to the package's attribute; the package keeps the function instead, as when every
# name was imported eagerly (the modules stay in sys.modules).
_SHADOWED = {"simulate", "sweep"}


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
