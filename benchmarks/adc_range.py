"""Value mode's ADC range: fixed at the array's largest sum, or calibrated per layer.

    python benchmarks/adc_range.py [--workloads lenet5 resnet18 mobilenetv2]

For each zoo network (seeded He-normal weights, one seeded image of uniform [0, 1) pixels)
and each shipped crossbar device, runs value mode with adc_range "array" and "calibrated" (the
default), and with an ideal ADC (the ceiling that weight and input quantization leave), and
prints how close the network's output comes to the float64 reference on
the same weights and image (Pearson correlation, 1 is exact, and the relative error:
Result.output_agreement), the layers whose every output
rounded to zero, and the energy. Energy follows the signal: outputs rounded to zero are
zero inputs to the next layer, whose skipped rows and cycles cost nothing.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import accelsim
from accelsim.results.report import format_figure
from accelsim.values import output_agreement, reference_forward
from accelsim.workload.weights import random_weights

DEVICES = ("cim-16x16", "cim-128x128-rram", "ania-like")
RANGES = {"array": {"adc_range": "array"}, "calibrated": {"adc_range": "calibrated"},
          "ideal ADC": {"ideal_adc": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["lenet5", "resnet18", "mobilenetv2"])
    args = parser.parse_args()
    print("| network | device | ADC range | correlation with float | error | zeroed layers | "
          "energy µJ | seconds |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name in args.workloads:
        wl = accelsim.load_workload(name)
        wl = wl.with_weights(random_weights(wl, 1), wl.biases)
        shape = wl.layers[wl.order[0]].shape
        image = np.random.default_rng(5).uniform(0.0, 1.0, size=(1, *shape))
        reference = reference_forward(wl, image)
        for device in DEVICES:
            for adc_range, options in RANGES.items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", accelsim.AccelsimWarning)
                    res = accelsim.simulate(wl, device, values=True, inputs=image, seed=1,
                                            value_options=options)
                seconds = time.perf_counter() - start
                agreement = output_agreement(res.output, reference)
                print(f"| {name} | {device} | {adc_range} | "
                      f"{format_figure(agreement['correlation'], '{:.3f}')} | "
                      f"{format_figure(agreement['relative_error'], '{:.3g} %', 100)} | "
                      f"{len(res.zeroed_layers)} | {res.energy_pj / 1e6:.1f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
