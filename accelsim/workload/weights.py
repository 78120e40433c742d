"""Weights of a workload's conv and linear layers: checking user weights, seeded random ones.

Shapes follow PyTorch: a conv weight is (out_channels, in_channels / groups, kh, kw), a linear
weight (out_features, in_features); biases are (out,). Layers with constant operands keep them
in the same dicts: an affine layer's scale in ``weights`` and shift in ``biases`` (shaped
(1, 1, 1), (C, 1, 1) or (C, H, W)), a layer norm's gamma and beta, each (C,). Such constants
are optional; absent ones mean scale 1 and shift 0.
"""

from __future__ import annotations

import numpy as np

from accelsim.errors import WorkloadError


def weight_shape(workload, name: str) -> tuple[int, ...]:
    layer = workload.layers[name]
    k, n, groups = layer.matrix(workload.input_shapes(name))
    if layer.kind == "conv2d":
        cin_per_group = workload.input_shapes(name)[0][0] // layer.groups
        return (layer.out_channels, cin_per_group, *layer.kernel)
    return (n, k)


def check_weights(workload, weights: dict, biases: dict) -> tuple[dict, dict]:
    """Validated float64 copies of ``weights`` and ``biases``; errors name the layer."""
    weighted = [n for n in workload.order if workload.layers[n].weighted]
    out_w, out_b = {}, {}
    for name, array in weights.items():
        if name in workload.layers and workload.layers[name].constants:
            out_w[name] = _constant(workload, name, "scale", array)
            continue
        if name not in workload.layers or not workload.layers[name].weighted:
            raise WorkloadError(workload.name, "weights given for a layer without weights",
                                layer=name)
        array = np.asarray(array, dtype=np.float64)
        expected = weight_shape(workload, name)
        if array.shape != expected:
            raise WorkloadError(workload.name, f"weight shape {array.shape}, expected "
                                f"{expected}", layer=name)
        if not np.all(np.isfinite(array)):
            raise WorkloadError(workload.name, "weights contain NaN or infinity", layer=name)
        out_w[name] = array
    missing = [n for n in weighted if n not in out_w]
    if missing and any(workload.layers[n].weighted for n in out_w):
        raise WorkloadError(workload.name, "no weights given", layer=missing[0])
    for name, array in (biases or {}).items():
        if name in workload.layers and workload.layers[name].constants:
            out_b[name] = _constant(workload, name, "shift", array)
            continue
        if name not in out_w:
            raise WorkloadError(workload.name, "bias given for a layer without weights",
                                layer=name)
        array = np.asarray(array, dtype=np.float64)
        if array.shape != (weight_shape(workload, name)[0],):
            raise WorkloadError(workload.name, f"bias shape {array.shape}, expected "
                                f"({weight_shape(workload, name)[0]},)", layer=name)
        out_b[name] = array
    return out_w, out_b


def _constant(workload, name: str, which: str, array) -> np.ndarray:
    layer = workload.layers[name]
    expected = layer.constant_shape(which, workload.shapes[name])
    if expected is None:
        raise WorkloadError(workload.name, f"a {which} given, but the layer has {which}='none'",
                            layer=name)
    array = np.asarray(array, dtype=np.float64)
    if array.shape != expected:
        raise WorkloadError(workload.name, f"{which} shape {array.shape}, expected {expected}",
                            layer=name)
    if np.isnan(array).any():        # infinities are values (an attention mask's -inf)
        raise WorkloadError(workload.name, f"{which} contains NaN", layer=name)
    return array


def random_weights(workload, seed: int = 0) -> dict[str, np.ndarray]:
    """He-normal weights (std sqrt(2 / fan_in)) for every weighted layer, from one seed."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name in workload.order:
        if workload.layers[name].weighted:
            shape = weight_shape(workload, name)
            fan_in = int(np.prod(shape[1:]))
            weights[name] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    return weights
