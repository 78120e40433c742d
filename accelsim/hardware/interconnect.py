"""The on-chip interconnect: a shared bus, or a 2-D mesh of routers with XY routing. Its price
per bit (per bit and hop on a mesh), and the mesh's geometry: which router holds a tile, the
links of a route.
"""

from __future__ import annotations

import math

from accelsim.energy.table import Action
from accelsim.hardware.plan import Resource, ResourceKind
from accelsim.hardware.registry import Unit, register
from accelsim.spec.device import DeviceSpec

Router = tuple[int, int]


@register
class Interconnect(Unit):
    name = "interconnect"
    section = "interconnect"
    order = 60
    components = ("interconnect",)

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
