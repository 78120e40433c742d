"""04 - Precision: how many ADC bits does a trained network need, and what do they cost?

A 64-32-10 MLP is trained (in numpy, in a second) on scikit-learn's 8x8 digits and run in
value mode on cim-16x16 with 2 to 8 ADC bits: with the ADC range fixed at the largest column
sum the tile could produce, at a quarter of it, and calibrated on each image's own sums (the
default). ADC energy per conversion halves with every bit removed (the Walden
term of the ADC model, which dominates at these resolutions).
"""

import copy
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import output_dir, pj, save

try:
    from sklearn.datasets import load_digits
except ModuleNotFoundError:
    raise SystemExit("example 04 trains on scikit-learn's digits: pip install scikit-learn "
                     "(or, from the repository, pip install '.[examples]')") from None

import accelsim
from accelsim._data import data_dir
from accelsim.spec.yamlfile import read_yaml
from accelsim.values import reference_forward
from accelsim.workload.train import train_mlp

out = output_dir(__doc__.splitlines()[0])
digits = load_digits()
x, y = digits.data / 16.0, digits.target
order = np.random.default_rng(0).permutation(len(x))
network = train_mlp(x[order[:1437]], y[order[:1437]], hidden=(32,), epochs=60, seed=0)
test_x, test_y = x[order[1437:]].reshape(-1, 64, 1, 1), y[order[1437:]]


def accuracy(scores):
    return 100 * float((scores.reshape(len(test_y), -1).argmax(1) == test_y).mean())


float_accuracy = accuracy(reference_forward(network, test_x))
print(f"float accuracy: {float_accuracy:.1f} %")
base = read_yaml(data_dir("devices") / "cim-16x16.yaml")
RANGES = {"fixed range x1": {"adc_range": "array"},
          "fixed range x0.25": {"adc_range": "array", "adc_full_scale": 0.25},
          "calibrated per image": {"adc_range": "calibrated"}}
curves = {}
for label, options in RANGES.items():
    for bits in range(2, 9):
        data = copy.deepcopy(base)
        data["cim"]["adc_bits"] = bits
        with warnings.catch_warnings():     # printed below: which layers lost their signal
            warnings.simplefilter("ignore", accelsim.AccelsimWarning)
            result = accelsim.simulate(network, accelsim.device_from_dict(data), values=True,
                                       inputs=test_x, value_options=options)
        adc = result.energy_breakdown()[("adc", "convert")] / len(test_y)
        curves.setdefault(label, []).append((bits, accuracy(result.output), adc,
                                             result.zeroed_layers))
for label, points in curves.items():
    print(f"ADC {label}:")
    for bits, acc, adc, zeroed in points:
        lost = f"  (every output of {', '.join(zeroed)} rounded to zero)" if zeroed else ""
        print(f"  {bits} bits: accuracy {acc:5.1f} %, ADC energy {pj(adc):>10s} per image{lost}")
fewest = {label: min(bits for bits, acc, _, _ in points if acc >= float_accuracy - 1)
          for label, points in curves.items()}
print("answer: the fewest bits within a point of float accuracy: "
      + ", ".join(f"{bits} with the {label}" for label, bits in fewest.items())
      + " (calibrated on each image, here one input vector per layer, is an ADC that ranges "
        "on every input: the optimistic bound); every bit removed halves the ADC energy")

figure, ax = plt.subplots(figsize=(6.5, 4))
for label, points in curves.items():
    ax.plot([p[2] / 1e3 for p in points], [p[1] for p in points], "o-", label=f"ADC {label}")
    for bits, acc, adc, _ in points:
        ax.annotate(str(bits), (adc / 1e3, acc), fontsize=7)
ax.set_xscale("log")
ax.set_xlabel("ADC energy per image (nJ, log)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("Digits MLP: accuracy against ADC energy (labels: ADC bits)")
ax.legend()
save(figure, out / "04_precision.png")
