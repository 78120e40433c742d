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

__all__ = ["mismatch_sizes", "pareto_front", "tile_mismatch_curve"]


# The crossbar tiles' own components (what tile utilization changes), apart from data
# movement through buffers and the interconnect.
TILE_COMPONENTS = ("dac", "array", "adc", "shift_add", "accumulator")


def mismatch_sizes(device: DeviceSpec | str, points: int = 64) -> range:
    """Layer sizes that show a device's tile boundaries: from half a tile to four tiles, at
    most about ``points`` of them (every size for small tiles)."""
    device = load_device(device)
    side = device.cim.rows if device.cim is not None else 16
    step = max(1, (4 * side) // points)
    return range(max(2, side // 2), 4 * side + 1, step)


def tile_mismatch_curve(device: DeviceSpec | str, sizes=None) -> list[dict[str, Any]]:
    """Energy per MAC of an n x n Linear layer on ``device`` for each n in ``sizes`` (default:
    mismatch_sizes, from the tile size): the layer's (``pj_per_mac``) and its tiles' alone
    (``tile_pj_per_mac``: row drives, cells, columns, conversions, shift-and-add and partial
    sums)."""
    from accelsim.energy.table import action_label
    device = load_device(device)
    if sizes is None:
        sizes = mismatch_sizes(device)
    rows = []
    for n in sizes:
        wl = Workload.from_layers(f"square-{n}", [Input("in", shape=(n, 1, 1)),
                                                  Linear("fc", ("in",), n)])
        result = simulate(wl, device)
        index = [layer.name for layer in result.layers].index("fc")
        fc = result.layers[index]
        tile_pj = sum(count * result.prices_pj[action]
                      for action, count in enumerate(result.action_counts[index])
                      if action_label(action)[0] in TILE_COMPONENTS)
        rows.append({"n": n, "tiles": fc.tiles, "utilization": fc.utilization,
                     "layer_pj": fc.energy_pj, "pj_per_mac": fc.energy_pj / fc.macs,
                     "tile_pj": tile_pj, "tile_pj_per_mac": tile_pj / fc.macs})
    return rows
