"""Hybrid chips and the mapping policy; the Eyeriss-like preset's published ratios."""

import pytest

from accelsim import AccelsimError, MappingError, load_device, load_workload, simulate
from accelsim.energy.table import Action, Operand, dram_read
from accelsim.hardware.pricing import energy_per_action, resolve
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


def dynamic_pj(result):
    return sum(pj for (_, action), pj in result.energy_breakdown().items()
               if action != "leakage")


def test_per_layer_energy_choice_beats_forcing_one_unit(mobilenet_runs):
    # The energy policy picks, layer by layer, the unit with the lower estimate: its dynamic
    # energy is below both forced runs. (Its total also carries leakage over its run time,
    # which per-layer choices do not see.)
    chosen = simulate("mobilenetv2", HYBRID, policy="energy")
    assert dynamic_pj(chosen) < dynamic_pj(mobilenet_runs["cim"])
    assert dynamic_pj(chosen) < dynamic_pj(mobilenet_runs["systolic"])
    assert mobilenet_runs["rules"].energy_pj < mobilenet_runs["systolic"].energy_pj
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


def test_eyeriss_preset_matches_published_configuration():
    d = resolve(load_device("eyeriss-like"))
    assert d.systolic.rows * d.systolic.cols == 168
    assert d.global_buffer.size_bytes == 108 * 1024
    assert d.systolic.operand_bits == 16 and d.clock_hz == 200e6
    assert d.systolic.rows * d.systolic.cols * d.clock_hz == pytest.approx(33.6e9)  # MAC/s
    # The MAC: Horowitz's 8-bit multiply x (16/8)^2 and a 16-bit add (0.1 pJ / 32 per bit) at
    # 45 nm and 0.9 V, scaled to 65 nm and 1.0 V with Stillmaker & Baas' capacitance factor.
    def capacitance(fit, v):
        a, b, c = fit
        return (a * v * v + b * v + c) / (v * v)
    factor = capacitance((3.755, -4.398, 1.975), 1.1) / capacitance((1.018, -0.3107, 0.1539), 1.0)
    mac = (0.2 * 4 + 16 * 0.1 / 32) * factor * (1.0 / 0.9) ** 2
    price = energy_per_action(d)
    assert price[Action.PE_MAC] == pytest.approx(mac, rel=1e-9)
    # DRAM keeps the published 200x normalization: 200 x 1.605 pJ per 16-bit value.
    for operand in Operand:
        assert price[dram_read(operand)] * 16 == pytest.approx(200 * 1.605, rel=1e-3)


def test_a_batch_costs_no_more_than_its_images_one_at_a_time(mobilenet_runs):
    """MobileNetV2's depthwise layers (on the systolic array) hold one image's activations
    in the 2 MiB buffer but not two. Merging the batch into their GEMMs once spilled them to
    DRAM: batch 2 cost 2.9x the energy of batch 1, and batch 8 30x (measured). Now no systolic layer
    costs more than twice its batch-1 energy, nor does the whole run."""
    one = mobilenet_runs["rules"]
    two = simulate("mobilenetv2", HYBRID, batch=2)
    assert dynamic_pj(two) <= 2 * dynamic_pj(one) * (1 + 1e-9)
    for single, double in zip(one.layers, two.layers):
        if single.unit == "systolic":
            assert double.energy_pj <= 2 * single.energy_pj * (1 + 1e-9), single.name
