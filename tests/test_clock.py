"""The clock of a systolic array's flip-flops and its register scratchpads (models.logic,
hardware.systolic_figures), against hand computation from the Nangate and Stillmaker & Baas
figures, and the counts it is charged on."""

from __future__ import annotations

import math

import pytest

import accelsim
from accelsim.energy.table import Action, Operand, rf_access
from accelsim.hardware.pricing import area_by_component, energy_per_action, resolve
from accelsim.spec import load_device
from accelsim.workload import Input, Linear, Workload

# Nangate 45 nm DFF_X1 at 1.1 V, data held: 6.87 fJ inside, 0.95 fF of clock pin
DFF_FJ_AT_1V1 = 6.87 + 0.95 * 1.1 ** 2


def capacitance_factor(a, b, c, v):
    """Stillmaker & Baas's energy fit a V^2 + b V + c at the nominal supply, over V^2."""
    return (a * v * v + b * v + c) / (v * v)


def test_eyeriss_clock_is_its_flip_flops_at_nangate_energy_scaled_to_65_nm_by_hand():
    dev = resolve(load_device("eyeriss"))
    # 12 input and 24 psum entries of 16 bits (Table IV: registers), two 16-bit operand
    # registers and a 16-bit accumulator
    flops = (12 + 24) * 16 + 2 * 16 + 16
    scale = (capacitance_factor(3.755, -4.398, 1.975, 1.1)
             / capacitance_factor(1.018, -0.3107, 0.1539, 1.0))
    per_flop_pj = DFF_FJ_AT_1V1 / 1.1 ** 2 * scale * 1.0 ** 2 * 1e-3
    assert math.isclose(dev.systolic.clock_pj, flops * per_flop_pj, rel_tol=1e-9)
    # 168 PEs at 200 MHz: 224 mW while the array computes
    assert math.isclose(168 * dev.systolic.clock_pj * 200e6 * 1e-9, 224.2, rel_tol=2e-3)


def test_register_scratchpads_are_priced_as_registers_and_the_rest_as_a_smaller_sram():
    from accelsim.models import sram
    from accelsim.models.technology import technology
    dev = resolve(load_device("eyeriss"))
    prices = energy_per_action(dev)
    assert prices[rf_access(Operand.INPUTS)] == prices[rf_access(Operand.PSUMS)] \
        == dev.systolic.register_access_pj
    # the filter pad: 224 entries of 16 bits, 448 B of SRAM
    assert math.isclose(prices[rf_access(Operand.WEIGHTS)],
                        sram.read_pj(448, 16, technology(65, 1.0)), rel_tol=1e-12)
    all_sram = resolve(load_device("eyeriss").replace({"systolic.register_spads": []}))
    assert all_sram.systolic.clock_pj < dev.systolic.clock_pj
    # registers take a DFF's area per bit: 576 register bits replace 72 B of SRAM
    assert area_by_component(dev)["systolic"].value != area_by_component(all_sram)["systolic"].value


def fc(n_in=256, n_out=56):
    return Workload.from_layers("fc", [Input("in", shape=(n_in, 1, 1)),
                                       Linear("fc", ("in",), n_out)])


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_every_pe_is_clocked_in_every_compute_cycle(dataflow):
    dev = load_device("eyeriss-like").replace({"systolic.dataflow": dataflow})
    res = accelsim.simulate(fc(), dev)
    row = [layer.name for layer in res.layers].index("fc")
    layer = res.layers[row]
    pes = dev.systolic.rows * dev.systolic.cols
    assert res.action_counts[row][Action.PE_CLOCK] == pes * layer.compute_cycles
    off = accelsim.simulate(fc(), dev.replace({"systolic.clock_pj": 0.0}))
    clock = resolve(dev).systolic.clock_pj
    assert math.isclose(layer.energy_pj - off.layers[row].energy_pj,
                        pes * layer.compute_cycles * clock, rel_tol=1e-9)
    assert res.energy_breakdown()[("systolic", "clock")] == pytest.approx(
        pes * layer.compute_cycles * clock, rel=1e-12)


def test_clock_energy_scales_with_the_square_of_the_supply():
    low = resolve(load_device("eyeriss").replace({"voltage_v": 0.8}))
    high = resolve(load_device("eyeriss"))
    assert math.isclose(low.systolic.clock_pj / high.systolic.clock_pj, 0.8 ** 2, rel_tol=1e-12)


def test_skipping_zeros_shortens_the_clocked_cycles_too():
    dev = load_device("eyeriss-like").replace({"systolic.zero_policy": "skipping"})
    dense = accelsim.simulate(fc(1200, 14), dev)
    half = accelsim.simulate(fc(1200, 14), dev, input_zeros=0.5)
    row = [layer.name for layer in dense.layers].index("fc")
    pes = dev.systolic.rows * dev.systolic.cols
    assert half.action_counts[row][Action.PE_CLOCK] == pes * half.layers[row].compute_cycles
    assert half.layers[row].compute_cycles < 0.6 * dense.layers[row].compute_cycles


def test_scratchpads_all_registers_or_tiny_keep_their_own_entries():
    from accelsim.hardware.systolic_figures import register_bits, sram_bytes
    every = resolve(load_device("eyeriss").replace(
        {"systolic.register_spads": ["inputs", "weights", "psums"]})).systolic
    assert (sram_bytes(every), register_bits(every)) == (0, 260 * 16)
    assert every.rf_access_pj == 0.0                   # no SRAM pad left to price
    # 2 B hold one 16-bit entry; each pad still gets one (as the mapping sees them)
    tiny = resolve(load_device("eyeriss").replace({"systolic.rf_bytes": 2})).systolic
    assert (sram_bytes(tiny), register_bits(tiny)) == (2, 32)


def test_a_shift_and_add_register_is_clocked_once_per_converted_value():
    """A 20 x 20 layer on 16 x 16 tiles: 16 + 4 + 16 + 4 used columns, each converted in 8
    input cycles, so 320 register updates; each clocks a 24-bit register (enable-gated
    otherwise), priced as 24 Nangate DFF_X1 clock cycles at 22 nm and 0.8 V."""
    dev = resolve(load_device("cim-16x16"))
    wl = Workload.from_layers("fc", [Input("in", shape=(20, 1, 1)), Linear("fc", ("in",), 20)])
    res = accelsim.simulate(wl, dev)
    row = [layer.name for layer in res.layers].index("fc")
    assert res.action_counts[row][Action.TILE_CLOCK] == (16 + 4 + 16 + 4) * 8
    from accelsim.models import logic
    from accelsim.models.technology import technology
    assert dev.cim.clock_pj == pytest.approx(24 * logic.clock_pj(1, technology(22, 0.8)))
    assert res.energy_breakdown()[("shift_add", "clock")] == pytest.approx(
        320 * dev.cim.clock_pj, rel=1e-12)
