"""Turning plain dicts (from YAML) into validated frozen dataclasses, with errors naming keys.

pydantic does the type and range checks; this module only adapts its errors to accelsim's
one-line "file: key.path: problem" form.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, Strict, TypeAdapter, ValidationError

from accelsim.errors import SpecError
from accelsim.units import parse_quantity

T = TypeVar("T")


def _quantity(dimension: str):
    return BeforeValidator(lambda value: parse_quantity(value, dimension))


PositiveInt = Annotated[int, Strict(), Field(gt=0)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
Picojoules = Annotated[float, _quantity("pj"), Field(ge=0)]
PicojoulesPerBit = Annotated[float, _quantity("pj_per_bit"), Field(ge=0)]
Milliwatts = Annotated[float, _quantity("mw"), Field(ge=0)]
Hertz = Annotated[float, _quantity("hz"), Field(gt=0)]
Nanoseconds = Annotated[float, _quantity("ns"), Field(ge=0)]
Bytes = Annotated[float, _quantity("bytes"), Field(gt=0)]
BytesPerSecond = Annotated[float, _quantity("bytes_per_s"), Field(gt=0)]


@cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def build(cls: type[T], data: Any, source: str) -> T:
    """Validate ``data`` into ``cls``; raise SpecError listing every problem by key path."""
    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_describe(error) for error in exc.errors()))
        path, first = problems[0]
        message = first if len(problems) == 1 else first + "".join(
            f"\n  also {p or '(top level)'}: {m}" for p, m in problems[1:])
        raise SpecError(source, path, message) from None


def _describe(error: dict) -> tuple[str, str]:
    # Union members appear in the location as "literal['auto']" or "function-after[...]";
    # keep only the keys of the file.
    loc = [str(part) for part in error["loc"]
           if isinstance(part, int) or not any(c in str(part) for c in "[(")]
    kind = error["type"]
    if kind == "unexpected_keyword_argument":
        return ".".join(loc), "unknown key"
    if kind == "missing":
        return ".".join(loc), "required key is missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    given = error.get("input")
    if not isinstance(given, dict) and repr(given) not in message:
        message += f" (got {given!r})"
    return ".".join(loc), message
