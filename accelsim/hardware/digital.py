"""The digital vector unit: pooling, elementwise operations, activations, normalization and
products of activations, at ``lanes`` operations per cycle; and the layers that move no data
(views), planned beside it.
"""

from __future__ import annotations

import numpy as np

from accelsim.energy.table import Action, Operand, buffer_read, buffer_write
from accelsim.errors import MappingError
from accelsim.hardware.context import PlanContext
from accelsim.hardware.figures import (
    LEAKAGE_SOURCE,
    Figures,
    describe,
    logic_leakage_mw,
    tech_of,
)
from accelsim.hardware.plan import LayerPlan, NeedRule, PartPlan, StageKind, UnitKind
from accelsim.hardware.registry import Unit, register
from accelsim.models import Estimate, logic
from accelsim.spec.device import DeviceSpec
from accelsim.units import a_bits
from accelsim.workload.ops import op


@register
class DigitalUnit(Unit):
    name = UnitKind.DIGITAL
    section = "digital"
    order = 20
    components = ("digital",)

    def estimates(self, device: DeviceSpec) -> dict[str, Estimate]:
        f = Figures(device, "digital")
        tech, bits = tech_of(device), device.activation_bits
        detail = f"{bits}-bit operands; {describe(device)}"
        source = "models.logic (Horowitz, scaled)"
        f.add("add_pj", "pJ", lambda: Estimate(logic.add_pj(bits, tech), "pJ", source, detail))
        f.add("mul_pj", "pJ", lambda: Estimate(logic.multiply_pj(bits, tech), "pJ", source,
                                               detail))
        f.add("compare_pj", "pJ", lambda: Estimate(logic.compare_pj(bits, tech), "pJ", source,
                                                   detail))
        f.add("leakage_mw", "mW", lambda: Estimate(
            logic_leakage_mw(_lanes_um2(device), device), "mW", LEAKAGE_SOURCE, detail))
        return f.out

    def area(self, device: DeviceSpec) -> dict[str, Estimate]:
        return {"digital": Estimate(
            _lanes_um2(device) * 1e-6, "mm²", "models.logic (Nangate 45 nm cells, scaled)",
            f"{device.digital.lanes} lanes of {a_bits(device.activation_bits)}-bit multiplier, "
            f"adder and register; {describe(device)}")}

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        dig = device.digital
        return {Action.DIGITAL_ADD: dig.add_pj, Action.DIGITAL_MUL: dig.mul_pj,
                Action.DIGITAL_COMPARE: dig.compare_pj}

    def leakage_mw(self, device: DeviceSpec) -> dict[str, float]:
        return {"digital": device.digital.leakage_mw}

    def claims(self, layer, device: DeviceSpec) -> bool:
        return op(layer).digital is not None

    def plan(self, ctx: PlanContext, name: str) -> LayerPlan:
        """Per output vector: buffer reads, the operations, buffer writes."""
        layer = ctx.wl.layers[name]
        cost_of = op(layer).digital
        if cost_of is None:
            raise MappingError(f"layer '{name}': no unit of device '{ctx.dev.name}' can run a "
                               f"{layer.kind} layer")
        in_shapes = ctx.wl.input_shapes(name)
        c, h, w = ctx.wl.shapes[name]
        cost = cost_of(layer, in_shapes, (c, h, w), lambda n: int(ctx.words(n, ctx.in_bits)))
        counts = ctx.counts()
        for action, n in cost.ops.items():
            counts[action] += n
        writes = int(ctx.words(c, ctx.out_bits))
        fetched = ()
        constant_reads = cost.constant_reads
        if cost.table * ctx.in_bits > 8 * ctx.dev.global_buffer.size_bytes:
            # A constant table larger than the global buffer stays in DRAM: what each vector
            # reads of it comes from there, not from the buffer.
            fetched = (ctx.dram_stage(StageKind.DRAM_READ,
                                      constant_reads * ctx.dev.global_buffer.word_bits, counts,
                                      Operand.WEIGHTS),)
            constant_reads = 0
        counts[buffer_read(Operand.INPUTS)] = cost.reads
        counts[buffer_read(Operand.WEIGHTS)] = constant_reads
        counts[buffer_write(Operand.OUTPUTS)] = writes
        vectors = h * w
        stages = (*fetched,
                  ctx.buffer_stage(StageKind.BUFFER_READ, cost.reads + constant_reads, vectors),
                  ctx.digital_stage(counts, vectors),
                  ctx.buffer_stage(StageKind.BUFFER_WRITE, writes, vectors))
        part = PartPlan(name, 0, UnitKind.DIGITAL, vectors, stages, counts * vectors,
                        ctx.needs(name))
        return LayerPlan(name, layer.kind, UnitKind.DIGITAL, ctx.wl.layer_macs(name), (part,),
                         parameters=layer.params())


def _lanes_um2(device: DeviceSpec) -> float:
    tech, bits = tech_of(device), device.activation_bits
    return device.digital.lanes * (logic.multiplier_um2(bits, tech) + logic.adder_um2(bits, tech)
                                   + logic.register_um2(bits, tech))


def view_plan(ctx: PlanContext, name: str) -> LayerPlan:
    """A layer that moves no data (its output aliases its inputs' storage). A view whose
    vectors come from known positions of its inputs (channels concatenated or sliced, rows
    sliced, padded or concatenated, a reshape that keeps the positions) hands each on as its
    inputs come, so consumers pipeline through it; any other waits for all of its input."""
    layer = ctx.wl.layers[name]
    needs = ctx.needs(name)
    _, h, w = ctx.wl.shapes[name]
    vectors = h * w if all(need.rule != NeedRule.ALL for _, need in needs) else 1
    part = PartPlan(name, 0, UnitKind.VIEW, vectors, (), np.zeros_like(ctx.counts()), needs)
    return LayerPlan(name, layer.kind, UnitKind.VIEW, 0, (part,), parameters=layer.params())
