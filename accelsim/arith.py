"""Integer arithmetic shared across accelsim."""

from __future__ import annotations

from typing import Any


def ceil_div(a: Any, b: Any) -> Any:
    """ceil(a / b) for integers or integer numpy arrays, exactly (no floating point)."""
    return -(-a // b)
