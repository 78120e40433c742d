"""Routing on a 2-D mesh: XY routes between the memory router and each crossbar part's router.

On a mesh device every transfer between the global buffer (at the memory router) and a
crossbar part travels hop by hop: each link on its XY route is its own resource, so transfers
that share a link queue for it while transfers on disjoint links overlap. A part's tiles are
taken to sit at the router holding its middle tile (tiles fill the routers in row-major
order, ``ceil(tiles / routers)`` per router); partial sums are reduced beside the tiles as on
the bus. Energy counts bit-hops: bits moved times the links they cross.
"""

from __future__ import annotations

from dataclasses import replace

from accelsim.energy.table import Action
from accelsim.hardware.interconnect import link_resource, router_of_tile, xy_route
from accelsim.hardware.plan import BUS, LayerPlan, PartPlan, Programming, Stage, StageKind, UnitKind
from accelsim.mapping.place import Placement
from accelsim.spec.device import DeviceSpec


def part_routers(plans: list[LayerPlan], device: DeviceSpec, placement: Placement):
    """The router of each crossbar part (the one holding its middle tile)."""
    routers = {}
    for plan in plans:
        for part in plan.parts:
            if part.unit == UnitKind.CIM:
                first = placement.first_tile[(part.layer, part.part)]
                routers[(part.layer, part.part)] = router_of_tile(
                    first + (part.tiles - 1) // 2, device)
    return routers


def with_mesh(plans: list[LayerPlan], device: DeviceSpec,
              placement: Placement) -> list[LayerPlan]:
    """Plans whose crossbar transfers cross the mesh link by link (a no-op on a bus)."""
    if device.interconnect.kind != "mesh":
        return plans
    routers = part_routers(plans, device, placement)
    memory = device.interconnect.memory_router
    result = []
    for plan in plans:
        if plan.unit != UnitKind.CIM:
            result.append(plan)
            continue
        parts = tuple(_routed_part(part, xy_route(memory, routers[(part.layer, part.part)]),
                                   xy_route(routers[(part.layer, part.part)], memory), device)
                      for part in plan.parts)
        result.append(replace(plan, parts=parts))
    return result


def _routed_stages(stages: tuple[Stage, ...], inbound, outbound,
                   device: DeviceSpec) -> tuple[Stage, ...]:
    hop = device.interconnect.latency_cycles
    routed: list[Stage] = []
    for stage in stages:
        if stage.resource != BUS:
            routed.append(stage)
            continue
        into = stage.kind == StageKind.BUS_IN
        links = inbound if into else outbound
        extra = stage.latency - hop          # an adder tree's delay rides on the last hop
        direction = StageKind.NOC_IN if into else StageKind.NOC_OUT
        hops = [Stage(direction, link_resource(link), stage.occupancy, hop, stage.total)
                for link in links]
        if hops:
            hops[-1] = replace(hops[-1], latency=hop + extra)
            routed.extend(hops)
        elif extra and routed:
            routed[-1] = replace(routed[-1], latency=routed[-1].latency + extra)
    return tuple(routed)


def _routed_part(part: PartPlan, inbound, outbound, device: DeviceSpec) -> PartPlan:
    hops = len(inbound)                        # XY there and back cross as many links
    counts = part.counts.copy()
    counts[Action.BUS_BIT] *= hops
    programming = part.programming
    if programming is not None:
        written = programming.counts.copy()
        written[Action.BUS_BIT] *= hops
        programming = Programming(_routed_stages(programming.stages, inbound, outbound, device),
                                  written)
    return replace(part, stages=_routed_stages(part.stages, inbound, outbound, device),
                   counts=counts, programming=programming)
