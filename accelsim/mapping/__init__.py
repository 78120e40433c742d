"""Mapping: crossbar tiling, per-layer plans, placement in layer groups, lowering to a Program."""

from accelsim.mapping.crossbar import CrossbarTiling, tile_layer
from accelsim.mapping.lower import MODES, Lowered, Placement, lower, place
from accelsim.mapping.plan import LayerPlan, PartPlan, Stage, plan_workload

__all__ = ["CrossbarTiling", "LayerPlan", "Lowered", "MODES", "PartPlan", "Placement", "Stage",
           "lower", "place", "plan_workload", "tile_layer"]
