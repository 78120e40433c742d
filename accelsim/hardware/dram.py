"""Off-chip DRAM: its prices (per bit, and per row opened with a row-buffer model), and the
transfers between it and the global buffer that start and end a network: loading the input
and storing the outputs.
"""

from __future__ import annotations

from accelsim.energy.table import (
    DRAM_READS,
    DRAM_WRITES,
    Action,
    Operand,
    buffer_read,
    buffer_write,
)
from accelsim.hardware.context import PlanContext
from accelsim.hardware.plan import (
    LayerPlan,
    Need,
    NeedRule,
    PartPlan,
    Stage,
    StageKind,
    UnitKind,
)
from accelsim.hardware.registry import Unit, register
from accelsim.spec.device import DeviceSpec


@register
class Dram(Unit):
    name = "dram"
    section = "dram"
    order = 70
    components = ("dram",)

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        dram = device.dram
        return {**{a: dram.read_pj_per_bit for a in DRAM_READS},
                **{a: dram.write_pj_per_bit for a in DRAM_WRITES},
                Action.DRAM_ACTIVATE: dram.activate_pj}


def _whole(stage: Stage, vectors: int) -> Stage:
    """``stage``, planned for a whole tensor, spread over its ``vectors`` vectors (a stream)."""
    return stage.spread(stage.occupancy, vectors)


def load_plan(ctx: PlanContext, name: str) -> LayerPlan:
    """The network's input from DRAM into the buffer, as far as it fits there (the rest stays
    in DRAM, where its consumers read it). It is stored at the width of every activation in
    memory, the chip's output width, which is what mapping.memory sizes it at: the share
    loaded here and the share its consumers read from DRAM add up to the tensor.

    The load streams a vector (pixel or token) at a time, in the order its consumers take
    them, so a consumer's first windows start as soon as their rows are in, as they do when
    a layer reads its input from DRAM layer by layer."""
    c, h, w = ctx.wl.shapes[name]
    kept = 1.0 - (ctx.held.fraction[name] if ctx.held else 0.0)
    counts = ctx.counts()
    dram = ctx.dram_stage(StageKind.DRAM_READ, kept * c * h * w * ctx.out_bits, counts,
                          Operand.INPUTS)
    words = kept * h * w * int(ctx.words(c, ctx.out_bits))
    counts[buffer_write(Operand.INPUTS)] = words
    vectors = h * w
    part = PartPlan(name, 0, UnitKind.DRAM, vectors,
                    (_whole(dram, vectors),
                     _whole(ctx.buffer_stage(StageKind.BUFFER_WRITE, words), vectors)),
                    counts, ())
    return LayerPlan(name, "input", UnitKind.DRAM, 0, (part,))


def store_plan(ctx: PlanContext, sink: str, name: str) -> LayerPlan:
    """A network output from the buffer to DRAM: the part held in the buffer (what did not
    fit went to DRAM as the layer produced it). It streams as the output's vectors are
    produced (a producer whose consumers see only its end, as a systolic layer, lets it
    start then)."""
    c, h, w = ctx.wl.shapes[sink]
    kept = 1.0 - (ctx.held.fraction[sink] if ctx.held else 0.0)
    counts = ctx.counts()
    words = kept * h * w * int(ctx.words(c, ctx.out_bits))
    counts[buffer_read(Operand.OUTPUTS)] = words
    dram = ctx.dram_stage(StageKind.DRAM_WRITE, kept * c * h * w * ctx.out_bits, counts,
                          Operand.OUTPUTS)
    vectors = h * w
    part = PartPlan(name, 0, UnitKind.DRAM, vectors,
                    (_whole(ctx.buffer_stage(StageKind.BUFFER_READ, words), vectors),
                     _whole(dram, vectors)), counts,
                    ((sink, Need(NeedRule.SAME)),))
    return LayerPlan(name, "output", UnitKind.DRAM, 0, (part,))
