"""Strict device loading: every bad input gives one SpecError naming the file and key."""

from pathlib import Path

import pytest
import yaml
from conftest import modified

from accelsim import SpecError, available_devices, device_from_dict, load_device
from accelsim.spec.yamlfile import parse_yaml

DEVICES = Path(__file__).parents[1] / "devices"


def test_all_shipped_devices_load():
    names = set(available_devices())
    assert {"cim-16x16", "cim-128x128-rram", "ania-like"} <= names
    for name in names:
        device = load_device(name)
        assert device.name == name
        assert device.version == 1


def test_units_are_converted_at_load_time(cim16):
    assert cim16.clock_hz == 500e6
    assert cim16.global_buffer.size_bytes == 2 * 1024 * 1024
    assert cim16.dram.bandwidth_bytes_per_s == 25.6e9
    assert cim16.dram.read_pj_per_bit == pytest.approx(20.3125)     # "20.3125pJ/b"


def test_renamed_price_keys_say_what_replaced_them(cim16_dict):
    from conftest import modified
    with pytest.raises(SpecError, match=r"cim.adc_fom_pj: unknown key: replaced by adc_pj, the "
                                        r"energy of one conversion \(adc_fom_pj x 2\^adc_bits"):
        modified(cim16_dict, **{"cim.adc_fom_pj": 0.01})
    with pytest.raises(SpecError, match="cim.row_read_pj: unknown key: replaced by cell_read_pj"):
        modified(cim16_dict, **{"cim.row_read_pj": 0.01})


def test_duplicate_keys_are_refused_with_their_lines():
    with pytest.raises(SpecError,
                       match=r"f.yaml: line 4: duplicate key 'rows' \(first given at line 3\)"):
        parse_yaml("version: 1\ncim:\n  rows: 16\n  rows: 32\n", "f.yaml")


def test_invalid_yaml_names_line_and_column():
    with pytest.raises(SpecError, match=r"f.yaml: line \d+, column \d+: invalid YAML"):
        parse_yaml("a: 1\nb: [1, 2\n", "f.yaml")


@pytest.mark.parametrize("path, value, fragment", [
    ("cim.rows", -16, "cim.rows: must be at least 1 and at most 65,536 (got -16)"),
    ("cim.tiles", 0, "cim.tiles: must be at least 1 and at most 16,777,216 (got 0)"),
    ("cim.rows", "16", "cim.rows: Input should be a valid integer"),
    ("cim.rows", 16.5, "cim.rows: Input should be a valid integer"),
    ("cim.signed_weights", "twos", "cim.signed_weights: Input should be"),
    ("clock_hz", "500MB", "clock_hz: '500MB' has unit 'MB'"),
    ("global_buffer.read_pj", "-1pJ",
     "global_buffer.read_pj: must be at least 0 and at most 1,000,000,000 pJ (got -1)"),
    ("version", 2, "version: Input should be 1"),
    ("cim.cols", 4, "needs 8 cells"),
    # widths that cannot work together (cim-16x16: 8-bit inputs, ADCs and outputs)
    ("cim.dac_bits", 16, "cim: dac_bits (16) exceeds input_bits (8)"),
    ("cim.psum_bits", 6, "cim: psum_bits (6) is narrower than adc_bits (8)"),
])
def test_bad_values_name_the_key(cim16_dict, path, value, fragment):
    if path == "cim.cols":  # 8-bit weights in 1-bit cells need 8 columns
        cim16_dict["cim"]["cell_bits"] = 1
    with pytest.raises(SpecError) as caught:
        modified(cim16_dict, **{path: value})
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("test: ")


def test_a_wrong_price_is_named_once_with_auto_as_the_alternative(cim16_dict):
    # A price may be a quantity or 'auto': a wrong number gets the number's problem and the
    # alternative, not a second complaint that it is not 'auto'.
    with pytest.raises(SpecError) as caught:
        modified(cim16_dict, **{"global_buffer.read_pj": -1, "cim.rows": 0})
    text = str(caught.value)
    assert ("global_buffer.read_pj: must be at least 0 and at most 1,000,000,000 pJ (got -1), "
            "or 'auto'") in text
    assert "Input should be 'auto'" not in text
    assert "cim.rows: must be at least 1" in text


def test_unknown_and_missing_keys(cim16_dict):
    cim16_dict["cim"]["rowz"] = 3
    with pytest.raises(SpecError, match="test: cim.rowz: unknown key"):
        modified(cim16_dict)
    del cim16_dict["cim"]["rowz"]
    del cim16_dict["dram"]
    with pytest.raises(SpecError, match="test: dram: required key is missing"):
        modified(cim16_dict)
    del cim16_dict["version"]
    with pytest.raises(SpecError, match="version: required key is missing"):
        modified(cim16_dict)


def test_unknown_device_and_missing_file(tmp_path):
    with pytest.raises(SpecError, match="unknown device; shipped devices are: .*cim-16x16"):
        load_device("cim-99")
    with pytest.raises(SpecError, match="file not found"):
        load_device(tmp_path / "missing.yaml")


def test_specs_are_frozen(cim16):
    with pytest.raises(AttributeError):
        cim16.cim.rows = 32


def test_unknown_device_keys_suggest_the_closest(cim16_dict):
    from conftest import modified
    with pytest.raises(SpecError, match=r"cim.adc_bitz: unknown key: did you mean 'adc_bits'\?"):
        modified(cim16_dict, **{"cim.adc_bitz": 8})
    with pytest.raises(SpecError, match=r"clok_hz: unknown key: did you mean 'clock_hz'\?"):
        modified(cim16_dict, clok_hz=1e9)


def test_device_replace_validates_like_a_file(cim16):
    assert cim16.replace({"cim.rows": 32}, clock_hz="1GHz").cim.rows == 32
    with pytest.raises(SpecError, match=r"cim.rows: must be at least 1"):
        cim16.replace({"cim.rows": -5})
    with pytest.raises(SpecError, match=r"nope: no such section"):
        cim16.replace({"nope.rows": 5})


def test_an_accumulator_narrower_than_its_operands_is_refused():
    data = yaml.safe_load((DEVICES / "eyeriss.yaml").read_text())
    data["systolic"]["accumulator_bits"] = 8
    with pytest.raises(SpecError, match=r"eyeriss.yaml: systolic: accumulator_bits \(8\) is "
                                        r"narrower than operand_bits \(16\)"):
        device_from_dict(data, source="eyeriss.yaml")


def test_messages_say_an_8_bit():
    from accelsim.units import a_bits
    assert [a_bits(b) for b in (1, 8, 11, 16, 18, 80, 64)] == \
        ["a 1", "an 8", "an 11", "a 16", "an 18", "an 80", "a 64"]


def test_simulate_takes_devices_and_workloads_as_dicts_and_names_a_wrong_type():
    """A dict as read from YAML is a device or a workload as its file would be (a dict used
    to be read as a file name: 'File name too long'); other types are refused by name."""
    from accelsim import available_devices, simulate
    from accelsim.spec.yamlfile import read_yaml
    device = read_yaml(available_devices()["cim-16x16"])
    layers = [{"name": "x", "type": "input", "shape": [20, 1, 1]},
              {"name": "fc", "type": "linear", "out_features": 20}]
    by_dict = simulate({"version": 1, "name": "linear-20x20", "layers": layers}, device)
    by_name = simulate("linear-20x20", "cim-16x16")
    assert (by_dict.cycles, by_dict.energy_pj) == (by_name.cycles, by_name.energy_pj)
    with pytest.raises(SpecError, match="<dict>: bogus: unknown key"):
        simulate("linear-20x20", {**device, "bogus": 1})
    for wrong in (5, None, ["cim-16x16"]):
        with pytest.raises(SpecError, match=f"a device is .*got type {type(wrong).__name__}"):
            simulate("linear-20x20", wrong)
        with pytest.raises(SpecError, match=f"a workload is .*got type {type(wrong).__name__}"):
            simulate(wrong, "cim-16x16")
