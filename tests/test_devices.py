"""The shipped devices: their 'auto' figures come from the component models, computed here by
hand from the published sources the models cite; their given numbers keep their sources."""

import math

import pytest

from accelsim import load_device
from accelsim.hardware.pricing import estimates, resolve
from accelsim.spec.load import available_devices

# Stillmaker & Baas 2017, energy fit a*V^2 + b*V + c, at the PTM nominal supply.
SB = {45: ((1.018, -0.3107, 0.1539), 1.0), 32: ((0.8367, -0.4341, 0.1701), 0.9),
      20: ((0.373, -0.1582, 0.04104), 0.9)}


def capacitance(node):
    (a, b, c), v = SB[node]
    return (a * v * v + b * v + c) / (v * v)


def factor_22nm():
    """Capacitance factor at 22 nm relative to 45 nm: log-log between 32 and 20 nm."""
    lo, hi = math.log(capacitance(32) / capacitance(45)), math.log(capacitance(20) /
                                                                  capacitance(45))
    t = (math.log(22) - math.log(32)) / (math.log(20) - math.log(32))
    return math.exp(lo + t * (hi - lo))


@pytest.mark.parametrize("name", ["cim-16x16", "cim-128x128-rram", "ania-like"])
def test_digital_energies_are_horowitz_scaled_by_hand(name):
    d = resolve(load_device(name))
    scale = factor_22nm() * (d.voltage_v / 0.9) ** 2
    assert d.cim.accumulate_pj == pytest.approx(d.cim.psum_bits * 0.1 / 32 * scale, rel=1e-9)
    bits = d.activation_bits                       # 8, or 7 for ania-like's 6-bit + sign
    assert d.digital.add_pj == pytest.approx(bits * 0.1 / 32 * scale, rel=1e-9)
    assert d.digital.mul_pj == pytest.approx(0.2 * (bits / 8) ** 2 * scale, rel=1e-9)
    assert d.digital.compare_pj == d.digital.add_pj
    assert d.dram.read_pj_per_bit == pytest.approx(1300 / 64)           # Horowitz DRAM, low end


@pytest.mark.parametrize("name", sorted(available_devices()))
def test_every_figure_of_a_shipped_device_says_where_it_comes_from(name):
    figures = estimates(load_device(name))
    assert figures
    for section, fields in figures.items():
        for field, estimate in fields.items():
            assert estimate.source, (section, field)
            assert estimate.given or estimate.detail, (section, field)
            assert math.isfinite(estimate.value) and estimate.value >= 0, (section, field)


def test_cim_16x16_holds_16_mib_of_8_bit_weights():
    d = load_device("cim-16x16")
    assert d.cim.tiles * d.cim.rows * d.cim.cols * d.cim.cell_bits == 16 * 2**20 * 8


def test_ania_reproduces_its_published_throughput():
    """Peak rate: 2 * 1024 * 512 ops per MVM over (read + conversion) cycles at 500 MHz."""
    d = resolve(load_device("ania-like"))
    c = d.cim
    cycles = c.input_cycles * (c.read_cycles + math.ceil(c.cols / c.adcs_per_tile) * c.adc_cycles)
    tops = 2 * c.rows * c.cols * d.clock_hz / cycles / 1e12
    assert tops == pytest.approx(23.5, rel=0.05)
