"""The component models (accelsim.models): trends that must be physical, checked against
hand-computed values and against the data the models were fitted on."""

import csv
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import modified

import accelsim
from accelsim.errors import SpecError
from accelsim.hardware.pricing import area_by_component, resolve
from accelsim.models import adc, sram
from accelsim.models.technology import technology
from accelsim.workload import Input, Linear, Workload

TOOLS = Path(__file__).parents[1] / "tools"


# -- technology ------------------------------------------------------------------------------
def test_capacitance_factor_is_stillmaker_baas_by_hand():
    # S&B energy fits at the PTM nominal supplies: 45 nm HP (1.018, -0.3107, 0.1539) at 1.0 V,
    # 65 nm (3.755, -4.398, 1.975) at 1.1 V; the factor is E/V^2 relative to 45 nm.
    c45 = (1.018 - 0.3107 + 0.1539) / 1.0
    c65 = (3.755 * 1.21 - 4.398 * 1.1 + 1.975) / 1.21
    assert technology(65, 1.0).capacitance_factor == pytest.approx(c65 / c45, rel=1e-12)
    assert technology(45, 0.7).capacitance_factor == pytest.approx(1.0)
    assert technology(180, 1.8).area_factor == 19.0
    assert not technology(22, 0.8).extrapolated and technology(5, 0.7).extrapolated


def test_dynamic_energy_is_c_v_squared_exactly():
    for node in (7, 22, 65, 180):
        low, high = technology(node, 0.6), technology(node, 0.8)
        assert low.scale_pj(1.0) / high.scale_pj(1.0) == pytest.approx((0.6 / 0.8) ** 2)
        assert low.wire_pj_per_bit(1.0) / high.wire_pj_per_bit(1.0) == pytest.approx(0.5625)
        assert low.leakage_mw(1.0) / high.leakage_mw(1.0) == pytest.approx(0.75)   # I·V


def test_wire_energy_by_hand():
    # 0.2 fF/um x 1000 um = 200 fF, a quarter of C V^2 per bit at 0.8 V: 0.032 pJ per mm
    assert technology(22, 0.8).wire_pj_per_bit(1.0) == pytest.approx(0.25 * 0.2 * 0.64)


# -- gate delay, supply range and clock legality ---------------------------------------------
def sb_fo4(coefficients, v):
    a, b, c, d = coefficients
    return a * v ** 3 + b * v ** 2 + c * v + d


SB_45, SB_20, SB_32 = (-501.6, 1567, -1619, 566.1), (0, 34.63, -66.37, 41.15), \
    (-1047, 2982, -2797, 873.5)


def test_fo4_delay_is_stillmaker_baas_by_hand():
    # 45 nm HP: the fit at 1.0 V (nominal) and 0.8 V; above nominal no speed-up is claimed.
    assert technology(45, 1.0).fo4_ps == pytest.approx(12.5, abs=1e-9)
    assert technology(45, 0.8).fo4_ps == pytest.approx(sb_fo4(SB_45, 0.8), rel=1e-12)
    assert technology(45, 0.8).delay_factor == pytest.approx(sb_fo4(SB_45, 0.8) / 12.5)
    assert technology(45, 1.2).fo4_ps == pytest.approx(12.5) and \
        technology(45, 1.2).delay_factor == 1.0
    # 22 nm between 20 and 32 nm (both 0.9 V nominal): log-log at the same supply fraction.
    t = math.log(22 / 20) / math.log(32 / 20)
    for v in (0.9, 0.6):
        d20, d32 = sb_fo4(SB_20, v), sb_fo4(SB_32, v)
        expected = math.exp(math.log(d20) + t * (math.log(d32) - math.log(d20)))
        assert technology(22, v).fo4_ps == pytest.approx(expected, rel=1e-12)
    # Lower supplies are slower at every node
    for node in (7, 14, 22, 45, 65, 130, 180):
        nominal = technology(node, 1.0).nominal_v
        delays = [technology(node, f * nominal).fo4_ps for f in (0.5, 0.7, 0.85, 1.0)]
        assert delays == sorted(delays, reverse=True), node


def test_converter_and_sram_slow_down_below_the_nominal_supply():
    nominal, low = technology(22, 0.9), technology(22, 0.6)
    assert adc.max_rate_hz(8, low) == pytest.approx(adc.max_rate_hz(8, nominal)
                                                    / low.delay_factor)
    assert sram.access_ns(65536, 64, low) == pytest.approx(sram.access_ns(65536, 64, nominal)
                                                           * low.delay_factor)
    assert low.delay_factor > 1.5          # 0.6 V is 2/3 of 22 nm's 0.9 V


def test_supply_outside_the_models_range_and_impossible_clocks_are_refused(cim16_dict):
    # 22 nm: nominal 0.9 V, so 0.45-1.35 V
    resolve(modified(cim16_dict, voltage_v=0.45))
    resolve(modified(cim16_dict, voltage_v=1.35))
    for volts in (0.3, 1.8, 5.0):
        with pytest.raises(SpecError, match=r"voltage_v: .*0\.45-1\.35 V"):
            resolve(modified(cim16_dict, voltage_v=volts))
    # A node sweep that keeps a fine node's supply at an old node's is refused too
    with pytest.raises(SpecError, match="voltage_v"):
        resolve(modified(cim16_dict, technology_nm=180))
    # Logic at 22 nm and 0.8 V: 8 FO4 per period, FO4 by hand as above
    t = math.log(22 / 20) / math.log(32 / 20)
    fraction = 0.8 / 0.9
    d20, d32 = sb_fo4(SB_20, 0.9 * fraction), sb_fo4(SB_32, 0.9 * fraction)
    fo4 = math.exp(math.log(d20) + t * (math.log(d32) - math.log(d20)))
    limit = 1e12 / (8 * fo4)
    with pytest.raises(SpecError, match=rf"clock_hz: .* at most {limit / 1e6:,.0f} MHz"):
        resolve(modified(cim16_dict, clock_hz=1.01 * limit))


def test_a_lower_supply_gives_a_slow_converter_more_cycles(cim16_dict):
    # A 12-bit ADC at 500 MHz: its cycles per conversion follow the survey's limit, which
    # falls as the supply does.
    for volts in (0.9, 0.5):
        device = resolve(modified(cim16_dict, voltage_v=volts, **{"cim.adc_bits": 12}))
        limit = adc.max_rate_hz(12, technology(22, volts))
        assert device.cim.adc_cycles == math.ceil(500e6 / limit)
    assert resolve(modified(cim16_dict, voltage_v=0.5, **{"cim.adc_bits": 12})).cim.adc_cycles \
        > resolve(modified(cim16_dict, voltage_v=0.9, **{"cim.adc_bits": 12})).cim.adc_cycles


# -- voltage scaling of a whole device (acceptance) ------------------------------------------
SCALED = {"cim": ("dac_pj", "cell_signal_pj", "column_read_pj", "shift_add_pj",
                  "accumulate_pj"),
          "global_buffer": ("read_pj", "write_pj"),
          "digital": ("add_pj", "mul_pj", "compare_pj"),
          "interconnect": ("pj_per_bit",)}
LEAKING = {"cim": ("tile_leakage_mw",), "global_buffer": ("leakage_mw",),
           "digital": ("leakage_mw",)}


@pytest.mark.parametrize("name", ["cim-16x16", "ania-like", "hybrid-cim-systolic"])
def test_lower_supply_scales_every_dynamic_energy_by_v_squared(cim16_dict, name):
    from accelsim.spec.load import available_devices
    from accelsim.spec.yamlfile import read_yaml
    data = read_yaml(available_devices()[name])
    high = resolve(modified(data, voltage_v=0.8))
    low = resolve(modified(data, voltage_v=0.6))
    for section, fields in SCALED.items():
        for field in fields:
            hi, lo = getattr(getattr(high, section), field), getattr(getattr(low, section), field)
            if hi:
                assert lo / hi == pytest.approx((0.6 / 0.8) ** 2, rel=0.01), (section, field)
    for section, fields in LEAKING.items():
        for field in fields:
            ratio = getattr(getattr(low, section), field) / getattr(getattr(high, section), field)
            assert ratio == pytest.approx(0.6 / 0.8, rel=0.01), (section, field)    # I·V
    # The ADC: its Walden (switching) part scales with V^2, its thermal-noise part does not.
    c, tech = high.cim, technology(high.technology_nm, 0.8)
    rate = high.clock_hz / c.adc_cycles
    expected = adc.walden_pj(c.adc_bits, rate, tech) * 0.5625 + adc.thermal_pj(c.adc_bits)
    assert low.cim.adc_pj == pytest.approx(expected, rel=1e-9)
    if high.systolic is not None:
        assert low.systolic.mac_pj / high.systolic.mac_pj == pytest.approx(0.5625)


# -- crossbar growth at constant capacity (acceptance) ---------------------------------------
def rram_of_side(data, side):
    return resolve(modified(data, **{"cim.rows": side, "cim.cols": side,
                                     "cim.tiles": int(8192 * (128 / side) ** 2),
                                     "cim.adcs_per_tile": side // 8}))


def per_mac(result, component):
    return result.energy_by_component().get(component, 0.0) / result.macs


def test_bigger_crossbars_do_not_make_array_reads_cheaper_but_amortize_adcs():
    from accelsim.spec.load import available_devices
    from accelsim.spec.yamlfile import read_yaml
    data = read_yaml(available_devices()["cim-128x128-rram"])
    wl = Workload.from_layers("square", [Input("in", shape=(1024, 4, 1)),
                                         Linear("fc", ("in",), 1024)])
    energies = {}
    for side in (32, 256):
        dev = rram_of_side(data, side)
        c = dev.cim
        res = accelsim.simulate(wl, dev)
        fc = [layer.name for layer in res.layers].index("fc")
        # Per MAC, by hand: 8 input cycles x 4 cells per weight, each cell read (fixed part
        # plus half its full-scale signal) and its share of the column line (one column read
        # per `side` rows), plus the row drive shared by `side / 4` weights of a row.
        cycles, cells = c.input_cycles, c.cells_per_weight
        array = cycles * cells * (c.cell_read_pj + 0.5 * c.cell_signal_pj
                                  + c.column_read_pj / side)
        adc_per_mac = cycles * cells / side * c.adc_pj
        layer_macs = 1024 * 1024 * 4
        assert per_mac_layer(res, "fc", "array") == pytest.approx(array, rel=1e-9)
        assert per_mac_layer(res, "fc", "adc") == pytest.approx(adc_per_mac, rel=1e-9)
        energies[side] = (array, adc_per_mac)
        assert res.layers[fc].macs == layer_macs
    (array_32, adc_32), (array_256, adc_256) = energies[32], energies[256]
    assert array_256 >= 0.8 * array_32            # does not fall (within 20 %)
    assert adc_256 == pytest.approx(adc_32 / 8)   # 8x the rows share each conversion


def per_mac_layer(result, layer, component):
    from accelsim.energy.table import action_label
    row = [entry.name for entry in result.layers].index(layer)
    total = sum(count * result.prices_pj[action]
                for action, count in enumerate(result.action_counts[row])
                if action_label(action)[0] == component and action_label(action)[1] != "write")
    return total / result.layers[row].macs


def test_value_mode_array_energy_follows_the_stored_levels():
    rng = np.random.default_rng(4)
    small = rng.normal(0, 0.01, (16, 16))
    small[0, 0] = 1.0                       # one large weight: the rest quantize near zero
    big = np.sign(rng.normal(size=(16, 16)))  # every weight at full scale
    x = rng.random((1, 16, 1, 1)) + 0.1
    signals = []
    for w in (small, big):
        wl = Workload.from_layers("w", [Input("in", shape=(16, 1, 1)),
                                        Linear("fc", ("in",), 16)]).with_weights({"fc": w})
        # cim-16x16 stores signed weights in its cells (an offset encoding would store zero
        # weights at mid scale: then the levels do not fall with the weights)
        res = accelsim.simulate(wl, "cim-16x16", values=True, inputs=x,
                                value_options={"per_channel": False})
        signals.append(res.energy_breakdown().get(("array", "signal"), 0.0))
    assert signals[0] < 0.2 * signals[1]


# -- ADC model (acceptance) ------------------------------------------------------------------
def survey():
    sys.path.insert(0, str(TOOLS))
    import fit_adc
    return fit_adc, fit_adc.load()


def test_adc_model_is_monotone_in_bits_and_rate():
    tech = technology(28, 0.9)
    energies = [adc.energy_pj(b, 1e8, tech) for b in range(2, 17)]
    assert all(a < b for a, b in zip(energies, energies[1:]))
    rates = [adc.energy_pj(8, f, tech) for f in (1e6, 1e7, 1e8, 1e9, 1e10)]
    assert all(a < b for a, b in zip(rates, rates[1:]))
    areas = [adc.area_mm2(b, 1e8, tech) for b in range(2, 17)]
    assert all(a < b for a, b in zip(areas, areas[1:]))
    assert adc.max_rate_hz(6, tech) > adc.max_rate_hz(10, tech)


def test_adc_constants_are_the_survey_fit():
    fit_adc, data = survey()
    pytest.importorskip("scipy", reason="refitting the ADC model needs scipy")
    energy, area, rate = fit_adc.fit(data)
    assert energy == pytest.approx([adc.LOG10_W, adc.LOG10_F, adc.LOG10_T], abs=2e-4)
    assert area == pytest.approx(adc.AREA, abs=2e-4)
    assert rate == pytest.approx(adc.RATE, abs=2e-4)


def test_adc_model_tracks_the_survey_frontier_and_holds_out():
    fit_adc, data = survey()
    params = [adc.LOG10_W, adc.LOG10_F, adc.LOG10_T]
    ratio = data["energy_pj"] / fit_adc.energy_model(params, data["enob"], data["fs"],
                                                      data["node"])
    for bits in range(4, 13):
        near = np.abs(data["enob"] - bits) < 0.5
        frontier = np.quantile(ratio[near], 0.1)       # the survey's best tenth at this ENOB
        assert 0.5 <= frontier <= 2.0, (bits, frontier)
    held = data["held_out"]
    below = np.mean(ratio[held] < 1)                   # fitted at the 10th percentile
    assert 0.02 <= below <= 0.2
    assert held.sum() >= 60


def test_adc_energy_matches_the_fit_at_nominal_supply():
    fit_adc, _ = survey()
    tech = technology(65, technology(65, 1.0).nominal_v)
    model = fit_adc.energy_model([adc.LOG10_W, adc.LOG10_F, adc.LOG10_T], 8, 1e8, 65.0)
    assert adc.energy_pj(8, 1e8, tech) == pytest.approx(model, rel=1e-9)


# -- SRAM model ------------------------------------------------------------------------------
def cacti_points():
    with open(TOOLS / "data" / "cacti_sram.csv") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def test_sram_constants_are_the_cacti_fit():
    sys.path.insert(0, str(TOOLS))
    import fit_sram
    fitted = fit_sram.fit(fit_sram.load())
    for name, beta in fitted.items():
        assert beta == pytest.approx(sram._BETA[name], rel=1e-4, abs=1e-6), name


def test_sram_model_against_held_out_cacti_points():
    # The 45 nm points were not fitted: reads within 0.57-1.74x, areas within 0.51-1.48x.
    for row in cacti_points():
        if row["node_nm"] != "45":
            continue
        tech = technology(45, float(row["vdd_v"]))
        size, width = float(row["size_bytes"]), float(row["word_bits"])
        assert 0.55 < sram.read_pj(size, width, tech) / (float(row["read_nj"]) * 1e3) < 1.75
        assert 0.5 < sram.area_mm2(size, width, tech) / float(row["area_mm2"]) < 1.5


def test_sram_model_reads_small_and_narrow_arrays_as_cacti_does():
    # Register files (Eyeriss: 520 B of 16-bit words; the hybrid array's 64 B of 8-bit words)
    # and narrow buffers: CACTI's 160 points under 2 KB or 32-bit words. The model fitted on
    # 2 KB and up, with reads in proportion to the word below 32 bits, read them at a median
    # 0.61x (down to 0.18x).
    ratios = []
    for row in cacti_points():
        size, width = float(row["size_bytes"]), float(row["word_bits"])
        if size >= 2048 and width >= 32:
            continue
        tech = technology(float(row["node_nm"]), float(row["vdd_v"]))
        ratios.append(sram.read_pj(size, width, tech) / (float(row["read_nj"]) * 1e3))
    assert len(ratios) >= 80
    assert 0.9 < float(np.median(ratios)) < 1.15
    assert 0.45 < min(ratios) and max(ratios) < 1.7


def test_sram_energy_grows_with_size_and_width_inside_and_beyond_the_fit():
    tech = technology(22, 0.8)
    sizes = [256, 2048, 16384, 131072, 2 ** 21, 2 ** 24]
    assert all(sram.read_pj(a, 64, tech) < sram.read_pj(b, 64, tech)
               for a, b in zip(sizes, sizes[1:]))
    widths = [8, 32, 64, 128, 512, 2048]
    assert all(sram.read_pj(65536, a, tech) < sram.read_pj(65536, b, tech)
               for a, b in zip(widths, widths[1:]))


# -- area (acceptance) -----------------------------------------------------------------------
def test_area_sums_and_appears_in_every_output(tmp_path):
    res = accelsim.simulate("lenet5", "cim-16x16")
    assert res.area_mm2 == pytest.approx(math.fsum(res.area_breakdown().values()))
    assert res.area_mm2 > 0 and set(res.area_breakdown()) >= {"array", "adc", "global_buffer"}
    assert res.tops_per_mm2 == pytest.approx(2 * res.macs / res.seconds / 1e12 / res.area_mm2)
    d = res.to_dict()
    assert d["area_mm2"] == res.area_mm2 and d["area_breakdown"] == res.area_breakdown()
    assert "area_mm2" in res.to_csv().splitlines()[0]
    assert "tops_per_mm2" in d


def test_doubling_the_tiles_grows_area_by_the_tiles_share(cim16_dict):
    one = resolve(modified(cim16_dict))
    two = resolve(modified(cim16_dict, **{"cim.tiles": 2 * 65536}))
    a1, a2 = area_by_component(one), area_by_component(two)
    tiles = sum(a1[c].value for c in ("array", "dac", "adc", "shift_add"))
    total1 = sum(e.value for e in a1.values())
    total2 = sum(e.value for e in a2.values())
    assert total2 - total1 == pytest.approx(tiles, rel=1e-9)


def test_a_multi_bit_sram_cell_is_that_many_bit_cells_and_sets_the_wire_pitch(cim16_dict):
    # cim-16x16: 8-bit sram-charge cells at 22 nm. NeuroSim's 6T cell is 280 F² there, the
    # charge-domain cell 1.8x that, and an 8-bit cell eight of them: 4,032 F².
    dev = resolve(modified(cim16_dict))
    assert dev.cim.cell_area_f2 == pytest.approx(8 * 1.8 * 280)
    cells = 65536 * 16 * 16 * 8 * 1.8 * 280 * 0.022 ** 2 * 1e-6         # mm²
    assert area_by_component(dev)["array"].value == pytest.approx(cells, rel=0.02)
    # A 1-bit cell is one bit-cell; an RRAM cell keeps its 2 bits in one 48 F² device.
    one = resolve(modified(cim16_dict, **{"cim.cell_bits": 1, "cim.weight_bits": 1}))
    assert one.cim.cell_area_f2 == pytest.approx(1.8 * 280)
    rram = resolve(modified(cim16_dict, **{"cim.cell": "rram", "cim.cell_bits": 2,
                                           "cim.weight_bits": 8}))
    assert rram.cim.cell_area_f2 == 48
    # The same area sets the pitch of the row line: four times the cell area, twice the wire
    # per cell. Row drive = cols x (wire + gate) x C V^2 x 4/3, gate 0.1 fF at 45 nm.
    from accelsim.models.technology import WIRE_FF_PER_UM
    tech = technology(22, 0.8)
    gate = 0.1 * tech.capacitance_factor
    drive = {}
    for f2 in (1000, 4000):
        dev = resolve(modified(cim16_dict, **{"cim.cell_area_f2": f2}))
        pitch = math.sqrt(f2) * 0.022
        drive[f2] = 16 * (WIRE_FF_PER_UM * pitch + gate) * 1e-3 * 0.8 ** 2 * 4 / 3
        assert dev.cim.dac_pj == pytest.approx(drive[f2], rel=1e-9)
    assert drive[4000] > drive[1000]


# -- clock legality (acceptance) -------------------------------------------------------------
def test_an_adc_too_fast_for_its_node_is_refused_or_slowed(cim16_dict):
    old = {"technology_nm": 180, "voltage_v": 1.8, "clock_hz": "1GHz"}
    limit = adc.max_rate_hz(8, technology(180, 1.8))
    assert limit < 1e9
    with pytest.raises(SpecError, match=r"cim.adc_cycles: an 8-bit ADC converting every 1 "
                                        r"cycle\(s\) of 1,000 MHz runs at 1,000 MS/s, faster"):
        resolve(modified(cim16_dict, **old, **{"cim.adc_cycles": 1}))
    slowed = resolve(modified(cim16_dict, **old))           # adc_cycles: 'auto'
    assert slowed.cim.adc_cycles == math.ceil(1e9 / limit)
    assert 1e9 / slowed.cim.adc_cycles <= limit


def test_auto_figures_need_a_cell_technology(cim16_dict):
    data = {**cim16_dict, "cim": {k: v for k, v in cim16_dict["cim"].items() if k != "cell"}}
    with pytest.raises(SpecError, match=r"cim.adc_cycles|cim.read_cycles|needs cim.cell"):
        resolve(modified(data))


def test_adc_model_against_hwcomponents_when_installed():
    """CiMLoop's ADC estimator (hwcomponents-adc, Python >= 3.12) fits the same survey its own
    way; from 8 bits up the two agree within 3x in energy, and in area at the validation
    macros' converters (docs/validation.md has the table)."""
    hw = pytest.importorskip("hwcomponents_adc", reason="hwcomponents-adc is not installed "
                             "(it needs Python >= 3.12); docs/validation.md has its numbers")
    for bits, rate, node in [(8, 1.46e8, 22), (8, 5e8, 22), (10, 1e8, 32), (12, 1e7, 65)]:
        theirs = hw.ADC(bits, node * 1e-9, rate).read().energy * 1e12
        ours = adc.energy_pj(bits, rate, technology(node, technology(node, 1).nominal_v))
        assert 1 / 3 < ours / theirs < 3, (bits, rate, node)
    # Area, at the macros' converters (Jia's at its old and new rate, AnIA's, HERMES's): both
    # fits shrink a converter as its rate falls
    for bits, rate, node in [(8, 4e7, 65), (8, 7.41e5, 65), (6, 2.27e7, 22), (8, 7.81e6, 14)]:
        theirs = hw.ADC(bits, node * 1e-9, rate).area * 1e6
        ours = adc.area_mm2(bits, rate, technology(node, technology(node, 1).nominal_v))
        assert 1 / 3 < ours / theirs < 3, (bits, rate, node)
    assert hw.ADC(8, 65e-9, 7.41e5).area < hw.ADC(8, 65e-9, 4e7).area


def test_changing_an_area_table_does_not_change_the_next_one():
    """area_by_component is worked out once per device; what it returns is the caller's."""
    device = accelsim.load_device("cim-16x16")
    first = area_by_component(device)
    total = sum(e.value for e in first.values())
    first.clear()
    again = area_by_component(device)
    assert again and sum(e.value for e in again.values()) == total
    assert accelsim.simulate("lenet5", device).area_mm2 == pytest.approx(total)


# -- extrapolation is labelled ----------------------------------------------------------------
def test_model_coverage_is_the_span_of_the_fitted_data():
    rows = cacti_points()
    bits = [float(r["size_bytes"]) * 8 for r in rows]
    widths = [float(r["word_bits"]) for r in rows]
    nodes = [float(r["node_nm"]) for r in rows if r["node_nm"] != "45"] + [45.0]
    assert sram.SIZE_RANGE == (min(bits), max(bits))
    assert sram.WIDTH_RANGE == (min(widths), max(widths))
    assert sram.NODE_RANGE == (min(nodes), max(nodes))
    _, data = survey()
    fitted = ~data["held_out"]
    assert adc.BITS_RANGE[0] == pytest.approx(data["enob"][fitted].min(), abs=0.01)
    assert adc.BITS_RANGE[1] == pytest.approx(data["enob"][fitted].max(), abs=0.01)
    assert adc.RATE_RANGE == (data["fs"][fitted].min(), data["fs"][fitted].max())
    assert adc.NODE_RANGE == (data["node"][fitted].min(), data["node"][fitted].max())
    assert sram.coverage(4096, 64, 22) == "" and adc.coverage(8, 1e8, technology(22, 0.8)) == ""
    assert "32 B" in sram.coverage(32, 64, 22) and "4-bit words" in sram.coverage(4096, 4, 22)
    assert "7 nm" in sram.coverage(4096, 64, 7)
    assert "1 bits" in adc.coverage(1, 1e8, technology(22, 0.8))


def test_explain_says_which_figures_are_extrapolated():
    from accelsim.hardware.pricing import estimates
    from accelsim.spec.yamlfile import read_yaml
    hybrid = read_yaml(accelsim.available_devices()["hybrid-cim-systolic"])
    shipped = estimates(modified(hybrid))
    assert not any("extrapolated" in e.detail for section in shipped.values()
                   for e in section.values())
    # 32 B register files of 4-bit words are below CACTI's smallest points (64 B, 8 bits)
    small = modified(hybrid, **{"systolic.rf_bytes": 32, "systolic.operand_bits": 4})
    figures = estimates(small)
    assert "32 B" in figures["systolic"]["rf_access_pj"].detail
    assert "4-bit words" in figures["systolic"]["rf_access_pj"].detail
    assert "extrapolated" not in figures["global_buffer"]["read_pj"].detail
    area = area_by_component(resolve(small))
    assert "extrapolated" in area["systolic"].detail
    assert "extrapolated" not in area["adc"].detail


# Published throughput of each validation macro (TOPS, 2 ops per MAC), from its paper: the one
# timing figure a macro file keeps, so the TOPS/mm² comparison tests the area model alone.
MACRO_TOPS = {
    # AnIA: one 1024 x 512 MVM per 44.4 ns (Papistas et al., CICC 2021, via ZigZag-IMC)
    "ania_cicc2021.yaml": 2 * 1024 * 512 / 44.4e-9 / 1e12,
    "wang_vlsi2022.yaml": 0.3,          # Wang et al., VLSI 2022: 0.3 TOPS at 0.7 V
    "sinangil_jssc2021.yaml": 0.3724,   # Sinangil et al., JSSC 2021: 372.4 GOPS at 0.8 V
    "jia_jssc2020.yaml": 0.874,         # Jia et al., JSSC 2020: 1-bit at 0.85 V
    "neurram_nature2022.yaml": 0.744,   # Wan et al., Nature 2022, Fig. 12 (48 cores)
    # HERMES publishes no throughput in its abstract: its file assumes a 256 ns window for a
    # 256 x 256 MVM (its header says so)
    "hermes_jssc2022.yaml": 2 * 256 * 256 / 256e-9 / 1e12,
    # ISAAC's IMA: 8 crossbars x 128 rows x 16 weights of 16 bits per 16 reads of 100 ns
    # (Shafiee et al., ISCA 2016)
    "isaac_isca2016.yaml": 2 * 8 * 128 * 16 / 1.6e-6 / 1e12,
}
MACROS = Path(__file__).parents[1] / "validation" / "macros"


@pytest.mark.parametrize("name", sorted(MACRO_TOPS))
def test_each_macro_file_loads_and_keeps_its_published_throughput(name):
    """Every validation macro loads and resolves, and its clock and cycles give the paper's
    throughput within 1 % (NeuRRAM's 423 published cycles per MVM are 424 here: two
    conversions per input cycle). Its converters take the whole published period (the read
    within the conversion), so their rate is the rate the macro needs of them."""
    dev = resolve(accelsim.load_device(MACROS / name))
    cim = dev.cim
    outputs = cim.cols // cim.cells_per_weight
    cycles = cim.input_cycles * cim.cycles_per_input_cycle(cim.cols)
    tops = 2 * cim.tiles * cim.rows * outputs / (cycles / dev.clock_hz) / 1e12
    assert tops == pytest.approx(MACRO_TOPS[name], rel=0.01)
    assert cim.read_cycles == 0


def test_a_read_overlaps_the_conversions_of_its_input_cycle():
    """read_cycles: 0 overlaps the array read with the input cycle's conversions (ISAAC samples
    and holds its columns, then one ADC converts 128 of them). The RRAM read takes 2 ns, more
    than one conversion cycle at 1.28 GHz (0.78 ns) but less than 128 of them (100 ns):
    accepted. With an ADC per column there is one conversion per input cycle: refused."""
    from accelsim.spec.yamlfile import read_yaml
    isaac = read_yaml(MACROS / "isaac_isca2016.yaml")
    assert resolve(modified(isaac)).cim.read_cycles == 0
    with pytest.raises(SpecError, match=r"cim.read_cycles: the rram array needs 2 ns per read "
                                        r"but read_cycles: 0 \(the read within the input "
                                        r"cycle's 1 cycles of conversions\) gives 0.781 ns"):
        resolve(modified(isaac, **{"cim.adcs_per_tile": 128}))


def test_every_macro_file_is_tested():
    assert sorted(p.name for p in MACROS.glob("*.yaml")) == sorted(MACRO_TOPS)


def test_explain_says_when_a_converter_idles_through_the_read(cim16_dict):
    """cim-16x16 at 500 MHz: 16 columns over 4 ADCs are 4 conversions per input cycle. With a
    12-cycle read a converter works 4 of 16 cycles: priced at 500 MS/s, used at
    500 x 4 / 16 = 125 MS/s. With no read (or a read shorter than the conversions) nothing is
    said."""
    from accelsim.hardware.pricing import latencies
    slow = resolve(modified(cim16_dict, **{"cim.read_cycles": 12, "cim.adc_cycles": 1}))
    note = latencies(slow)["cim: adc conversion"].detail
    assert "converting 4 of the 16 cycles" in note and "500 MS/s, not the 125 MS/s" in note
    busy = resolve(modified(cim16_dict, **{"cim.read_cycles": 0, "cim.adc_cycles": 4}))
    assert "converting" not in latencies(busy)["cim: adc conversion"].detail
