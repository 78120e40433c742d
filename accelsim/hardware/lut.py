"""Lookup tables for activation functions: a smooth activation (sigmoid, tanh, gelu...) costs
one table lookup per element here instead of the digital unit's piecewise-linear
approximation (2 multiplies and 2 adds). Optional (``lut:`` in a device); the worked example
of docs/architecture.md.
"""

from __future__ import annotations

import math

from accelsim.energy.table import Operand, buffer_read, buffer_write, register_action
from accelsim.hardware.context import PlanContext
from accelsim.hardware.figures import Figures, describe, tech_of
from accelsim.hardware.plan import LayerPlan, PartPlan, Resource, Stage, StageKind, UnitKind
from accelsim.hardware.registry import Unit, register
from accelsim.models import Estimate
from accelsim.models import sram as sram_model
from accelsim.spec.device import DeviceSpec
from accelsim.workload.layers import Activation

LOOKUP = register_action("lut", "lookup")     # one element looked up
TABLES = Resource("lut")


@register
class LookupTables(Unit):
    name = "lut"
    section = "lut"
    order = 15                      # asked before the digital unit (20), which runs the rest
    components = ("lut",)

    def estimates(self, device: DeviceSpec) -> dict[str, Estimate]:
        f = Figures(device, "lut")
        lut, tech, bits = device.lut, tech_of(device), device.activation_bits
        size = lut.entries * bits / 8
        detail = (f"{lut.entries} entries of {bits} bits per function; {describe(device)}"
                  f"{sram_model.coverage(size, bits, tech.node_nm)}")
        f.add("lookup_pj", "pJ", lambda: Estimate(sram_model.read_pj(size, bits, tech), "pJ",
                                                  "models.sram (CACTI 7 fit)", detail))
        f.add("leakage_mw", "mW", lambda: Estimate(
            len(lut.functions) * lut.lanes * sram_model.leakage_mw(size, bits, tech), "mW",
            "models.sram (CACTI 7 fit)", detail))
        return f.out

    def area(self, device: DeviceSpec) -> dict[str, Estimate]:
        lut, tech, bits = device.lut, tech_of(device), device.activation_bits
        size = lut.entries * bits / 8
        tables = len(lut.functions) * lut.lanes
        return {"lut": Estimate(tables * sram_model.area_mm2(size, bits, tech), "mm²",
                                "models.sram (CACTI 7 fit)",
                                f"{tables} tables ({len(lut.functions)} functions x "
                                f"{lut.lanes} lanes) of {lut.entries} entries; "
                                f"{describe(device)}")}

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        return {LOOKUP: device.lut.lookup_pj}

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        return {"lut": device.lut.leakage_mw}

    def claims(self, layer, device: DeviceSpec) -> bool:
        return isinstance(layer, Activation) and layer.function in device.lut.functions

    def plan(self, ctx: PlanContext, name: str) -> LayerPlan:
        """Per output vector: read the inputs, look each element up (``lanes`` a cycle),
        write the outputs."""
        layer = ctx.wl.layers[name]
        c, h, w = ctx.wl.shapes[name]
        words = int(ctx.words(c, ctx.in_bits))
        counts = ctx.counts()
        counts[LOOKUP] = c
        counts[buffer_read(Operand.INPUTS)] = words
        counts[buffer_write(Operand.OUTPUTS)] = int(ctx.words(c, ctx.out_bits))
        stages = (ctx.buffer_stage(StageKind.BUFFER_READ, words, h * w),
                  Stage(StageKind.DIGITAL, TABLES, math.ceil(c / ctx.dev.lut.lanes)),
                  ctx.buffer_stage(StageKind.BUFFER_WRITE, counts[buffer_write(Operand.OUTPUTS)],
                                   h * w))
        part = PartPlan(name, 0, UnitKind.DIGITAL, h * w, stages, counts * (h * w),
                        ctx.needs(name))
        return LayerPlan(name, layer.kind, UnitKind.DIGITAL, 0, (part,),
                         parameters=layer.params(), reason="activation looked up in a table")
