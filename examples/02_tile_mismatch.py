"""02 - Tile mismatch: what does a 20x20 layer cost on 16x16 tiles, and what would 16 or 32 save?

A 20x20 weight block needs 4 tiles at 39 % utilization and two buffer words per input vector
where 16 inputs need one. The tiles' energy per useful MAC against layer size is a sawtooth with
minima at multiples of the tile size; retraining the layer to a tile-friendly width recovers the
waste. Moving the data (buffers, bus) is counted apart: on this chip it costs more than the
tiles, and it does not care about tile boundaries.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _common import output_dir, save

from accelsim.analysis import tile_mismatch_curve
from accelsim.results import plots

out = output_dir(__doc__.splitlines()[0])
curve = {row["n"]: row for row in tile_mismatch_curve("cim-16x16", range(8, 65))}
for n in (16, 20, 32):
    row = curve[n]
    print(f"{n}x{n}: {row['tiles']} tiles, utilization {100 * row['utilization']:.2f} %, "
          f"tiles {row['tile_pj_per_mac']:.3f} pJ per MAC, with data movement "
          f"{row['pj_per_mac']:.3f}")
ratio = curve[20]["tile_pj"] / curve[16]["tile_pj"]
print(f"a 20x20 layer does {400 / 256:.2f}x the MACs of a 16x16 layer and its tiles spend "
      f"{ratio:.2f}x the energy")
minima = [n for n in range(9, 64)
          if curve[n]["tile_pj_per_mac"] < min(curve[n - 1]["tile_pj_per_mac"],
                                               curve[n + 1]["tile_pj_per_mac"])]
print(f"local minima of the tiles' energy per MAC at n = {minima} (and 64, the end of the range)")
for n in (16, 32):
    saving = 1 - curve[n]["tile_pj_per_mac"] / curve[20]["tile_pj_per_mac"]
    overall = 1 - curve[n]["pj_per_mac"] / curve[20]["pj_per_mac"]
    print(f"retraining the 20-wide layer to {n} wide: {100 * saving:.1f} % less tile energy per "
          f"MAC ({100 * overall:.1f} % with data movement)")

figure, ax = plt.subplots(figsize=(7, 4))
plots.tile_mismatch(list(curve.values()), "cim-16x16", ax=ax)
ax.annotate("20x20: 4 tiles, 39 %", (20, curve[20]["tile_pj_per_mac"]), xytext=(36, 1.7),
            arrowprops={"arrowstyle": "->"})
save(figure, out / "02_tile_mismatch.png")
