"""Turning plain dicts (from YAML) into validated frozen dataclasses, with errors naming keys.

pydantic does the type and range checks; this module only adapts its errors to accelsim's
one-line "file: key.path: problem" form.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Strict, TypeAdapter, ValidationError

from accelsim.errors import SpecError
from accelsim.units import parse_quantity

T = TypeVar("T")


def _quantity(dimension: str):
    return BeforeValidator(lambda value: parse_quantity(value, dimension))


def _within(low: float, high: float, unit: str = "", *, open_low: bool = False):
    """A check that a number is finite and in [low, high] (or (low, high]), with a message
    that gives the range: values outside it would overflow the simulator's integer
    arithmetic or describe no real chip."""
    def shown(value: float) -> str:
        return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 \
            else f"{value:g}"

    allowed = (f"greater than {shown(low)}" if open_low else f"at least {shown(low)}") \
        + f" and at most {shown(high)}{unit}"

    def check(value):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number, {allowed} (got {value})")
        if value < low or value > high or (open_low and value == low):
            raise ValueError(f"must be {allowed} (got {shown(value)})")
        return value
    return AfterValidator(check)


def Integer(low: int, high: int):
    """An integer in [low, high] (booleans and floats refused)."""
    return Annotated[int, Strict(), _within(low, high)]


def Quantity(dimension: str, low: float, high: float, unit: str, *, open_low: bool = False):
    """A physical quantity (plain number in the field's unit, or a string with a unit)."""
    return Annotated[float, _quantity(dimension), _within(low, high, unit, open_low=open_low)]


def Number(low: float, high: float, unit: str = "", *, open_low: bool = False):
    """A plain finite number in a range."""
    return Annotated[float, _within(low, high, unit, open_low=open_low)]


# The activation functions accelsim knows (their costs and forms: workload.ops).
ActivationName = Literal["relu", "relu6", "sigmoid", "silu", "tanh", "gelu", "gelu_tanh",
                         "hardswish", "softmax", "erf", "hardsigmoid", "leaky_relu", "sqrt",
                         "reciprocal", "exp", "log", "neg", "abs", "not", "to_bool", "to_int",
                         "elu", "selu", "softplus", "softsign", "mish", "sin", "cos", "sign",
                         "floor", "ceil", "round", "isnan", "isinf",
                         "square"]

# Bounds: wide enough for any chip on record and some way beyond, tight enough that counts
# times cycles stay far inside 64-bit integers.
PositiveInt = Integer(1, 2 ** 31 - 1)
NonNegativeInt = Integer(0, 2 ** 31 - 1)
PositiveFloat = Number(0, 1e12, open_low=True)
Picojoules = Quantity("pj", 0, 1e9, " pJ")
PicojoulesPerBit = Quantity("pj_per_bit", 0, 1e6, " pJ/b")
Milliwatts = Quantity("mw", 0, 1e9, " mW")
Hertz = Quantity("hz", 1e3, 1e12, " Hz")
Nanoseconds = Quantity("ns", 0, 1e9, " ns")
Bytes = Quantity("bytes", 1, 2 ** 50, " bytes")
BytesPerSecond = Quantity("bytes_per_s", 1, 1e15, " B/s")


# Keys an older accelsim accepted, with what replaced them (named in the unknown-key error).
RENAMED = {
    "row_read_pj": "replaced by cell_read_pj and cell_signal_pj (per cell read, so the array "
                   "energy grows with the columns read: row_read_pj / cols is the old "
                   "figure per cell), or leave them out for 'auto'",
    "adc_fom_pj": "replaced by adc_pj, the energy of one conversion (adc_fom_pj x "
                  "2^adc_bits), or leave it out for 'auto' (fitted to the ADC survey)",
}


def set_path(data: dict, path: str, value: Any, *, source: str, missing: str) -> None:
    """Set the dotted ``path`` ("cim.rows") in a nested dict in place; a section on the way
    that is absent (or not a section) raises SpecError naming it, with ``missing`` as the
    problem. An unknown final key is left for validation to report."""
    node = data
    *parents, leaf = str(path).split(".")
    for depth, key in enumerate(parents):
        if not isinstance(node.get(key), dict):
            raise SpecError(source, ".".join(parents[:depth + 1]), missing)
        node = node[key]
    node[leaf] = value


@cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def build(cls: type[T], data: Any, source: str) -> T:
    """Validate ``data`` into ``cls``; raise SpecError listing every problem by key path."""
    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_describe(error, cls) for error in exc.errors()))
        # A price that is a number or 'auto': when the number is wrong, say only what is
        # wrong with it, not also that it is not 'auto'.
        auto = {p for p, m in problems if m.startswith("Input should be 'auto'")}
        specific = {p for p, m in problems if p in auto and p is not None
                    and not m.startswith("Input should be 'auto'")}
        problems = [(p, m + ", or 'auto'" if p in specific else m) for p, m in problems
                    if p not in specific or not m.startswith("Input should be 'auto'")]
        path, first = problems[0]
        message = first if len(problems) == 1 else first + "".join(
            f"; also {p or '(top level)'}: {m}" for p, m in problems[1:4]) + (
            f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
        raise SpecError(source, path, message) from None


# Names other tools use for a key, and the key accelsim calls it (suggested when unknown).
SYNONYMS = {"kernel_size": "kernel", "mode": "function", "pool": "function",
            "in_features": None, "in_channels": None, "bias": None}


def _fields_at(cls: type, path: list[str]) -> list[str]:
    """The field names of the dataclass reached from ``cls`` along ``path`` (empty if the
    path leaves dataclasses)."""
    import dataclasses
    import typing
    for part in path:
        if not dataclasses.is_dataclass(cls):
            return []
        hints = typing.get_type_hints(cls)
        target = hints.get(part)
        candidates = [target, *typing.get_args(target)] if target is not None else []
        cls = next((c for c in candidates if isinstance(c, type)
                    and dataclasses.is_dataclass(c)), None)
        if cls is None:
            return []
    return [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []


def _unknown_key_hint(key: str, known: list[str]) -> str | None:
    import difflib
    if key in RENAMED:
        return RENAMED[key]
    if key in SYNONYMS:
        target = SYNONYMS[key]
        if target is None:
            return "accelsim works it out from the layer's inputs"
        if target in known:
            return f"did you mean '{target}'?"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else (
        f"known keys: {', '.join(known)}" if known else None)


def _describe(error: dict, cls: type | None = None) -> tuple[str, str]:
    # Union members appear in the location as "literal['auto']" or "function-after[...]";
    # keep only the keys of the file.
    loc = [str(part) for part in error["loc"]
           if isinstance(part, int) or not any(c in str(part) for c in "[(")]
    kind = error["type"]
    if kind == "unexpected_keyword_argument":
        known = _fields_at(cls, [p for p in loc[:-1] if not p.isdigit()]) if cls and loc else []
        hint = _unknown_key_hint(loc[-1], known) if loc else None
        return ".".join(loc), f"unknown key: {hint}" if hint else "unknown key"
    if kind == "missing":
        given = error.get("input")
        if loc and loc[-1].isdigit() and isinstance(given, (list, tuple)):
            # a list too short for its fixed number of items: one problem, not one per item
            return (".".join(loc[:-1]), f"has {len(given)} item(s), too few "
                    f"(got {_short_repr(given)})")
        return ".".join(loc), "required key is missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    given = error.get("input")
    shown = _short_repr(given)
    if not isinstance(given, dict) and "(got " not in message and shown not in message:
        message += f" (got {shown})"
    return ".".join(loc), message


def _short_repr(value: Any, limit: int = 80) -> str:
    """repr() of a value, cut to ``limit`` characters: an error must never echo a huge value
    (a YAML alias bomb expands to gigabytes)."""
    try:
        text = reprlib_repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def reprlib_repr(value: Any) -> str:
    import reprlib
    short = reprlib.Repr()
    short.maxlist = short.maxdict = short.maxtuple = short.maxset = 6
    short.maxstring = short.maxother = 60
    short.maxlevel = 3
    return short.repr(value)
