"""simulate(input_zeros=...): a systolic array's zero policy applied to given shares of zero
inputs, without values. Checked by hand from the device's prices, and against value mode
measuring the same share of zeros in real inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import accelsim
from accelsim.cli import main
from accelsim.hardware.pricing import resolve
from accelsim.spec import load_device
from accelsim.workload import Input, Linear, Workload


def fc_workload(n_in=96, n_out=24):
    return Workload.from_layers("fc", [Input("in", shape=(n_in, 1, 1)),
                                       Linear("fc", ("in",), n_out)])


def device(policy="gating", dataflow="ws"):
    return load_device("eyeriss-like").replace({"systolic.zero_policy": policy,
                                               "systolic.dataflow": dataflow})


def layer(result, name):
    return next(entry for entry in result.layers if entry.name == name)


def test_gating_saves_the_mac_and_register_reads_of_the_given_zeros_by_hand():
    dev = resolve(load_device("eyeriss"))
    dense = accelsim.simulate("alexnet", dev, batch=4, execution="layer_by_layer")
    given = accelsim.simulate("alexnet", dev, batch=4, execution="layer_by_layer",
                              input_zeros={"conv2": 0.387})
    # AlexNet's CONV2: 27 x 27 outputs, 256 filters of 48 channels x 5 x 5 (two groups)
    macs = 27 * 27 * 256 * 48 * 5 * 5 * 4
    zeros = round(macs * 0.387)
    # row stationary gates the MAC, the weight read (an SRAM pad) and the psum read and write
    # (a register pad: JSSC 2017, Table IV)
    assert dev.systolic.register_spads == ("inputs", "psums")
    saved = zeros * (dev.systolic.mac_pj + dev.systolic.rf_access_pj
                     + 2 * dev.systolic.register_access_pj)
    assert math.isclose(layer(dense, "conv2").energy_pj - layer(given, "conv2").energy_pj,
                        saved, rel_tol=1e-9)
    assert given.skipped["conv2"]["pe_mac"] == zeros
    assert math.isclose(given.skipped["conv2"]["energy_saved_pj"], saved, rel_tol=1e-9)
    for name in ("conv1", "conv3"):          # not named: as dense
        assert layer(given, name).energy_pj == layer(dense, name).energy_pj
    assert layer(given, "conv2").span_cycles == layer(dense, "conv2").span_cycles


def test_given_zeros_cost_what_value_mode_measures_on_inputs_with_that_share():
    rng = np.random.default_rng(3)
    wl = fc_workload()
    weights = np.where(rng.random((24, 96)) < 0.5, -1.0, 1.0)   # no weight quantizes to zero
    x = rng.uniform(0.5, 1.0, (1, 96, 1, 1))
    x[0, rng.permutation(96)[:36], 0, 0] = 0.0                  # 36 of 96 inputs are zero
    for policy in ("gating", "skipping"):
        dev = device(policy)
        measured = accelsim.simulate(wl.with_weights({"fc": weights}), dev, values=True,
                                     inputs=x)
        given = accelsim.simulate(wl, dev, input_zeros=36 / 96)
        assert given.skipped["fc"]["pe_mac"] == measured.skipped["fc"]["pe_mac"] == 36 * 24
        assert math.isclose(given.energy_pj, measured.energy_pj, rel_tol=1e-12)
        assert given.cycles == measured.cycles


def test_skipping_shortens_the_compute_by_the_given_share():
    wl = fc_workload(n_in=1200, n_out=14)
    dense = accelsim.simulate(wl, device("skipping"))
    half = accelsim.simulate(wl, device("skipping"), input_zeros=0.5)
    gated = accelsim.simulate(wl, device("gating"), input_zeros=0.5)
    assert layer(half, "fc").compute_cycles < 0.6 * layer(dense, "fc").compute_cycles
    assert layer(gated, "fc").compute_cycles == layer(dense, "fc").compute_cycles


@pytest.mark.parametrize("value, message", [
    (1.5, "a fraction from 0 to 1"), (-0.1, "a fraction from 0 to 1"),
    (float("nan"), "a fraction from 0 to 1"), (True, "a fraction from 0 to 1"),
    ("0.5", "a fraction from 0 to 1"), ({"conv2": 2}, "input_zeros['conv2']"),
    ({3: 0.5}, "layer names"), ({"conv9": 0.5}, "did you mean"),
])
def test_bad_input_zeros_are_refused_by_name(value, message):
    with pytest.raises(accelsim.AccelsimError, match=message.replace("[", r"\[")):
        accelsim.simulate("alexnet", "eyeriss", input_zeros=value)


def test_input_zeros_need_a_systolic_layer_and_no_values():
    with pytest.raises(accelsim.AccelsimError, match="no layer of lenet5 runs on a systolic"):
        accelsim.simulate("lenet5", "cim-16x16", input_zeros=0.5)
    with pytest.raises(accelsim.AccelsimError, match="runs on cim, not on a systolic array"):
        accelsim.simulate("lenet5", "hybrid-cim-systolic", input_zeros={"c1": 0.5})
    with pytest.raises(accelsim.AccelsimError, match="value mode measures"):
        accelsim.simulate("lenet5", "eyeriss", values=True, input_zeros=0.5)
    # an empty mapping names no layer: nothing is given, on any device
    for dev in ("cim-16x16", "eyeriss"):
        assert (accelsim.simulate("lenet5", dev, input_zeros={}).energy_pj
                == accelsim.simulate("lenet5", dev).energy_pj)


def test_a_device_without_a_zero_policy_warns_and_changes_nothing():
    plain = device("none")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        given = accelsim.simulate(fc_workload(), plain, input_zeros=0.5)
    assert any("zero_policy: none" in str(w.message) for w in caught)
    assert given.energy_pj == accelsim.simulate(fc_workload(), plain).energy_pj


def test_cli_takes_one_fraction_or_layer_items():
    runner = CliRunner()
    ok = runner.invoke(main, ["run", "-d", "eyeriss", "-w", "alexnet", "--batch", "4",
                              "--input-zeros", "conv2=0.387", "--input-zeros", "conv3=0.725"])
    assert ok.exit_code == 0, ok.output
    assert "Skipped by sparsity (given input zeros)" in ok.output
    mixed = runner.invoke(main, ["run", "-d", "eyeriss", "-w", "alexnet", "--input-zeros",
                                 "0.5", "--input-zeros", "conv2=0.3"])
    assert mixed.exit_code != 0 and "cannot be given with other items" in mixed.output


def test_a_sweep_takes_input_zeros_and_keeps_them_apart_from_dense_points(tmp_path):
    """The option reaches every point, and the journal tells a run with given zeros from a
    dense one (options are part of each point's identity)."""
    from accelsim import sweep
    out = tmp_path / "s.csv"
    grid = {"systolic.rows": [12, 16]}
    dense = sweep("eyeriss", "alexnet", grid=grid, output=out, progress=False,
                  execution="layer_by_layer")
    sparse = sweep("eyeriss", "alexnet", grid=grid, output=out, progress=False,
                   execution="layer_by_layer", input_zeros=0.5)
    assert len(dense.rows) == len(sparse.rows) == 2
    for d, s in zip(dense.rows, sparse.rows):
        assert s["energy_pj"] < d["energy_pj"] and s["cycles"] == d["cycles"]
