"""07 - Carbon: when does a model's inference energy exceed its training energy?

Carbon = energy per inference x inferences x grid carbon intensity. Every default below is an
assumption for you to replace, not a measurement:
  --training-kwh 1000         a ResNet-50-class training run (a few GPUs for a few days)
  --grid-g-per-kwh 400        a mixed grid
  --inferences-per-day 1e8    a popular service
  --server-j-per-inference 0.5  a server GPU at ~1000 images/s and ~500 W
The simulated chip is compared with the server figure: efficiency decides how soon inference
overtakes training.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import save

import accelsim

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
parser.add_argument("--device", default="cim-16x16")
parser.add_argument("--workload", default="resnet50")
parser.add_argument("--training-kwh", type=float, default=1000.0)
parser.add_argument("--grid-g-per-kwh", type=float, default=400.0)
parser.add_argument("--inferences-per-day", type=float, default=1e8)
parser.add_argument("--server-j-per-inference", type=float, default=0.5)
args = parser.parse_args()
args.out.mkdir(parents=True, exist_ok=True)

chip_j = accelsim.simulate(args.workload, args.device).energy_pj * 1e-12
training_j = args.training_kwh * 3.6e6
training_kg = args.training_kwh * args.grid_g_per_kwh / 1e3
print(f"training: {args.training_kwh:g} kWh = {training_kg:.4g} kg CO2 at "
      f"{args.grid_g_per_kwh:g} g/kWh")
days = {}
for label, joules in ((f"{args.device} (simulated chip)", chip_j),
                      ("server GPU (assumed)", args.server_j_per_inference)):
    per_day_kg = joules * args.inferences_per_day / 3.6e6 * args.grid_g_per_kwh / 1e3
    days[label] = training_j / (joules * args.inferences_per_day)
    print(f"{label:30s}: {joules * 1e3:.4g} mJ per inference, {per_day_kg:.4g} kg CO2 a day; "
          f"overtakes training after {days[label]:.3g} days")
print(f"answer: at {args.inferences_per_day:.3g} inferences a day, inference on the server "
      f"overtakes training within {days['server GPU (assumed)']:.0f} days; a chip "
      f"{args.server_j_per_inference / chip_j:.0f}x more efficient pushes that back "
      f"{days[next(iter(days))] / days['server GPU (assumed)']:.0f}-fold")

span = 2 * days["server GPU (assumed)"]
t = np.linspace(0, span, 100)
figure, ax = plt.subplots(figsize=(6.5, 3.8))
for label, joules in ((f"{args.device} (simulated)", chip_j),
                      ("server GPU (assumed)", args.server_j_per_inference)):
    ax.plot(t, t * joules * args.inferences_per_day / 3.6e6 * args.grid_g_per_kwh / 1e3,
            label=f"inference, {label}")
ax.axhline(training_kg, color="crimson", ls="--", label="training")
ax.set_xlabel("days of deployment")
ax.set_ylabel("kg CO2 (cumulative)")
ax.set_title(f"{args.workload}: inference vs training carbon")
ax.legend(fontsize=8)
save(figure, args.out / "07_carbon.png")
