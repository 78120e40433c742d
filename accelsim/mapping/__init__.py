"""The mapping pipeline: assign units, plan, spill, place, route (mapping.plan), then lower
the plans to the engine's Program (mapping.lower)."""

from accelsim.choices import MODES
from accelsim.mapping.lower import Lowered, lower
from accelsim.mapping.place import Placement, place
from accelsim.mapping.plan import Mapping, map_workload, place_and_route, plan_workload

__all__ = ["MODES", "Lowered", "Mapping", "Placement", "lower", "map_workload", "place",
           "place_and_route", "plan_workload"]
