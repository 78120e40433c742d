import pytest

from accelsim.units import parse_quantity


@pytest.mark.parametrize("text, dimension, expected", [
    ("500MHz", "hz", 500e6), ("1GHz", "hz", 1e9), ("64KiB", "bytes", 65536),
    ("2MiB", "bytes", 2 * 1024 * 1024), ("0.2pJ", "pj", 0.2), ("1.3nJ", "pj", 1300.0),
    ("10fJ", "pj", 0.01), ("100ns", "ns", 100.0), ("1us", "ns", 1000.0), ("2mW", "mw", 2.0),
    ("3uW", "mw", 0.003), ("25.6GB/s", "bytes_per_s", 25.6e9), ("20pJ/b", "pj_per_bit", 20.0),
    (7, "pj", 7.0), (0.5, "mw", 0.5), ("0.8V", "v", 0.8), ("800 mV", "v", 0.8),
    ("22nm", "nm", 22.0), ("0.18um", "nm", 180.0),
])
def test_parses_units_into_the_field_unit(text, dimension, expected):
    assert parse_quantity(text, dimension) == pytest.approx(expected)


def test_a_number_written_as_text_is_a_plain_number():
    # YAML 1.1 reads "2e6" (no dot) and quoted numbers as text: they are plain numbers.
    assert parse_quantity("2e6", "bytes") == 2e6
    assert parse_quantity("12", "pj") == 12.0


@pytest.mark.parametrize("text, dimension, fragment", [
    ("5MB/s", "pj", "expected a unit of J"),
    ("ten pJ", "pj", "cannot read"), ("3xJ", "pj", "expected a unit of J"),
    (True, "pj", "boolean"), ([1], "pj", "got list"), ("22V", "nm", "expected a unit of m"),
])
def test_rejects_unreadable_or_mismatched_units(text, dimension, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_quantity(text, dimension)



def test_a_device_takes_its_supply_and_node_with_units(cim16_dict):
    from conftest import modified
    plain = modified(cim16_dict, technology_nm=22, voltage_v=0.8)
    assert modified(cim16_dict, technology_nm="22nm", voltage_v="800mV") == plain
    assert modified(cim16_dict, technology_nm="0.022 um", voltage_v="0.8 V") == plain
