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


# The compute unit's own components (what its utilization changes), apart from data movement
# through buffers and the interconnect: crossbar tiles, or a systolic array's PEs (MACs,
# register files, PE-to-PE hops).
TILE_COMPONENTS = ("dac", "array", "adc", "shift_add", "accumulator")
UNIT_COMPONENTS = {"cim": TILE_COMPONENTS, "systolic": ("systolic",)}


def mismatch_sizes(device: DeviceSpec | str, points: int = 64) -> range:
    """Layer sizes that show a device's tile (or PE array) boundaries: from half a tile to
    four tiles, at most about ``points`` of them (every size for small tiles)."""
    device = load_device(device)
    side = (device.cim.rows if device.cim is not None else
            device.systolic.rows if device.systolic is not None else 16)
    step = max(1, (4 * side) // points)
    return range(max(2, side // 2), 4 * side + 1, step)


def tile_mismatch_curve(device: DeviceSpec | str, sizes=None) -> list[dict[str, Any]]:
    """Energy per MAC of an n x n Linear layer on ``device`` for each n in ``sizes`` (default:
    mismatch_sizes, from the tile size): the layer's (``pj_per_mac``) and its compute unit's
    alone (``tile_pj_per_mac``; ``unit`` says which: crossbar tiles' row drives, cells,
    columns, conversions, shift-and-add and partial sums, or a systolic array's MACs,
    register files and PE hops)."""
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
        own = UNIT_COMPONENTS.get(fc.unit, ())
        tile_pj = sum(count * result.prices_pj[action]
                      for action, count in enumerate(result.action_counts[index])
                      if action_label(action)[0] in own)
        rows.append({"n": n, "unit": str(fc.unit), "tiles": fc.tiles,
                     "utilization": fc.utilization,
                     "layer_pj": fc.energy_pj, "pj_per_mac": fc.energy_pj / fc.macs,
                     "tile_pj": tile_pj, "tile_pj_per_mac": tile_pj / fc.macs})
    return rows
