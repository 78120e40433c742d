"""Every derived number in devices/ equals the stated rule applied to its published source."""

import math

import pytest

from accelsim import load_device
from accelsim.energy.scaling import HOROWITZ_45NM_PJ as H
from accelsim.energy.scaling import scale_energy, sram_read_64b_45nm


def scaled(pj45, device):
    return scale_energy(pj45, node_nm=device.technology_nm, voltage_v=device.voltage_v)


@pytest.mark.parametrize("name", ["cim-16x16", "cim-128x128-rram", "ania-like"])
def test_horowitz_derived_digital_energies(name):
    d = load_device(name)
    assert d.cim.accumulate_pj == pytest.approx(scaled(H["int32_add"], d), rel=1e-3)
    assert d.digital.add_pj == pytest.approx(scaled(H["int8_add"], d), rel=1e-3)
    assert d.digital.mul_pj == pytest.approx(scaled(H["int8_mul"], d), rel=1e-3)
    assert d.digital.compare_pj == d.digital.add_pj
    # A 128 KiB bank read of a 128-bit word: the interpolated 64-bit figure, twice, scaled.
    bank = d.global_buffer.size_bytes / d.global_buffer.banks
    assert bank == 128 * 1024
    word = d.global_buffer.word_bits / 64 * scaled(sram_read_64b_45nm(bank), d)
    assert d.global_buffer.read_pj == pytest.approx(word, rel=1e-3)
    # DRAM: Horowitz 64-bit access, low end.
    assert d.dram.read_pj_per_bit == pytest.approx(H["dram_64b_access_low"] / 64)


def test_interpolation_hits_the_published_points():
    assert sram_read_64b_45nm(8 * 1024) == pytest.approx(10.0)
    assert sram_read_64b_45nm(32 * 1024) == pytest.approx(20.0)
    assert sram_read_64b_45nm(1024 * 1024) == pytest.approx(100.0)
    assert sram_read_64b_45nm(128 * 1024) == pytest.approx(20 + 80 * 2 / 5)


def test_scaling_rule_by_hand():
    # (22/45) * (0.8/0.9)^2 = 0.3862825...
    assert scale_energy(1.0, node_nm=22, voltage_v=0.8) == pytest.approx(22 / 45 * 64 / 81)


def test_cim_16x16_sources():
    d = load_device("cim-16x16")
    assert d.cim.adc_pj == pytest.approx(2.0)                     # ISAAC 2 mW at 1 GS/s
    assert d.cim.row_read_pj == pytest.approx(0.3 / 128)          # ISAAC 0.3 mW x 1 ns / 128 rows
    assert d.cim.cell_write_pj == pytest.approx(8 * scaled(H["sram_64b_read_8KB"] / 64, d),
                                                rel=1e-3)
    assert d.cim.tiles * d.cim.rows * d.cim.cols * d.cim.cell_bits == 16 * 2**20 * 8


def test_ania_calibration_reproduces_published_efficiency():
    """One full 1024x512 MVM of the macro: array + DAC + ADC energy gives 1275 TOPS/W."""
    d = load_device("ania-like")
    c = d.cim
    mvm_pj = c.rows * (c.dac_pj + c.row_read_pj) + c.cols * c.adc_pj
    tops_per_watt = 2 * c.rows * c.cols / mvm_pj
    assert 1050 <= tops_per_watt <= 1500
    # Peak rate: 2 * 1024 * 512 ops per MVM over (read + one conversion) cycles at 500 MHz.
    cycles = c.input_cycles * (c.read_cycles + math.ceil(c.cols / c.adcs_per_tile) * c.adc_cycles)
    tops = 2 * c.rows * c.cols * d.clock_hz / cycles / 1e12
    assert tops == pytest.approx(23.5, rel=0.05)
