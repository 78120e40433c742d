"""accelsim: a cycle-approximate discrete-event simulator for compute-in-memory accelerators.

    import accelsim
    dev = accelsim.load_device("cim-16x16")
    wl = accelsim.load_workload("resnet18")
    res = accelsim.simulate(wl, dev)
    res.cycles, res.energy_pj, res.tops_per_watt, res.energy_breakdown()
"""

from accelsim.errors import AccelsimError, MappingError, SpecError, WorkloadError
from accelsim.results import LayerResult, Result
from accelsim.simulate import simulate
from accelsim.spec import DeviceSpec, available_devices, device_from_dict, load_device
from accelsim.sweep import SweepResult, load_results, load_sweep, pareto_front, sweep
from accelsim.workload import Workload, available_workloads, load_workload, workload_from_dict
from accelsim.workload.onnx import load_onnx
from accelsim.workload.torch_import import from_torch

__version__ = "0.1.0"

__all__ = ["AccelsimError", "DeviceSpec", "LayerResult", "MappingError", "Result", "SpecError",
           "Workload", "WorkloadError", "available_devices", "available_workloads",
           "device_from_dict", "from_torch", "load_device", "load_onnx", "load_results",
           "load_sweep", "load_workload", "pareto_front", "simulate",
           "sweep", "SweepResult", "workload_from_dict"]
