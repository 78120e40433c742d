"""Which unit runs each weighted layer, and why.

Policies: "rules" (default: depthwise convs go to the digital array, which wastes no rows on
them, everything else to the crossbars), "energy", "latency" and "edp" (each layer planned on
both units and the better estimate taken), or "cim" / "systolic" to force one unit. ``assign``
overrides single layers: {"features.1.depthwise": "cim"}.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.energy.table import energy_per_action
from accelsim.errors import AccelsimError, MappingError
from accelsim.units import format_pj

POLICIES = ("rules", "energy", "latency", "edp", "cim", "systolic")
UNITS = ("cim", "systolic")


def assign_units(planner, *, policy: str, assign: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{layer: (unit, reason)} for every weighted layer of the planner's workload."""
    dev, wl = planner.dev, planner.wl
    if policy not in POLICIES:
        raise AccelsimError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    units = [unit for unit in UNITS if getattr(dev, unit) is not None]
    for name, unit in assign.items():
        if name not in wl.layers or not wl.layers[name].weighted:
            raise MappingError(f"assign: '{name}' is not a conv or linear layer of {wl.name}")
        if unit not in units:
            raise MappingError(f"assign: layer '{name}' to '{unit}', but device '{dev.name}' "
                               f"has {' and '.join(units)}")
    if policy in UNITS and policy not in units:
        raise MappingError(f"policy '{policy}': device '{dev.name}' has no {policy} unit")
    prices = energy_per_action(dev)
    chosen: dict[str, tuple[str, str]] = {}
    for name in wl.order:
        layer = wl.layers[name]
        if not layer.weighted:
            continue
        if name in assign:
            chosen[name] = (assign[name], "assigned by the user")
        elif len(units) == 1:
            chosen[name] = (units[0], "the device's only unit")
        elif policy in UNITS:
            chosen[name] = (policy, f"policy '{policy}' puts every weighted layer there")
        elif policy == "rules":
            chosen[name] = (("systolic", "rule: depthwise conv goes digital")
                            if getattr(layer, "depthwise", False)
                            else ("cim", "rule: weights stay in the crossbars"))
        else:
            estimates = {unit: estimate(planner.weighted(name, unit), prices) for unit in units}
            score = {"energy": lambda e: e[0], "latency": lambda e: e[1],
                     "edp": lambda e: e[0] * e[1]}[policy]
            best = min(units, key=lambda unit: (score(estimates[unit]), unit))
            detail = " vs ".join(f"{unit} {format_pj(e[0])}, {e[1]:,} cycles"
                                 for unit, e in estimates.items())
            chosen[name] = (best, f"{policy}: {detail}")
    return chosen


def estimate(plan, prices: np.ndarray) -> tuple[float, int]:
    """(energy pJ, cycles) per image of a layer run alone.

    Energy counts weight loads (systolic) and reprogramming when a layer is larger than the
    chip; cycles are those of the layer's busiest resource. A part whose pass covers the whole
    batch (a systolic GEMM with the batch merged into M) counts its share per image.
    """
    energy, busy = 0.0, {}
    for part in plan.parts:
        energy += float(np.dot(part.counts, prices)) / part.images
        if part.weight_load is not None:
            energy += float(np.dot(part.weight_load.counts, prices)) / part.images
        if part.programming is not None and len(plan.parts) > 1:
            energy += float(np.dot(part.programming.counts, prices))
        for index, stage in enumerate(part.stages):
            cycles = (int(part.folds[:, index].sum()) if part.folds is not None
                      else stage.occupancy * part.vectors)
            busy[stage.resource] = busy.get(stage.resource, 0) + cycles / part.images
    return energy, math.ceil(max(busy.values(), default=0))
