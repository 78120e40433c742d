"""The lookup-table unit (hardware.lut; the worked example of docs/architecture.md): it runs
smooth activations at one lookup per element, by hand."""

import pytest
from conftest import modified

import accelsim
from accelsim.workload import Activation, Input, Linear, Workload

LUT = {"lanes": 8, "lookup_pj": "0.05pJ", "leakage_mw": "0.002mW"}


def network(function: str) -> Workload:
    return Workload.from_layers("act", [Input("in", shape=(16, 4, 1)),
                                        Linear("fc", ("in",), 16),
                                        Activation("act", ("fc",), function=function)])


def test_a_sigmoid_costs_one_lookup_per_element(cim16_dict):
    device = modified({**cim16_dict, "lut": LUT})
    res = accelsim.simulate(network("sigmoid"), device)
    act = next(layer for layer in res.layers if layer.name == "act")
    assert act.reason == "activation looked up in a table"
    # 16 channels x 4 positions looked up at 0.05 pJ; no digital multiplies or adds for it
    assert res.energy_breakdown()[("lut", "lookup")] == pytest.approx(64 * 0.05)
    assert ("digital", "mul") not in res.energy_breakdown()
    # leakage over the run, and a busy resource of its own: 16 elements / 8 lanes per vector
    assert res.leakage_pj["lut"] == pytest.approx(0.002e-3 * res.seconds * 1e12)
    assert res.resources["lut"].busy_cycles == 4 * 2
    from accelsim.sweep.run import columns
    assert "energy_lut_pj" in columns([])          # sweeps give it a column of its own


def test_what_the_tables_do_not_hold_stays_digital(cim16_dict):
    device = modified({**cim16_dict, "lut": {**LUT, "functions": ["tanh"]}})
    res = accelsim.simulate(network("sigmoid"), device)
    assert ("lut", "lookup") not in res.energy_breakdown()
    # the digital unit's piecewise-linear sigmoid: 2 multiplies and 2 adds per element
    from accelsim.hardware.pricing import resolve
    mul = resolve(accelsim.load_device("cim-16x16")).digital.mul_pj
    assert res.energy_breakdown()[("digital", "mul")] == pytest.approx(64 * 2 * mul)
    with pytest.raises(accelsim.SpecError, match="lut.functions"):
        modified({**cim16_dict, "lut": {**LUT, "functions": ["sigmod"]}})
