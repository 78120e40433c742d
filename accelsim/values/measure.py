"""Value mode as simulate() uses it: the inputs, the forward pass, and plans whose counts
and cycles come from what the units measured on the data."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.hardware.registry import unit
from accelsim.kernels.options import ValueOptions
from accelsim.values.forward import ReferenceOutput, run_values
from accelsim.workload.weights import random_weights, weight_shape

# Seeded random weights kept for the next run: a sweep or a notebook that runs value mode
# again on the same network with the same seed would draw the same weights again (ResNet-18:
# 11.7 M normal draws, 0.13 s of a 0.9 s run). Kept read-only, up to this many bytes in all,
# the least recently used dropped first (ResNet-50's are 205 MB; a set larger than this, such
# as BERT-base's 0.7 GB, is drawn at every run).
WEIGHT_CACHE_BYTES = 256 * 2**20
_WEIGHTS: OrderedDict[tuple, dict[str, np.ndarray]] = OrderedDict()
_WEIGHTS_LOCK = threading.Lock()


def resolve_options(options) -> ValueOptions:
    """A ValueOptions from what simulate() was given: one, a dict of its fields, or None (the
    defaults)."""
    if isinstance(options, dict):
        try:
            return ValueOptions(**options)
        except TypeError as exc:
            raise AccelsimError(f"value_options: {exc}") from None
    if options is not None and not isinstance(options, ValueOptions):
        raise AccelsimError(f"value_options must be a ValueOptions or a dict of its fields, "
                            f"got {type(options).__name__}")
    return options or ValueOptions()


def measure(wl, dev, plans, inputs, options, seed: int, batch: int, on_layer=None):
    """The forward pass, then plans measured by their units.

    Returns (plans, output, skipped, zeroed, agreement, reference): skipped is {layer:
    (actions avoided, tiles not mapped)}; zeroed the weighted layers whose every output
    quantization lost and agreement each weighted layer's product against the exact one
    (ValueRun); reference the float64 reference's output on the same weights and inputs
    (a ReferenceOutput: computed on its first call and kept)."""
    options = resolve_options(options)
    if wl.missing_weights:
        shown = ", ".join(f"'{name}'" for name in wl.missing_weights[:3])
        more = len(wl.missing_weights) - 3
        raise AccelsimError(
            f"{wl.name} was imported without the values of {len(wl.missing_weights)} weight "
            f"tensor(s) ({shown}{f' and {more} more' if more > 0 else ''}: external data not "
            "shipped, or stripped); value mode needs them: put the data file beside the "
            "model, or give the weights with Workload.with_weights()")
    if not any(wl.layers[name].weighted for name in wl.weights):
        wl = wl.with_weights({**seeded_weights(wl, seed), **wl.weights}, wl.biases)
    # One BLAS thread for the forward pass: a multi-threaded BLAS's workers spin on after
    # each call and take the cores from the numba kernels that follow (value-mode BERT-base
    # on cim-16x16: 5.6 s with OpenBLAS's two threads, 4.6 s with one).
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        run = run_values(wl, dev, plans, inputs, options, seed, on_layer)
    skipped = {}
    measured = []
    for plan in plans:
        if plan.name in run.stats:
            plan, *skipped[plan.name] = unit(plan.unit).measured(plan, run.stats[plan.name],
                                                                 dev, batch)
        measured.append(plan)
    return (measured, run.output, skipped, tuple(run.zeroed), run.agreement,
            ReferenceOutput(wl, inputs))


def value_inputs(wl, inputs, batch: int, seed: int):
    """Inputs as [batch, C, H, W] (or a dict of them, one per input layer), the batch size,
    and whether a single image was given without a batch axis. Inputs not given are drawn
    from ``seed``: uniform in [0, 1), or token ids for an input that feeds an embedding."""
    names = [n for n in wl.order if wl.layers[n].kind == "input"]
    if not isinstance(inputs, dict):
        if inputs is not None and len(names) > 1:
            raise AccelsimError(f"the workload has {len(names)} input layers "
                                f"({', '.join(names)}); give inputs as a dict by name")
        inputs = {names[0]: inputs} if inputs is not None else {}
    unknown = sorted(set(inputs) - set(names))
    if unknown:
        raise AccelsimError(f"inputs given for {', '.join(unknown)}, which is not an input "
                            f"layer (input layers: {', '.join(names)})")
    rng = np.random.default_rng(seed)
    arrays, single, given = {}, False, None
    for name in names:
        shape = tuple(wl.shapes[name])
        if name not in inputs or inputs[name] is None:
            arrays[name] = None
            continue
        try:
            if np.iscomplexobj(inputs[name]):
                raise TypeError("they are complex; value mode takes real numbers")
            array = np.asarray(inputs[name], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise AccelsimError(f"inputs of '{name}' are not an array of numbers: "
                                f"{str(exc)[:100]}") from None
        bad = array.size - int(np.isfinite(array).sum())
        if bad:
            raise AccelsimError(f"inputs of '{name}' hold {bad:,} values that are not finite "
                                "(inf or NaN); value mode needs finite inputs")
        single = array.shape == shape
        if single:
            array = array[None]
        if array.ndim != 4 or array.shape[1:] != shape:
            label = "inputs" if len(names) == 1 else f"inputs of '{name}'"
            raise AccelsimError(f"{label} must have shape {shape} or (batch, "
                                f"{', '.join(map(str, shape))}), got {array.shape}")
        if given not in (None, array.shape[0]):
            raise AccelsimError("every input layer needs the same batch size")
        given = array.shape[0]
        arrays[name] = array
    if given is not None and batch not in (1, given):
        raise AccelsimError(f"batch={batch} but {given} inputs were given")
    batch = given or batch
    for name in names:
        if arrays[name] is None:
            # token ids for an input that indexes an embedding table, else uniform [0, 1)
            rows = [wl.layers[n].rows for n in wl.consumers(name)
                    if wl.layers[n].kind == "embedding"]
            arrays[name] = (rng.integers(0, min(rows), (batch, *wl.shapes[name])).astype(
                np.float64) if rows else rng.random((batch, *wl.shapes[name])))
    return (arrays[names[0]] if len(names) == 1 else arrays), batch, single


def seeded_weights(wl, seed: int) -> dict[str, np.ndarray]:
    """random_weights(wl, seed), drawn once for each seed and sequence of weighted layers'
    names and shapes (all that the draws depend on) while they fit WEIGHT_CACHE_BYTES;
    the arrays are read-only."""
    key = (int(seed), tuple((name, weight_shape(wl, name)) for name in wl.order
                            if wl.layers[name].weighted))
    with _WEIGHTS_LOCK:
        if key in _WEIGHTS:
            _WEIGHTS.move_to_end(key)
            return _WEIGHTS[key]
    weights = random_weights(wl, seed)
    if sum(array.nbytes for array in weights.values()) > WEIGHT_CACHE_BYTES:
        return weights
    for array in weights.values():
        array.flags.writeable = False
    with _WEIGHTS_LOCK:
        _WEIGHTS[key] = weights
        while sum(array.nbytes for kept in _WEIGHTS.values()
                  for array in kept.values()) > WEIGHT_CACHE_BYTES:
            _WEIGHTS.popitem(last=False)
    return weights
