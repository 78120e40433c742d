import pytest

from accelsim.units import parse_quantity


@pytest.mark.parametrize("text, dimension, expected", [
    ("500MHz", "hz", 500e6), ("1GHz", "hz", 1e9), ("64KiB", "bytes", 65536),
    ("2MiB", "bytes", 2 * 1024 * 1024), ("0.2pJ", "pj", 0.2), ("1.3nJ", "pj", 1300.0),
    ("10fJ", "pj", 0.01), ("100ns", "ns", 100.0), ("1us", "ns", 1000.0), ("2mW", "mw", 2.0),
    ("3uW", "mw", 0.003), ("25.6GB/s", "bytes_per_s", 25.6e9), ("20pJ/b", "pj_per_bit", 20.0),
    (7, "pj", 7.0), (0.5, "mw", 0.5),
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
    (True, "pj", "boolean"), ([1], "pj", "got list"),
])
def test_rejects_unreadable_or_mismatched_units(text, dimension, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_quantity(text, dimension)
