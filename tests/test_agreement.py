"""Value mode's agreement with float64: each weighted layer's product against the exact
product of its inputs, and the network's output against the float64 reference."""

import math

import numpy as np
import pytest
from conftest import modified

import accelsim
from accelsim.arith import evenly_spaced
from accelsim.errors import AccelsimError
from accelsim.results.report import totals_lines
from accelsim.values import output_agreement, reference_forward
from accelsim.workload import Input, Linear, Workload


def test_agreement_by_hand():
    """y = (1, 2, 3) against r = (1, 2, 4): deviations (-1, 0, 1) and (-4, -1, 5)/3, so the
    correlation is 3 / sqrt(2 * 42/9) = 0.981981; the difference (0, 0, -1) against a norm
    of sqrt(21) gives 1/sqrt(21) = 0.218218."""
    agreement = output_agreement(np.array([1.0, 2.0, 3.0]), np.array([[1.0], [2.0], [4.0]]))
    assert agreement["correlation"] == pytest.approx(3 / math.sqrt(2 * 42 / 9), rel=1e-12)
    assert agreement["relative_error"] == pytest.approx(1 / math.sqrt(21), rel=1e-12)


def test_agreement_without_spread_or_signal():
    constant = output_agreement(np.ones(4), np.arange(4.0))
    assert constant["correlation"] is None
    assert constant["relative_error"] == pytest.approx(math.sqrt(1 + 0 + 1 + 4) / math.sqrt(14))
    silent = output_agreement(np.arange(4.0), np.zeros(4))
    assert silent == {"correlation": None, "relative_error": None}
    with pytest.raises(ValueError, match="3 elements, the reference 4"):
        output_agreement(np.ones(3), np.ones(4))


def test_sampled_rows_are_evenly_spaced_and_span_the_rows():
    assert evenly_spaced(5, 32).tolist() == [0, 1, 2, 3, 4]
    rows = evenly_spaced(1000, 64)
    assert rows.size == 64 and rows[0] == 0 and rows[-1] == 999
    assert (np.diff(rows) >= 15).all() and (np.diff(rows) <= 17).all()


def linear(k, n, weights):
    wl = Workload.from_layers(f"linear-{k}x{n}", [Input("in", shape=(k, 1, 1)),
                                                  Linear("fc", ("in",), n)])
    return wl.with_weights({"fc": weights})


@pytest.mark.parametrize("adc_bits", [3, 8])
def test_a_linear_layer_agrees_as_numpy_says(adc_bits):
    """One Linear layer (no bias, no activation), 12 inputs: its product is the output, so
    the layer's figures and the network's equal numpy's corrcoef and norms of the output
    against x @ W.T, which is also the float64 reference."""
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    device = modified(read_yaml(data_dir("devices") / "cim-16x16.yaml"),
                      **{"cim.adc_bits": adc_bits})
    rng = np.random.default_rng(3)
    k, n = 40, 20
    w = rng.normal(size=(n, k))
    x = rng.random((12, k, 1, 1))
    result = accelsim.simulate(linear(k, n, w), device, values=True, inputs=x)
    exact = x[:, :, 0, 0] @ w.T
    y = result.output[:, :, 0, 0]
    correlation = np.corrcoef(y.ravel(), exact.ravel())[0, 1]
    error = np.linalg.norm(y - exact) / np.linalg.norm(exact)
    layer = next(layer for layer in result.layers if layer.name == "fc")
    assert layer.product_correlation == pytest.approx(correlation, rel=1e-9)
    assert layer.product_error == pytest.approx(error, rel=1e-9)
    network = result.output_agreement()
    assert network == pytest.approx({"correlation": correlation, "relative_error": error},
                                    rel=1e-9)
    assert result.to_dict()["output_agreement"] == network
    assert 0 < error < (0.5 if adc_bits == 3 else 0.05)       # coarser converters lose more


def test_one_image_without_a_batch_axis_is_compared_as_given():
    """An image given as (C, H, W) gives an output without a batch axis; the reference is
    taken the same way."""
    image = np.random.default_rng(0).random((1, 32, 32))
    result = accelsim.simulate("lenet5", "cim-16x16", values=True, inputs=image, seed=4)
    assert result.output.shape == (10, 1, 1)
    from accelsim.values.measure import seeded_weights
    from accelsim.workload.load import load_workload
    network = load_workload("lenet5")
    reference = reference_forward(network.with_weights(seeded_weights(network, 4)), image[None])
    y, r = result.output.ravel(), reference.ravel()
    assert result.output_agreement()["correlation"] == pytest.approx(
        np.corrcoef(y, r)[0, 1], rel=1e-9)


def test_the_report_and_runs_without_values():
    result = accelsim.simulate("lenet5", "cim-128x128-rram", values=True, seed=2)
    line = next(line for line in totals_lines(result) if line.startswith("output"))
    assert "against the float64 reference" in line and "correlation 0." in line
    weighted = [layer for layer in result.layers if layer.macs]
    assert all(0 < layer.product_correlation <= 1 for layer in weighted)
    worst = max(weighted, key=lambda layer: layer.product_error)
    assert any(line.startswith(f"weakest layer     {worst.name}: ")
               for line in totals_lines(result))
    plain = accelsim.simulate("lenet5", "cim-128x128-rram")
    assert all(layer.product_correlation is None for layer in plain.layers)
    assert "output_agreement" not in plain.to_dict()
    with pytest.raises(AccelsimError, match="needs a value-mode run"):
        plain.output_agreement()


def test_a_value_sweep_rows_agree_with_direct_runs(tmp_path):
    """Each row's output_correlation and output_error are those of simulate() with the
    sweep's seed; the journal reads back with the grid path as its only parameter."""
    from accelsim.sweep import load_results, sweep
    out = tmp_path / "values.csv"
    result = sweep("cim-128x128-rram", ["lenet5"], grid={"cim.adc_bits": [4, 8]}, seed=5,
                   output=out, jobs=1, progress=False, values=True,
                   value_options={"adc_range": "array"})
    assert [row["status"] for row in result.rows] == ["ok", "ok"]
    from accelsim._data import data_dir
    from accelsim.spec.yamlfile import read_yaml
    for row in result.rows:
        device = modified(read_yaml(data_dir("devices") / "cim-128x128-rram.yaml"),
                          **{"cim.adc_bits": row["cim.adc_bits"]})
        direct = accelsim.simulate("lenet5", device, values=True, seed=5,
                                   value_options={"adc_range": "array"})
        assert row["output_correlation"] == pytest.approx(
            direct.output_agreement()["correlation"], rel=1e-12)
        assert row["output_error"] == pytest.approx(
            direct.output_agreement()["relative_error"], rel=1e-12)
        assert row["energy_pj"] == pytest.approx(direct.energy_pj, rel=1e-12)
    loaded = load_results(out)
    assert loaded.parameters == ("cim.adc_bits",)
    assert [r["output_error"] for r in loaded.rows] == pytest.approx(
        [r["output_error"] for r in result.rows])


def test_sweep_value_options_are_checked_before_any_point(tmp_path):
    from accelsim.errors import SpecError
    from accelsim.sweep import load_sweep, sweep
    with pytest.raises(AccelsimError, match="value_options need values=True"):
        sweep("cim-16x16", ["lenet5"], grid={"cim.adc_bits": [4]}, jobs=1,
              value_options={"ideal_adc": True})
    with pytest.raises(AccelsimError, match="value_options"):
        sweep("cim-16x16", ["lenet5"], grid={"cim.adc_bits": [4]}, jobs=1, values=True,
              value_options={"adc_bitz": 3})
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\ndevice: cim-16x16\nworkloads: lenet5\n"
                    "grid: {cim.adc_bits: [4]}\noptions: {values: true, value_options: "
                    "{adc_range: sometimes}}\n")
    with pytest.raises(SpecError, match="options.value_options"):
        load_sweep(path)
    path.write_text("version: 1\ndevice: cim-16x16\nworkloads: lenet5\n"
                    "grid: {cim.adc_bits: [4]}\noptions: {value_options: {ideal_adc: true}}\n")
    with pytest.raises(SpecError, match="options.value_options: needs values: true"):
        load_sweep(path)


def test_an_output_of_zeros_is_reported_without_nan(tmp_path):
    """ania-like with the ADC range fixed at the array's largest sum rounds LeNet-5 to zeros:
    the correlation is undefined (None, null in JSON, "n/a" in the report), the error 100 %;
    a sweep's front and the Pareto plot leave the undefined figure out."""
    import json
    import warnings

    from accelsim.results.pareto import pareto_front
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", accelsim.AccelsimWarning)
        result = accelsim.simulate("lenet5", "ania-like", values=True, seed=1,
                                   value_options={"adc_range": "array"})
    assert result.output_agreement() == {"correlation": None, "relative_error": 1.0}
    text = result.to_json()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    line = next(line for line in totals_lines(result) if line.startswith("output"))
    assert "correlation n/a, error 100 %" in line
    rows = [{"status": "ok", "workload": "w", "output_error": None, "energy_pj": 1.0},
            {"status": "ok", "workload": "w", "output_error": 0.5, "energy_pj": 2.0}]
    assert pareto_front(rows, x="output_error").tolist() == [False, True]


def test_a_value_result_pickles_with_its_reference_output():
    """A value-mode Result pickles (as before the reference was kept), carrying the reference
    output rather than the network and its weights; the copy agrees as the original does."""
    import pickle
    result = accelsim.simulate("lenet5", "cim-16x16", values=True, seed=3)
    copy = pickle.loads(pickle.dumps(result))
    assert copy.output_agreement() == result.output_agreement()
    assert len(pickle.dumps(result)) < 200_000        # not LeNet-5's 61,470 weights as float64


def test_a_grid_may_vary_value_options(tmp_path):
    """"value_options.NAME" grid paths go to each point's value options (over the sweep's
    own), not to the device; they need values=True, and a bad value is refused before any
    point runs."""
    from accelsim.sweep import sweep
    result = sweep("cim-128x128-rram", ["lenet5"], seed=2, jobs=1, progress=False,
                   grid={"value_options.ideal_adc": [False, True]}, values=True,
                   value_options={"adc_range": "array"})
    for row in result.rows:
        direct = accelsim.simulate("lenet5", "cim-128x128-rram", values=True, seed=2,
                                   value_options={"adc_range": "array",
                                                  "ideal_adc": row["value_options.ideal_adc"]})
        assert row["output_error"] == pytest.approx(
            direct.output_agreement()["relative_error"], rel=1e-12)
    assert result.rows[1]["output_error"] < 0.05 < result.rows[0]["output_error"]
    with pytest.raises(AccelsimError, match="need values=True"):
        sweep("cim-16x16", ["lenet5"], jobs=1, grid={"value_options.ideal_adc": [True]})
    with pytest.raises(AccelsimError, match="adc_full_scale"):
        sweep("cim-16x16", ["lenet5"], jobs=1, values=True, output=tmp_path / "never.csv",
              grid={"value_options.adc_full_scale": [0.5, -1.0]})
    assert not (tmp_path / "never.csv").exists()
