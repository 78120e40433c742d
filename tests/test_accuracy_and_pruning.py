"""Accuracy in value mode on a network trained at test time; pruning; digital zero policies."""

import numpy as np
import pytest
from conftest import modified

import accelsim
from accelsim.energy.table import Action
from accelsim.values import reference_forward
from accelsim.workload import Input, Linear, Workload, random_weights
from accelsim.workload.pruning import block_prune, density, magnitude_prune
from accelsim.workload.train import train_mlp


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn ships the digits "
                                   "data: pip install scikit-learn")
    data = datasets.load_digits()
    x, y = data.data / 16.0, data.target
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1437], order[1437:]
    network = train_mlp(x[train], y[train], hidden=(32,), epochs=60, seed=0)
    return network, x[test].reshape(-1, 64, 1, 1), y[test]


def accuracy(scores, labels):
    return float((scores.reshape(len(labels), -1).argmax(axis=1) == labels).mean())


def test_8_bit_weights_and_an_ideal_adc_keep_float_accuracy_within_one_point(digits):
    network, x, y = digits
    float_accuracy = accuracy(reference_forward(network, x), y)
    assert float_accuracy > 0.9
    result = accelsim.simulate(network, "cim-16x16", values=True, inputs=x,
                               value_options={"ideal_adc": True})
    assert abs(accuracy(result.output, y) - float_accuracy) <= 0.01


def test_fewer_adc_bits_cost_accuracy_and_save_energy(digits, cim16_dict):
    network, x, y = digits
    from accelsim.errors import AccelsimWarning

    def run(bits, adc_range="array"):
        return accelsim.simulate(network, modified(cim16_dict, **{"cim.adc_bits": bits}),
                                 values=True, inputs=x, value_options={"adc_range": adc_range})
    runs = {8: run(8)}
    with pytest.warns(AccelsimWarning, match="'fc2'"):    # 3 bits lose the last layer
        runs[3] = run(3)
    assert runs[8].zeroed_layers == () and runs[3].zeroed_layers == ("fc2",)
    assert accuracy(runs[3].output, y) < accuracy(runs[8].output, y)
    assert runs[3].energy_breakdown()[("adc", "convert")] < runs[8].energy_breakdown()[
        ("adc", "convert")] / 16
    # A range calibrated on the data spends the 3 bits' levels on sums that occur: every
    # layer keeps its signal, and accuracy beats the fixed range's (chance, 1 in 12 here)
    calibrated = run(3, "calibrated")
    assert calibrated.zeroed_layers == ()
    assert accuracy(calibrated.output, y) > accuracy(runs[3].output, y) + 0.5


def square(n, seed=0):
    wl = Workload.from_layers(f"square-{n}", [Input("in", shape=(n, 1, 1)),
                                              Linear("fc", ("in",), n)])
    return wl.with_weights(random_weights(wl, seed))


def test_pruning_keeps_the_asked_density():
    wl = square(256)
    assert density(magnitude_prune(wl, 0.3)) == pytest.approx(0.3, abs=1e-3)
    assert density(block_prune(wl, "cim-16x16", 0.5)) == pytest.approx(0.5, abs=1e-3)
    kept = np.abs(magnitude_prune(wl, 0.3).weights["fc"]) > 0
    smallest_kept = np.abs(wl.weights["fc"])[kept].min()
    assert smallest_kept >= np.abs(wl.weights["fc"])[~kept].max()


def test_tile_aligned_block_pruning_saves_tiles_and_energy_unstructured_does_not():
    wl = square(256)
    x = np.random.default_rng(1).random((4, 256, 1, 1))
    dense = accelsim.simulate(wl, "cim-16x16", values=True, inputs=x)
    blocks = accelsim.simulate(block_prune(wl, "cim-16x16", 0.5), "cim-16x16", values=True,
                               inputs=x)
    scattered = accelsim.simulate(magnitude_prune(wl, 0.5), "cim-16x16", values=True, inputs=x)
    def fc(result):
        return next(layer for layer in result.layers if layer.name == "fc")

    def crossbar_pj(result):     # the tiles' dynamic energy (inputs still cross the bus)
        return sum(pj for (component, action), pj in result.energy_breakdown().items()
                   if component in ("dac", "adc", "shift_add", "array") and action != "leakage")

    assert fc(dense).tiles == 256 and fc(blocks).tiles == 128 and fc(scattered).tiles == 256
    # Half the tiles are never mapped: half the row drives, conversions and cell reads.
    saved_blocks = 1 - crossbar_pj(blocks) / crossbar_pj(dense)
    saved_scattered = 1 - crossbar_pj(scattered) / crossbar_pj(dense)
    assert saved_blocks == pytest.approx(0.5, abs=0.01) and saved_scattered < 0.05
    assert fc(blocks).energy_pj < fc(dense).energy_pj


@pytest.mark.parametrize("policy", ["none", "gating", "skipping"])
def test_digital_zero_policies(policy):
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    device = modified(read_yaml(data_dir("devices") / "eyeriss-like.yaml"),
                      **{"systolic.zero_policy": policy, "systolic.index_pj": "0.4pJ"})
    x = np.zeros((64, 1, 1))
    x[::2] = 1.0                                    # half the inputs are zero
    wl = square(64)
    res = accelsim.simulate(wl, device, values=True, inputs=x)
    dense = accelsim.simulate(wl, device)
    counts = dict(zip(Action, res.action_counts[1]))
    nonzero = 32 * 64                               # 32 nonzero inputs x 64 nonzero weights
    assert counts[Action.PE_MAC] == (64 * 64 if policy == "none" else nonzero)
    assert counts[Action.PE_INDEX] == (nonzero if policy == "skipping" else 0)
    def compute(result):
        return next(layer for layer in result.layers if layer.name == "fc").compute_cycles

    if policy == "skipping":
        assert compute(res) < compute(dense)
    else:
        assert compute(res) == compute(dense)
