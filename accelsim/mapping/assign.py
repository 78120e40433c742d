"""Which unit runs each weighted layer, and why (the first stage of the mapping pipeline).

Policies: "rules" (default: depthwise convs go to a digital array, which wastes no rows on
them, everything else to the crossbars), "energy", "latency" and "edp" (each layer planned on
every unit that can run it and the best estimate taken), or a unit's name ("cim",
"systolic") to force that unit. ``assign`` overrides single layers:
{"features.1.depthwise": "cim"}.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.choices import POLICIES
from accelsim.errors import AccelsimError, MappingError
from accelsim.hardware.context import PlanContext
from accelsim.hardware.plan import LayerPlan, UnitKind
from accelsim.hardware.pricing import energy_per_action
from accelsim.hardware.registry import weighted_units
from accelsim.units import format_pj


class Assigner:
    """Plans weighted layers on candidate units (once each) for the policies to compare."""

    def __init__(self, ctx: PlanContext):
        self.ctx = ctx
        self.units = {u.name: u for u in weighted_units(ctx.dev)}
        self._plans: dict[tuple[str, str], LayerPlan] = {}

    def plan(self, name: str, unit: str) -> LayerPlan:
        key = (name, unit)
        if key not in self._plans:
            self._plans[key] = self.units[unit].plan(self.ctx, name)
        return self._plans[key]


def assign_units(ctx: PlanContext, *, policy: str,
                 assign: dict[str, str]) -> dict[str, tuple[str, str]]:
    """{layer: (unit, reason)} for every weighted layer of the workload."""
    dev, wl = ctx.dev, ctx.wl
    if policy not in POLICIES:
        raise AccelsimError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    assigner = Assigner(ctx)
    names = list(assigner.units)
    for name, unit in assign.items():
        if name not in wl.layers or not wl.layers[name].weighted:
            raise MappingError(f"assign: '{name}' is not a conv or linear layer of {wl.name}")
        if unit not in names:
            raise MappingError(f"assign: layer '{name}' to '{unit}', but device '{dev.name}' "
                               f"has {' and '.join(names)}")
    if policy not in ("rules", "energy", "latency", "edp") and policy not in names:
        raise MappingError(f"policy '{policy}': device '{dev.name}' has no {policy} unit")
    prices = energy_per_action(dev)
    chosen: dict[str, tuple[str, str]] = {}
    for name in wl.order:
        layer = wl.layers[name]
        if not layer.weighted:
            continue
        if name in assign:
            chosen[name] = (assign[name], "assigned by the user")
        elif len(names) == 1:
            chosen[name] = (names[0], "the device's only unit")
        elif policy in names:
            chosen[name] = (policy, f"policy '{policy}' puts every weighted layer there")
        elif policy == "rules":
            digital = [n for n in names if n != UnitKind.CIM]
            if getattr(layer, "depthwise", False) and digital:
                chosen[name] = (digital[0], "rule: depthwise conv goes digital")
            elif UnitKind.CIM in names:
                chosen[name] = (UnitKind.CIM, "rule: weights stay in the crossbars")
            else:
                chosen[name] = (names[0], "rule: the first unit that runs it")
        else:
            estimates = {unit: estimate(assigner.plan(name, unit), prices) for unit in names}
            score = {"energy": lambda e: e[0], "latency": lambda e: e[1],
                     "edp": lambda e: e[0] * e[1]}[policy]
            best = min(names, key=lambda unit: (score(estimates[unit]), unit))
            detail = " vs ".join(f"{unit} {format_pj(e[0])}, {e[1]:,} cycles"
                                 for unit, e in estimates.items())
            chosen[name] = (best, f"{policy}: {detail}")
    return chosen


def estimate(plan: LayerPlan, prices: np.ndarray) -> tuple[float, int]:
    """(energy pJ, cycles) per image of a layer run alone.

    Energy counts reprogramming when a layer is larger than the chip; cycles are those of the
    layer's busiest resource. A part whose pass covers the whole
    batch (a systolic GEMM with the batch merged into M) counts its share per image.
    """
    energy, busy = 0.0, {}
    for part in plan.parts:
        energy += float(np.dot(part.counts, prices)) / part.images
        if part.programming is not None and len(plan.parts) > 1:
            energy += float(np.dot(part.programming.counts, prices))
        for index, stage in enumerate(part.stages):
            cycles = (int(part.folds[:, index].sum()) if part.folds is not None
                      else stage.cycles(part.vectors))
            busy[stage.resource] = busy.get(stage.resource, 0) + cycles / part.images
    return energy, math.ceil(max(busy.values(), default=0))
