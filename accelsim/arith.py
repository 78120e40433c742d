"""Integer arithmetic shared across accelsim."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def ceil_div(a: Any, b: Any) -> Any:
    """ceil(a / b) for integers or integer numpy arrays, exactly (no floating point)."""
    return -(-a // b)


def whole_shares(total: int, bounds: Any) -> Any:
    """``total`` cycles shared in whole cycles by the pieces between ``bounds`` (an increasing
    integer array from 0 to the last bound: vectors of steps, or folds): each piece gets the
    whole cycles reached at its end less those reached at its start, so the pieces add up to
    ``total`` instead of each rounding its fraction up."""
    return np.diff(ceil_div(total * np.asarray(bounds), max(int(bounds[-1]), 1)))


def window_output(h: int, w: int, kernel: tuple[int, int], stride: tuple[int, int],
                  padding: tuple[int, int], dilation: tuple[int, int],
                  what: str) -> tuple[int, int]:
    """Output height and width of a sliding window (PyTorch's formula, floor rounding). A
    window that does not fit says what a dilated kernel spans and the input its padding
    makes."""
    if min(*kernel, *stride, *dilation) < 1 or min(padding) < 0:
        raise ValueError(f"a {what} of {list(kernel)}, stride {list(stride)} and dilation "
                         f"{list(dilation)} needs each at least 1 (and padding {list(padding)} "
                         "at least 0)")
    oh, ow = (math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1
              for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    if min(oh, ow) < 1:
        (kh, kw), (dh, dw), (ph, pw) = kernel, dilation, padding
        spans = (f" (spanning {dh * (kh - 1) + 1}x{dw * (kw - 1) + 1} at dilation {dh}x{dw})"
                 if (dh, dw) != (1, 1) else "")
        padded = f" padded input ({h}x{w} before padding)" if ph or pw else " input"
        raise ValueError(f"a {kh}x{kw} {what}{spans} does not fit the {h + 2 * ph}x{w + 2 * pw}"
                         f"{padded}")
    return oh, ow


def evenly_spaced(count: int, most: int) -> np.ndarray:
    """``most`` indices evenly spaced over ``count`` (0 and count - 1 included, each rounded
    down), or every index when there are no more than ``most``."""
    if count <= most:
        return np.arange(count)
    return np.linspace(0, count - 1, most).astype(np.int64)
