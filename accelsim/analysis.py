"""Studies built from several simulations, for plots and examples: the tile-mismatch curve.
(Pareto fronts of sweep rows are in accelsim.results.pareto, re-exported here.)"""

from __future__ import annotations

from typing import Any

from accelsim.results.pareto import pareto_front
from accelsim.simulate import simulate
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import load_device
from accelsim.workload.graph import Workload
from accelsim.workload.layers import Input, Linear

__all__ = ["pareto_front", "tile_mismatch_curve"]


def tile_mismatch_curve(device: DeviceSpec | str, sizes=range(8, 65)) -> list[dict[str, Any]]:
    """Energy per MAC of an n x n Linear layer on ``device`` for each n in ``sizes``."""
    device = load_device(device)
    rows = []
    for n in sizes:
        wl = Workload.from_layers(f"square-{n}", [Input("in", shape=(n, 1, 1)),
                                                  Linear("fc", ("in",), n)])
        fc = next(layer for layer in simulate(wl, device).layers if layer.name == "fc")
        rows.append({"n": n, "tiles": fc.tiles, "utilization": fc.utilization,
                     "layer_pj": fc.energy_pj, "pj_per_mac": fc.energy_pj / fc.macs})
    return rows
