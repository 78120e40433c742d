"""The digital vector unit: pooling, elementwise operations, activations, normalization and
products of activations, at ``lanes`` operations per cycle; and the layers that move no data
(views), planned beside it.
"""

from __future__ import annotations

import numpy as np

from accelsim.energy.table import Action, Operand, buffer_read, buffer_write
from accelsim.errors import MappingError
from accelsim.hardware.context import PlanContext
from accelsim.hardware.plan import LayerPlan, PartPlan, StageKind, UnitKind
from accelsim.hardware.registry import Unit, register
from accelsim.spec.device import DeviceSpec
from accelsim.workload.ops import op


@register
class DigitalUnit(Unit):
    name = UnitKind.DIGITAL
    section = "digital"
    order = 20
    components = ("digital",)

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
        counts[buffer_read(Operand.INPUTS)] = cost.reads
        counts[buffer_read(Operand.WEIGHTS)] = cost.constant_reads
        counts[buffer_write(Operand.OUTPUTS)] = writes
        stages = (ctx.buffer_stage(StageKind.BUFFER_READ, cost.reads + cost.constant_reads),
                  ctx.digital_stage(counts),
                  ctx.buffer_stage(StageKind.BUFFER_WRITE, writes))
        vectors = h * w
        part = PartPlan(name, 0, UnitKind.DIGITAL, vectors, stages, counts * vectors,
                        ctx.needs(name))
        return LayerPlan(name, layer.kind, UnitKind.DIGITAL, ctx.wl.layer_macs(name), (part,),
                         parameters=layer.params())


def view_plan(ctx: PlanContext, name: str) -> LayerPlan:
    """A layer that moves no data (its output aliases its inputs' storage)."""
    layer = ctx.wl.layers[name]
    part = PartPlan(name, 0, UnitKind.VIEW, 1, (), np.zeros_like(ctx.counts()), ctx.needs(name))
    return LayerPlan(name, layer.kind, UnitKind.VIEW, 0, (part,), parameters=layer.params())
