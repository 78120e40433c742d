"""Resizing arithmetic of the upsample layer, by ONNX Resize's formulas: where each output
position falls in the input (the coordinate rules), which input entry it copies (nearest, by
a rounding mode) or with which weights it mixes its neighbours (linear: 2 taps, cubic: 4)."""

from __future__ import annotations

import numpy as np

CUBIC_A = -0.75       # the cubic kernel's coefficient: ONNX's default and PyTorch's bicubic


def source(size_in: int, size_out: int, scale: float, rule: str) -> np.ndarray:
    """The input coordinate of each output position."""
    x = np.arange(size_out, dtype=np.float64)
    if rule == "align_corners":
        return x * (size_in - 1) / (size_out - 1) if size_out > 1 else np.zeros_like(x)
    if rule == "asymmetric":
        return x / scale
    if rule == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    if rule == "pytorch_half_pixel" and size_out == 1:
        return np.zeros_like(x)
    return (x + 0.5) / scale - 0.5


def nearest(size_in: int, size_out: int, rule: str, rounding: str) -> np.ndarray:
    """The input index each output position copies (an axis not resized is copied as it is,
    as onnxruntime does, whatever the rule)."""
    if size_in == size_out:
        return np.arange(size_out)
    x = source(size_in, size_out, size_out / size_in, rule)
    index = {"floor": np.floor(x), "ceil": np.ceil(x), "round_prefer_floor": np.ceil(x - 0.5),
             "round_prefer_ceil": np.floor(x + 0.5)}[rounding]
    return np.clip(index, 0, size_in - 1).astype(np.int64)


def _cubic_kernel(s: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with coefficient CUBIC_A, at distances ``s``."""
    s, a = np.abs(s), CUBIC_A
    near = ((a + 2) * s - (a + 3)) * s * s + 1
    far = ((a * s - 5 * a) * s + 8 * a) * s - 4 * a
    return np.where(s <= 1, near, np.where(s < 2, far, 0.0))


def weights(size_in: int, size_out: int, rule: str, mode: str) -> np.ndarray:
    """[size_out, size_in] weights of 1-D interpolation. Linear: the two entries around the
    position (clamped to the axis). Cubic: four entries, from one below to two above, each
    outside the axis read as the edge entry."""
    x = source(size_in, size_out, size_out / size_in, rule)
    rows = np.arange(size_out)
    out = np.zeros((size_out, size_in))
    if mode == "linear":
        x = np.clip(x, 0, size_in - 1)
        low = np.floor(x).astype(np.int64)
        np.add.at(out, (rows, low), 1.0 - (x - low))
        np.add.at(out, (rows, np.minimum(low + 1, size_in - 1)), x - low)
        return out
    low = np.floor(x).astype(np.int64)
    for tap in range(-1, 3):
        np.add.at(out, (rows, np.clip(low + tap, 0, size_in - 1)),
                  _cubic_kernel(x - (low + tap)))
    return out


def resized(layer, x: np.ndarray) -> np.ndarray:
    """An upsample layer's output for a [batch, channels, height, width] input."""
    _, _, h, w = x.shape
    ho, wo = layer.output_shape([x.shape[1:]])[1:]
    if layer.mode == "nearest":
        rows = nearest(h, ho, layer.coordinates, layer.nearest)
        cols = nearest(w, wo, layer.coordinates, layer.nearest)
        return x[:, :, rows][:, :, :, cols]
    rows = weights(h, ho, layer.coordinates, layer.mode)
    cols = weights(w, wo, layer.coordinates, layer.mode)
    return np.einsum("oh,bchw,pw->bcop", rows, x, cols)


def last_rows(layer, h: int, h_out: int) -> np.ndarray:
    """The last input row each output row reads (planning's row dependencies)."""
    if layer.mode == "nearest":
        return nearest(h, h_out, layer.coordinates, layer.nearest)
    read = weights(h, h_out, layer.coordinates, layer.mode) != 0
    return h - 1 - np.argmax(read[:, ::-1], axis=1)
