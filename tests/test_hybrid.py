"""Hybrid chips and the mapping policy; the Eyeriss-like preset's published ratios."""

import pytest

from accelsim import AccelsimError, MappingError, load_device, load_workload, simulate
from accelsim.energy.table import Action, Operand, buffer_read, dram_read
from accelsim.hardware.pricing import energy_per_action
from accelsim.workload import Conv2d

HYBRID = "hybrid-cim-systolic"


@pytest.fixture(scope="module")
def mobilenet_runs():
    return {policy: simulate("mobilenetv2", HYBRID, policy=policy)
            for policy in ("rules", "cim", "systolic")}


def test_depthwise_layers_go_digital_by_default(mobilenet_runs):
    wl = load_workload("mobilenetv2")
    res = mobilenet_runs["rules"]
    for layer in res.layers:
        spec = wl.layers.get(layer.name)
        if isinstance(spec, Conv2d):
            expected = "systolic" if spec.depthwise else "cim"
            assert layer.unit == expected, layer.name
            assert layer.reason.startswith("rule:")


def test_hybrid_uses_less_energy_than_all_analog_and_all_digital(mobilenet_runs):
    hybrid = mobilenet_runs["rules"].energy_pj
    assert hybrid < mobilenet_runs["cim"].energy_pj
    assert hybrid < mobilenet_runs["systolic"].energy_pj
    assert all(layer.unit != "systolic" for layer in mobilenet_runs["cim"].layers)
    assert all(layer.unit != "cim" for layer in mobilenet_runs["systolic"].layers)


def test_data_between_units_crosses_the_interconnect(mobilenet_runs):
    res = mobilenet_runs["rules"]
    names = [layer.name for layer in res.layers]
    dw = names.index("features.2.depthwise")
    # Inputs and outputs of a digital layer travel over the bus, and its weights come from DRAM.
    counts = dict(zip(Action, res.action_counts[dw]))
    assert counts[Action.BUS_BIT] > 0 and counts[Action.DRAM_READ_BIT_WEIGHTS] > 0
    assert counts[Action.PE_MAC] == res.layers[dw].macs


def test_energy_policy_is_no_worse_than_its_per_layer_alternatives():
    res = simulate("mobilenetv2", HYBRID, policy="energy")
    for layer in res.layers:
        if layer.unit in ("cim", "systolic"):
            assert layer.reason.startswith("energy: cim ")


def test_overrides_and_errors():
    res = simulate("mobilenetv2", HYBRID, assign={"features.2.depthwise": "cim"})
    layer = next(layer for layer in res.layers if layer.name == "features.2.depthwise")
    assert (layer.unit, layer.reason) == ("cim", "assigned by the user")
    with pytest.raises(MappingError, match="'nope' is not a conv or linear layer"):
        simulate("mobilenetv2", HYBRID, assign={"nope": "cim"})
    with pytest.raises(MappingError, match="has cim"):
        simulate("mobilenetv2", "cim-16x16", assign={"features.0": "systolic"})
    with pytest.raises(AccelsimError, match="policy must be one of"):
        simulate("mlp", HYBRID, policy="fastest")
    with pytest.raises(MappingError, match="has no systolic unit"):
        simulate("mlp", "cim-16x16", policy="systolic")


def test_eyeriss_preset_matches_published_configuration_and_ratios():
    d = load_device("eyeriss-like")
    assert d.systolic.rows * d.systolic.cols == 168
    assert d.global_buffer.size_bytes == 108 * 1024
    assert d.systolic.operand_bits == 16 and d.clock_hz == 200e6
    assert d.systolic.rows * d.systolic.cols * d.clock_hz == pytest.approx(33.6e9)  # MAC/s
    price = energy_per_action(d)
    mac = price[Action.PE_MAC]
    value_bits = d.systolic.operand_bits
    assert price[Action.RF_ACCESS] / mac == pytest.approx(1, rel=1e-3)
    assert price[Action.PE_HOP] / mac == pytest.approx(2, rel=1e-3)
    assert d.global_buffer.word_bits == value_bits
    for operand in Operand:
        assert price[buffer_read(operand)] / mac == pytest.approx(6, rel=1e-3)
        assert price[dram_read(operand)] * value_bits / mac == pytest.approx(200, rel=1e-3)


def test_digital_only_device_runs_whole_networks():
    res = simulate("resnet18", "eyeriss-like")
    assert {layer.unit for layer in res.layers if layer.macs} == {"systolic"}
    assert res.macs == 1_814_073_344
    counts = res.action_totals
    assert counts["pe_mac"] == res.macs


def test_device_needs_a_compute_unit(cim16_dict):
    from conftest import modified

    from accelsim import SpecError
    del cim16_dict["cim"]
    with pytest.raises(SpecError, match="at least one compute unit"):
        modified(cim16_dict)
