"""The on-chip interconnect: a shared bus, or a 2-D mesh of routers with XY routing. Its price
per bit (per bit and hop on a mesh), and the mesh's geometry: which router holds a tile, the
links of a route.
"""

from __future__ import annotations

import math

from accelsim.energy.table import Action
from accelsim.hardware.figures import Figures, describe, tech_of
from accelsim.hardware.plan import Resource, ResourceKind
from accelsim.hardware.registry import Unit, register, units
from accelsim.models import Estimate, logic
from accelsim.spec.device import DeviceSpec

Router = tuple[int, int]
WIRE_SOURCE = "models.technology (0.2 fF/µm wire, floorplan)"
# Assumed router: 5 ports (4 neighbours and the local one), 4-flit input buffers, a 5 x 5
# crossbar; a bit written to and read from a buffer costs about 2 register bits.
PORTS = 5
FLIT_BUFFERS = 4
ROUTER_REGISTER_BITS = 2


@register
class Interconnect(Unit):
    name = "interconnect"
    section = "interconnect"
    order = 60
    components = ("interconnect",)

    def estimates(self, device: DeviceSpec) -> dict[str, Estimate]:
        f = Figures(device, "interconnect")
        noc, tech = device.interconnect, tech_of(device)
        side_mm = math.sqrt(max(self.floorplan_mm2(device), 1e-12))
        where = describe(device)

        def model() -> Estimate:
            if noc.kind == "bus":
                target = "a tile" if device.cim is not None else "the array"
                return Estimate(tech.wire_pj_per_bit(side_mm), "pJ/b", WIRE_SOURCE,
                                f"H-tree from the buffer to {target}: {side_mm:.3g} mm (the side "
                                f"of {side_mm ** 2:,.4g} mm² of units); {where}")
            link_mm = side_mm / max(noc.cols or 1, noc.rows or 1)
            router = ROUTER_REGISTER_BITS * logic.register_pj(1, tech)
            return Estimate(tech.wire_pj_per_bit(link_mm) + router, "pJ/b", WIRE_SOURCE,
                            f"per hop: a {link_mm:.3g} mm link ({noc.cols} x {noc.rows} "
                            f"routers over {side_mm:.3g} mm) and a router's buffer write and "
                            f"read; {where}")

        f.add("pj_per_bit", "pJ/b", model)
        return f.out

    def floorplan_mm2(self, device: DeviceSpec) -> float:
        """Area of the units the interconnect spans (all on-chip units before it)."""
        return sum(e.value for u in units(device) if u.order < self.order
                   for e in u.area(device).values())

    def area(self, device: DeviceSpec) -> dict[str, Estimate]:
        noc, tech = device.interconnect, tech_of(device)
        if noc.kind == "bus":
            return {"interconnect": Estimate(0.0, "mm²", WIRE_SOURCE,
                                             "bus wires routed over the units (assumed)")}
        per_router = (PORTS * FLIT_BUFFERS * logic.register_um2(noc.width_bits, tech)
                      + logic.gates_um2(PORTS * PORTS * noc.width_bits, tech))
        return {"interconnect": Estimate(
            noc.routers * per_router * 1e-6, "mm²", "models.logic (assumed router)",
            f"{noc.routers} routers: {PORTS} ports with {FLIT_BUFFERS}-flit buffers and a "
            f"{PORTS} x {PORTS} crossbar of {noc.width_bits}-bit flits; {describe(device)}")}

    def prices(self, device: DeviceSpec) -> dict[int, float]:
        return {Action.BUS_BIT: device.interconnect.pj_per_bit}


def xy_route(source: Router, target: Router) -> list[tuple[Router, Router]]:
    """The links from ``source`` to ``target``: along x first, then along y."""
    (x, y), (tx, ty) = source, target
    links = []
    while x != tx:
        step = 1 if tx > x else -1
        links.append(((x, y), (x + step, y)))
        x += step
    while y != ty:
        step = 1 if ty > y else -1
        links.append(((x, y), (x, y + step)))
        y += step
    return links


def link_resource(link: tuple[Router, Router]) -> Resource:
    (x, y), (u, v) = link
    return Resource(ResourceKind.LINK, f"{x},{y}->{u},{v}")


def router_of_tile(tile: int, device: DeviceSpec) -> Router:
    """Tiles fill the routers in row-major order, ceil(tiles / routers) per router."""
    noc = device.interconnect
    per_router = math.ceil(device.cim.tiles / noc.routers)
    index = tile // per_router
    return (index % noc.cols, index // noc.cols)
