"""03 - Sparsity: what do pruned weights and zero activations save, on crossbars and digitally?

Pruning 30-50 % of a 256x256 layer's weights: unstructured zeros are scattered over every tile
and save nothing on crossbars; zeroing whole tile-sized blocks removes tiles. What block
pruning costs in accuracy, on a classifier trained here on a synthetic 10-class task. Zero
activations after ReLU save on crossbars (inputs not driven, input cycles skipped) and on a
digital array (MACs gated: energy; or skipped: energy and cycles).
"""

import copy

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import output_dir, pj, save

import accelsim
from accelsim._data import data_dir
from accelsim.spec.yamlfile import read_yaml
from accelsim.workload import Input, Linear, Workload, random_weights
from accelsim.workload.pruning import block_prune, magnitude_prune
from accelsim.workload.train import train_mlp

out = output_dir(__doc__.splitlines()[0])
layer = Workload.from_layers("fc256", [Input("in", shape=(256, 1, 1)),
                                       Linear("fc", ("in",), 256)])
layer = layer.with_weights(random_weights(layer, seed=0))
inputs = np.random.default_rng(1).random((4, 256, 1, 1))


def fc_named(result, name):
    return next(layer for layer in result.layers if layer.name == name)


def fc(result):
    return next(layer for layer in result.layers if layer.name == "fc")


dense = fc(accelsim.simulate(layer, "cim-16x16", values=True, inputs=inputs))
rows = []
print("pruning a 256x256 Linear on cim-16x16 (4 input vectors):")
for density in (0.7, 0.5):
    for label, pruned in (("unstructured", magnitude_prune(layer, density)),
                          ("tile blocks", block_prune(layer, "cim-16x16", density))):
        r = fc(accelsim.simulate(pruned, "cim-16x16", values=True, inputs=inputs))
        saved = 1 - r.energy_pj / dense.energy_pj
        rows.append((f"{label}\n{int(100 * (1 - density))} % pruned", saved))
        print(f"  {int(100 * (1 - density))} % pruned, {label:12s}: {r.tiles:3d} tiles, "
              f"{100 * saved:5.1f} % energy saved")

# The accuracy those savings cost: a 64-64-10 MLP trained on noisy copies of 10 random
# 64-feature prototypes (2,000 training and 500 test samples, all drawn here with a seed).
rng = np.random.default_rng(4)
prototypes = rng.normal(size=(10, 64))
labels = rng.integers(0, 10, 2500)
samples = prototypes[labels] + 1.2 * rng.normal(size=(2500, 64))
classifier = train_mlp(samples[:2000], labels[:2000], hidden=(64,), epochs=30, seed=0)
test, truth = samples[2000:].reshape(-1, 64, 1, 1), labels[2000:]


def accuracy_and_energy(network):
    """Test accuracy in value mode on cim-16x16, and the two layers' energy."""
    result = accelsim.simulate(network, "cim-16x16", values=True, inputs=test)
    right = (result.output.reshape(len(truth), -1).argmax(axis=1) == truth).mean()
    return right, sum(layer.energy_pj for layer in result.layers if layer.name in ("fc1", "fc2"))


full_accuracy, full_energy = accuracy_and_energy(classifier)
print(f"accuracy cost, a trained 64-64-10 classifier on cim-16x16 (500 test samples): "
      f"{100 * full_accuracy:.1f} % unpruned")
for density in (0.7, 0.5):
    for label, pruned in (("unstructured", magnitude_prune(classifier, density)),
                          ("tile blocks", block_prune(classifier, "cim-16x16", density))):
        right, energy = accuracy_and_energy(pruned)
        print(f"  {int(100 * (1 - density))} % pruned, {label:12s}: accuracy {100 * right:5.1f} %,"
              f" the layers' energy {100 * (energy / full_energy - 1):+5.1f} %")

relu = Workload.from_layers("relu-mlp", [Input("in", shape=(256, 1, 1)),
                                         Linear("fc1", ("in",), 256, activation="relu"),
                                         Linear("fc2", ("fc1",), 256)])
relu = relu.with_weights(random_weights(relu, seed=2))
signed_inputs = np.random.default_rng(3).normal(size=(4, 256, 1, 1))
print("zero activations after ReLU (the input of fc2), by unit:")
crossbar = accelsim.simulate(relu, "cim-16x16", values=True, inputs=signed_inputs)
saved = crossbar.skipped["fc2"]["energy_saved_pj"]
spent = next(layer for layer in crossbar.layers if layer.name == "fc2").energy_pj
print(f"  crossbars: {pj(saved)} saved on fc2 ({100 * saved / (saved + spent):.1f} %): "
      "zero inputs are not driven, but an input cycle is skipped only if all 16 rows are 0")
for policy in ("gating", "skipping"):
    data = copy.deepcopy(read_yaml(data_dir("devices") / "eyeriss-like.yaml"))
    data["systolic"].update(zero_policy=policy, index_pj="0.4pJ")
    device = accelsim.device_from_dict(data)
    none = copy.deepcopy(data)
    none["systolic"]["zero_policy"] = "none"
    base = accelsim.simulate(relu, accelsim.device_from_dict(none), values=True,
                             inputs=signed_inputs)
    run = accelsim.simulate(relu, device, values=True, inputs=signed_inputs)
    fc2, fc2_base = fc_named(run, "fc2"), fc_named(base, "fc2")
    print(f"  digital array, {policy:8s}: {100 * (1 - fc2.energy_pj / fc2_base.energy_pj):5.1f} % "
          f"energy, {100 * (1 - fc2.compute_cycles / fc2_base.compute_cycles):5.1f} % "
          "compute cycles saved on fc2")
print("answer: on crossbars only structure aligned to tiles (or whole zero inputs) saves, and "
      "removing whole blocks costs accuracy that scattered pruning does not")

figure, ax = plt.subplots(figsize=(7, 3.5))
bars = ax.bar([label for label, _ in rows], [100 * saved for _, saved in rows])
ax.bar_label(bars, labels=[f"{100 * saved:.1f} %" for _, saved in rows], fontsize=8)
ax.set_ylabel("energy of the layer saved (%)")
ax.set_title("Pruning on crossbars: scattered zeros vs tile-aligned blocks")
save(figure, out / "03_sparsity.png")
