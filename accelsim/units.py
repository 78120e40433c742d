"""Physical-unit strings ("500MHz", "64KiB", "0.2pJ", "10ns", "1.5mW", "0.8V", "22nm") and
their conversion.

Conversion happens once, at load time; inside accelsim every quantity is a plain number whose
unit is part of its field name (``clock_hz``, ``size_bytes``, ``read_pj``).
"""

from __future__ import annotations

import re
from decimal import Decimal

# Scale of each accepted unit symbol relative to the field's base unit.
_SI = {"T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6,
       "n": 1e-9, "p": 1e-12, "f": 1e-15}
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 2**10}  # "K" alone: KB read as KiB

# dimension -> (base unit symbol, unit-of-field scale). A field in pJ stores energy / 1e-12 J.
DIMENSIONS: dict[str, tuple[str, float]] = {
    "pj": ("J", 1e-12),
    "hz": ("Hz", 1.0),
    "ns": ("s", 1e-9),
    "mw": ("W", 1e-3),
    "bytes": ("B", 1.0),
    "bits": ("b", 1.0),
    "bytes_per_s": ("B/s", 1.0),
    "pj_per_bit": ("J/b", 1e-12),
    "v": ("V", 1.0),
    "nm": ("m", 1e-9),
}

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_PATTERN = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµ/]*)\s*$")


def parse_quantity(value: object, dimension: str) -> float:
    """Convert ``value`` to the unit of ``dimension`` (a key of DIMENSIONS).

    Plain numbers are taken as already in that unit; strings must carry a matching unit symbol.
    Raises ValueError with a message that names the expected unit.
    """
    base, field_scale = DIMENSIONS[dimension]
    if isinstance(value, bool):
        raise ValueError(f"expected a quantity in {base}, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a quantity in {base} such as '1.5{_example(base)}', "
                         f"got {type(value).__name__}")
    match = _PATTERN.match(value)
    if not match:
        raise ValueError(f"cannot read '{value}' as a quantity in {base}")
    number, symbol = float(match.group(1)), match.group(2)
    if symbol == "":
        # A plain number that YAML 1.1 read as text ("2e6" has no dot, so it is a string).
        return number
    scale = _unit_scale(symbol, base)
    if scale is None:
        raise ValueError(f"'{value}' has unit '{symbol}', expected a unit of {base} "
                         f"(for example '{_example(base)}')")
    # In decimal, rounded once: "0.022um" is 22 nm, not 21.999999999999996.
    return float(Decimal(match.group(1)) * Decimal(repr(scale)) / Decimal(repr(field_scale)))


def _unit_scale(symbol: str, base: str) -> float | None:
    if base == "B" and symbol in ("B", "b"):
        return 1.0 if symbol == "B" else None
    if not symbol.endswith(base):
        return None
    prefix = symbol[: len(symbol) - len(base)]
    if base in ("B", "B/s") and prefix in _BINARY:
        return float(_BINARY[prefix])
    if prefix in _SI:
        return _SI[prefix]
    return None


def _example(base: str) -> str:
    return {"J": "pJ", "Hz": "MHz", "s": "ns", "W": "mW", "B": "KiB", "b": "b",
            "B/s": "GB/s", "J/b": "pJ/b", "V": "V", "m": "nm"}[base]


def energy_unit(pj: float) -> tuple[str, float]:
    """The SI unit that shows an energy of ``pj`` picojoules in a few digits, and how many pJ
    it holds: energy_unit(4.2e6) == ("µJ", 1e6)."""
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("µJ", 1e6), ("nJ", 1e3)):
        if abs(pj) >= scale:
            return unit, scale
    return "pJ", 1.0


def format_pj(pj: float, digits: str = ".3f") -> str:
    """An energy in pJ with a readable SI prefix: '12.300 nJ', '4.560 mJ' (``digits`` is the
    number format, e.g. ".4g")."""
    unit, scale = energy_unit(pj)
    return f"{pj / scale:{digits}} {unit}"


def a_bits(bits: int) -> str:
    """'a 16-bit' or 'an 8-bit': the article English gives a number of bits, read aloud."""
    spoken = str(int(bits))
    return f"an {spoken}" if spoken.startswith("8") or spoken in ("11", "18") else f"a {spoken}"
