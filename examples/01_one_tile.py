"""01 - One tile: where does the energy of a single 16x16 matrix-vector product go?

One 16x16 Linear layer on cim-16x16 fills exactly one crossbar tile. We split the energy of its
single MVM into the array, DACs, ADCs, shift-and-add and buffer accesses.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _common import output_dir, pj, save

import accelsim
from accelsim.workload import Input, Linear, Workload

out = output_dir(__doc__.splitlines()[0])
layer = Workload.from_layers("one-tile", [Input("in", shape=(16, 1, 1)),
                                          Linear("fc", ("in",), 16)])
result = accelsim.simulate(layer, "cim-16x16")
row = [layer.name for layer in result.layers].index("fc")
prices = dict(zip(accelsim.energy.Action, result.prices_pj))
counts = dict(zip(accelsim.energy.Action, result.action_counts[row]))
A = accelsim.energy.Action
buffer_accesses = [*accelsim.energy.BUFFER_READS, *accelsim.energy.BUFFER_WRITES]
array = (A.ARRAY_READ, A.CELL_SIGNAL, A.COLUMN_READ)
parts = {
    "array (256 cells, 16 columns, 8 cycles)": sum(counts[a] * prices[a] for a in array),
    "DACs (row drives)": counts[A.DAC_CONVERT] * prices[A.DAC_CONVERT],
    "ADCs (16 columns x 8 cycles)": counts[A.ADC_CONVERT] * prices[A.ADC_CONVERT],
    "shift-and-add": counts[A.SHIFT_ADD] * prices[A.SHIFT_ADD],
    "buffer (1 word in, 1 word out)": sum(counts[a] * prices[a] for a in buffer_accesses),
    "bus (inputs and outputs)": counts[A.BUS_BIT] * prices[A.BUS_BIT],
}
total = sum(parts.values())
fc = result.layers[row]
print(f"one 16x16 MVM: {fc.tiles} tile, {fc.macs} MACs, {fc.compute_cycles} cycles in the tile")
for name, value in parts.items():
    print(f"  {name:39s} {pj(value):>10s}  {100 * value / total:5.1f} %")
print(f"  {'total':39s} {pj(total):>10s}  = {total / fc.macs:.3g} pJ per MAC")
tile = sum(parts[name] for name in list(parts)[:4])
area = result.area_breakdown()
print(f"in the tile: ADCs {100 * parts['ADCs (16 columns x 8 cycles)'] / tile:.0f} %, the analog "
      f"array and DACs {100 * (parts['DACs (row drives)'] + list(parts.values())[0]) / tile:.0f} %")
print(f"the chip: {result.area_mm2:,.0f} mm², {100 * area['adc'] / result.area_mm2:.0f} % of it "
      f"ADCs (4 per tile x {65536:,} tiles); its bus costs "
      f"{result.prices_pj[A.BUS_BIT]:.2f} pJ per bit")
print("answer: inside the tile the ADCs take most of the energy; on this chip of "
      "tiny tiles, moving the 256 bits over the bus costs more than the tile itself")

figure, ax = plt.subplots(figsize=(8, 3.5))
bars = ax.barh(list(parts), [v for v in parts.values()])
ax.bar_label(bars, labels=[f" {v:.3g} pJ" for v in parts.values()], fontsize=8)
ax.set_xscale("log")          # the row drives are a thousandth of the bus: keep them visible
ax.set_xlabel("energy (pJ, log scale)")
ax.set_title("Energy of one 16x16 MVM on cim-16x16")
save(figure, out / "01_one_tile.png")
