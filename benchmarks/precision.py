"""Accuracy and energy of a digits classifier against ADC bits (2..8) and pruning density.

    python benchmarks/precision.py [--out benchmarks/out]

A 64-32-10 MLP is trained on scikit-learn's 8x8 digits (1437 training images) and evaluated
on the other 360 in value mode on cim-16x16 with the ADC resolution varied (the array's fixed range,
and a quarter of it), then with weights pruned (unstructured and tile-aligned blocks) at an
8-bit ADC. Writes precision.csv and precision.png.
"""

from __future__ import annotations

import numpy as np
from _common import output_dir, shipped, write_csv

import accelsim
from accelsim.values import reference_forward
from accelsim.workload.pruning import block_prune, magnitude_prune
from accelsim.workload.train import train_mlp


def data():
    from sklearn.datasets import load_digits
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(x))
    return x[order[:1437]], y[order[:1437]], x[order[1437:]].reshape(-1, 64, 1, 1), y[order[1437:]]


def run(network, x, y, adc_bits: int, full_scale: float = 1.0) -> dict:
    base = shipped()
    base["cim"]["adc_bits"] = adc_bits
    res = accelsim.simulate(network, accelsim.device_from_dict(base), values=True, inputs=x,
                            value_options={"adc_range": "array", "adc_full_scale": full_scale})
    accuracy = float((res.output.reshape(len(y), -1).argmax(axis=1) == y).mean())
    return {"accuracy": accuracy, "energy_nj_per_image": res.energy_pj / 1e3 / len(y)}


def main() -> None:
    out = output_dir(__doc__.splitlines()[0])
    x_train, y_train, x, y = data()
    network = train_mlp(x_train, y_train, hidden=(32,), epochs=60, seed=0)
    float_accuracy = float((reference_forward(network, x).reshape(len(y), -1).argmax(1)
                            == y).mean())
    rows = []
    for full_scale in (1.0, 0.25):
        for bits in range(2, 9):
            rows.append({"study": f"adc bits, range x{full_scale:g}", "x": bits,
                         **run(network, x, y, bits, full_scale)})
    for density in (1.0, 0.7, 0.5, 0.3, 0.2, 0.1):
        for label, prune in (("unstructured", magnitude_prune),
                             ("tile blocks", lambda w, d: block_prune(w, "cim-16x16", d))):
            rows.append({"study": f"pruning, {label}", "x": density,
                         **run(prune(network, density), x, y, 8)})
    write_csv(rows, out / "precision.csv")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for column, prefix, xlabel in ((0, "adc bits", "ADC bits"), (1, "pruning", "weight density")):
        for study in sorted({r["study"] for r in rows if r["study"].startswith(prefix)}):
            points = [r for r in rows if r["study"] == study]
            xs = [r["x"] for r in points]
            axes[0, column].plot(xs, [100 * r["accuracy"] for r in points], "o-", label=study)
            axes[1, column].plot(xs, [r["energy_nj_per_image"] for r in points], "o-",
                                 label=study)
        axes[0, column].axhline(100 * float_accuracy, color="grey", ls=":", label="float")
        axes[0, column].set_ylabel("test accuracy (%)")
        axes[1, column].set_ylabel("energy per image (nJ)")
        axes[1, column].set_ylim(bottom=0)     # from zero: a 10 % change looks like one
        axes[1, column].set_xlabel(xlabel)
        axes[0, column].legend(fontsize=7)
        axes[1, column].legend(fontsize=7)
    fig.suptitle("Digits MLP on cim-16x16: accuracy and energy vs ADC bits and pruning")
    fig.tight_layout()
    fig.savefig(out / "precision.png", dpi=110)
    print(f"float accuracy {100 * float_accuracy:.1f} %")
    print("| study | x | accuracy % | energy nJ/image |\n|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['study']} | {r['x']} | {100 * r['accuracy']:.1f} | "
              f"{r['energy_nj_per_image']:.2f} |")


if __name__ == "__main__":
    main()
