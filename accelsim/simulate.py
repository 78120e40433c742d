"""simulate(): device spec + workload -> plans -> Program -> engine -> energy ledger -> Result."""

from __future__ import annotations

import gc
import math
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from accelsim.choices import check_options
from accelsim.errors import AccelsimError, AccelsimWarning
from accelsim.hardware.plan import LayerPlan
from accelsim.hardware.pricing import resolve
from accelsim.kernels.options import ValueOptions
from accelsim.mapping.lower import (
    BYTES_PER_EDGE,
    BYTES_PER_SUBTASK,
    BYTES_PER_TASK,
    footprint,
    lower,
)
from accelsim.mapping.plan import place_and_route, plan_workload
from accelsim.progress import Steps
from accelsim.results.build import build_result
from accelsim.results.result import Result, zeroed_message
from accelsim.spec.device import DeviceSpec
from accelsim.spec.load import load_device
from accelsim.values.measure import measure, resolve_options, value_inputs
from accelsim.values.zeros import apply_input_zeros
from accelsim.workload.graph import Workload
from accelsim.workload.load import load_workload


def simulate(workload: Workload | str | Path | dict, device: DeviceSpec | str | Path | dict, *,
             batch: int | None = None, mode: str = "fast", execution: str = "pipelined",
             max_steps: int = 2048,
             preload_weights: bool = True, policy: str = "rules",
             assign: dict[str, str] | None = None, trace: bool = False,
             values: bool = False, inputs: Any = None, seed: int = 0,
             value_options: ValueOptions | dict | None = None,
             memory_limit_gib: float | None = None, progress: bool = False,
             input_zeros: float | dict[str, float] | None = None) -> Result:
    """Simulate ``batch`` images of ``workload`` on ``device``.

    batch: images per run (default: the workload's own, ``Workload.batch``: the batch an
        ONNX file was exported with, else 1).

    workload: a Workload, zoo name, shipped workload name, YAML or ONNX path, or a dict as
        read from a workload YAML file.
    device: a DeviceSpec, shipped device name, YAML path, or a dict as read from one.
    mode: "fast" (default; up to ``max_steps`` steps of vectors per layer, shared by its
        parts and the batch's images) or "reference" (one event per tile MVM per input
        vector; for validation, much slower).
    execution: "pipelined" (default: layers overlap on chip, activations stay in the global
        buffer as far as they fit) or "layer_by_layer" (one layer at a time, for the whole
        batch; every intermediate activation is written to DRAM and read back, as ZigZag
        and Timeloop assume). Comparing the two shows what on-chip pipelining saves.
    preload_weights: weights that stay in their tiles from image to image (all of them when
        the network fits on the chip) are taken as already written and their one-time cost
        is reported apart (``one_time_programming_pj``); the tiles that layer groups share
        are rewritten in the run, and counted. When False, every write is simulated and
        counted (layer by layer, also whenever the network does not fit).
        Layers on a systolic array always fetch their weights from DRAM (once per batch).
    policy: which unit runs each conv/linear layer on a device with both crossbars and a
        systolic array: "rules" (depthwise convs digital, the rest on crossbars), "energy",
        "latency", "edp" (per-layer estimates), "cim" or "systolic" (forced).
    assign: per-layer overrides, {"layer name": "cim" | "systolic"}.
    trace: keep every task's timing so ``Result.to_trace(path)`` can write a timeline.
    memory_limit_gib: refuse, before building anything, a run whose estimated memory
        (tasks and dependencies of the event simulation, value mode's activations) exceeds
        this (default: $ACCELSIM_MEMORY_LIMIT_GIB, else 4 GiB or half the machine's memory,
        whichever is less). The error gives the estimate and what to change.
    values: run real numbers (see accelsim.values): ``inputs`` is one image (C, H, W) or a
        batch (B, C, H, W) (default: uniform random in [0, 1) from ``seed``); a workload
        without weights gets seeded He-normal ones. The network's output is
        ``Result.output``, and crossbar counts and MVM cycles come from the data (input-zero
        skipping, gating, unmapped zero tiles: the device's policies). ``value_options``: a
        ValueOptions or a dict of its fields (ADC bits, range, noise, ...).
    input_zeros: without values, the share of zero input values of layers on a systolic
        array, for its zero policy (gating saves energy, skipping cycles too): one fraction
        for every such layer, or {layer: fraction}; weights are taken as dense, and the share
        of MACs that meet a zero input as the share given (a conv's padding, which value
        mode counts as zeros too, is not added). A published activation statistic, or a
        what-if; value mode measures zeros from the data instead.
        The avoided actions are reported as ``Result.skipped``.
    progress: show progress bars on standard error (value mode, lowering, the event loop);
        the command line turns this on on a terminal. Off by default: the library never
        prints unless asked.
    Returns a Result; times are clock cycles, energies pJ. Python's cyclic garbage collector
    is paused during the call (it resumes as it was; reference counting frees as usual).
    """
    began = time.perf_counter()
    check_options(mode=mode, execution=execution, batch=batch, max_steps=max_steps, seed=seed,
                  values=values, trace=trace, preload_weights=preload_weights, assign=assign,
                  input_zeros=input_zeros)

    def run() -> Result:
        """The simulation. A function of its own, so that the plans and the program are
        freed when it returns, before the collector resumes (it would scan them once)."""
        nonlocal batch, inputs
        wl = load_workload(workload)
        batch = wl.batch if batch is None else batch
        dev = resolve(load_device(device))      # every 'auto' figure worked out (and checked)
        single = False
        options, value_run = None, None
        if values:
            options = resolve_options(value_options)      # refused before any work
            value_run = {"seed": seed, **asdict(options)}
            inputs, batch, single = value_inputs(wl, inputs, batch, seed)
        elif inputs is not None or value_options is not None:
            raise AccelsimError("inputs and value_options need values=True")
        if values and input_zeros is not None:
            raise AccelsimError("input_zeros is for runs without values: value mode measures "
                                "the zeros from the data")
        value_gib = _check_memory_before_planning(wl, dev, batch=batch, values=values,
                                                  limit=memory_limit_gib)
        planned = [plan_workload(wl, dev, policy=policy, assign=assign, batch=batch,
                                 execution=execution)]
        if batch > 1 and _merges_batch(planned[0]):
            planned.append(plan_workload(wl, dev, policy=policy, assign=assign, batch=batch,
                                         execution=execution, merge=False))
        for plans in planned:
            _check_memory(wl, dev, plans, batch=batch, mode=mode, execution=execution,
                          max_steps=max_steps, preload_weights=preload_weights, values=values,
                          limit=memory_limit_gib, fans=not trace, value_gib=value_gib)

        def finish(plans: list, *, run_mode: str, keep: bool, with_values: bool) -> Result:
            output, skipped, zeroed, agreement, reference = None, {}, (), {}, None
            with Steps(progress) as steps:
                if with_values:
                    plans, output, skipped, zeroed, agreement, reference = measure(
                        wl, dev, plans, inputs, options, seed, batch,
                        on_layer=steps.phase(f"value mode, {batch} input(s)", len(wl.order)))
                    if single:          # one image given without a batch axis
                        output, reference = output[0], reference.of_first_image()
                elif input_zeros is not None:
                    plans, skipped = apply_input_zeros(plans, wl, dev, input_zeros, batch)
                mapping = place_and_route(plans, dev, execution=execution)
                lowered = lower(mapping.plans, placement=mapping.placement, batch=batch,
                                mode=run_mode, fans=not keep, max_steps=max_steps,
                                preload_weights=preload_weights,
                                dram_channels=dev.dram.channels, execution=execution,
                                on_layer=steps.phase(f"building the {run_mode}-mode event "
                                                     "graph", len(mapping.plans)))
                steps.phase("event loop", None)
                timeline = lowered.program.run()
            return build_result(wl, dev, mapping.plans, lowered, timeline, batch=batch,
                                mode=run_mode, execution=execution, trace=keep,
                                output=output, skipped=skipped, began=began, zeroed=zeroed,
                                value_run=value_run if with_values else None,
                                agreement=agreement, reference=reference)

        # A batch that systolic layers merge (one pass per fold for every image) may lose more
        # to overlap than the weights it shares save: the batch runs whichever of the merged
        # and the image-by-image schedules has the lower energy x delay in fast mode (the
        # row-stationary search's measure), so every mode and option gets the same schedule.
        simple = mode == "fast" and not trace and not values
        runs = [finish(plans, run_mode="fast", keep=False, with_values=False)
                for plans in planned] if len(planned) > 1 or simple else []
        best = min(range(len(runs)), key=lambda i: runs[i].energy_pj * runs[i].cycles,
                   default=0)
        result = (runs[best] if simple else
                  finish(planned[best], run_mode=mode, keep=trace, with_values=values))
        if result.zeroed_layers:
            warnings.warn(zeroed_message(result), AccelsimWarning, stacklevel=3)
        return result

    with _collector_paused():
        return run()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the duration. Planning and lowering make
    many small objects without cycles, which reference counting frees; each full collection
    would rescan all the live ones (a fifth of the time of a 10,000-layer network)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _merges_batch(plans: list) -> bool:
    """Whether a layer's pass covers several images (a systolic layer merging the batch)."""
    return any(part.images > 1 for plan in plans for part in plan.parts)


def memory_limit_gib(given: float | None = None) -> float:
    """The memory budget of one simulation, GiB: ``given``, else $ACCELSIM_MEMORY_LIMIT_GIB,
    else 4 GiB or half the machine's memory, whichever is less."""
    import os
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, (int, float)) \
                or not math.isfinite(given) or given <= 0:
            raise AccelsimError(f"memory_limit_gib must be a positive number, got {given!r}")
        return float(given)
    text = os.environ.get("ACCELSIM_MEMORY_LIMIT_GIB")
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not math.isfinite(value) or value <= 0:
            raise AccelsimError(f"ACCELSIM_MEMORY_LIMIT_GIB must be a positive number of GiB, "
                                f"got {text!r}")
        return value
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError, AttributeError):
        physical = 8.0
    return min(4.0, physical / 2)


def _value_mode_gib(wl: Workload, dev: DeviceSpec, batch: int) -> float:
    """GiB that value mode holds at its peak, estimated from the shapes."""
    from accelsim.workload.weights import weight_shape
    # Every layer's output is kept (float64), and so is every layer's weight tensor (float64,
    # not per image). At the peak, one layer's work is added: the largest lowered inputs with
    # their quantized copy and bit-planes, or the largest weight tensor's quantized copy and
    # cells (up to 16 bytes a weight). Measured growth of a process's peak memory: VGG-16
    # 1.9-2.1 GiB (this estimate 2.7), BERT-base 0.84 GiB (0.82), ResNet-18 0.16 GiB (0.20).
    weighted = [n for n in wl.order if wl.layers[n].weighted]
    activations = sum(math.prod(wl.shapes[n]) for n in wl.order) * 8
    lowered = max((math.prod(wl.layers[n].matrix(wl.input_shapes(n))[::2])
                   * wl.shapes[n][1] * wl.shapes[n][2] for n in weighted), default=0)
    per_element = 8 + 8 + 4 * (dev.cim.input_cycles if dev.cim else 1)
    sizes = [math.prod(weight_shape(wl, n)) for n in weighted]
    return (batch * activations + 8 * sum(sizes)
            + max(batch * lowered * per_element, 16 * max(sizes, default=0))) / 2 ** 30


# Planning a layer on crossbars holds a few integers per tile (its rows, columns and weights
# used, its part's tile list) and, while a layer is planned, about as much again. Measured
# peaks of whole fast-mode runs of one Linear layer on cim-16x16: 1.6 M tiles 105 bytes a
# tile, 9.8 M tiles 118, 39 M tiles 116.
PLAN_BYTES_PER_TILE = 40
PLAN_PEAK_BYTES_PER_TILE = 80


# The last remedy of every refusal for memory.
_RAISE_LIMIT = ("memory_limit_gib= (CLI: --memory-limit-gib; environment: "
                "ACCELSIM_MEMORY_LIMIT_GIB) if the machine has the memory")


def _check_memory_before_planning(wl: Workload, dev: DeviceSpec, *, batch: int, values: bool,
                                  limit: float | None) -> float:
    """Refuse, before planning, a run whose crossbar tiles (every weighted layer's, as if all
    went to crossbars) or value-mode tensors alone exceed the budget. Returns value mode's
    GiB (0 without values), for _check_memory."""
    budget = memory_limit_gib(limit)
    from accelsim.hardware.tiling import tile_count
    tiles: dict[str, int] = {}
    if dev.cim is not None:
        cim = dev.cim
        for name in wl.order:
            if wl.layers[name].weighted:
                k, n, groups = wl.layers[name].matrix(wl.input_shapes(name))
                tiles[name] = tile_count(k, n, groups, rows=cim.rows, cols=cim.cols,
                                         cells_per_weight=cim.cells_per_weight)
    largest = max(tiles, key=tiles.__getitem__, default="")
    planning = (PLAN_BYTES_PER_TILE * sum(tiles.values())
                + PLAN_PEAK_BYTES_PER_TILE * tiles.get(largest, 0)) / 2 ** 30
    need_values = _value_mode_gib(wl, dev, batch) if values else 0.0
    if planning + need_values <= budget:
        return need_values
    what = []
    if largest and planning > budget / 10:
        what.append(f"{planning:.1f} GiB to plan {sum(tiles.values()):,} crossbar tiles, "
                    f"{tiles[largest]:,} of them for layer '{largest}'")
    if need_values:
        what.append(f"{need_values:.1f} GiB of activations and weights for value mode")
    advice = (["values=False (the counts without carrying values)"]
              if need_values > planning else ["a device with larger or more crossbars"])
    advice.append(_RAISE_LIMIT)
    raise AccelsimError(f"{wl.name} on {dev.name} needs about {planning + need_values:.1f} GiB "
                        f"({', and '.join(what)}), more than the limit of {budget:.1f} GiB; "
                        "use " + ", or ".join(advice))


def _check_memory(wl: Workload, dev: DeviceSpec, plans: list[LayerPlan], *, batch: int,
                  mode: str, execution: str, max_steps: int, preload_weights: bool, values: bool,
                  limit: float | None, fans: bool = True, value_gib: float = 0.0) -> None:
    """Refuse a run whose estimated memory exceeds the budget, saying what to change.
    ``value_gib``: value mode's own GiB (_check_memory_before_planning's estimate)."""
    budget = memory_limit_gib(limit)
    tasks, edges, subtasks = footprint(plans, chip_tiles=dev.cim.tiles if dev.cim else 0,
                                       batch=batch, mode=mode, max_steps=max_steps,
                                       preload_weights=preload_weights, execution=execution,
                                       fans=fans)
    # Value mode keeps each tile MVM's measured cycles as well.
    need = (tasks * BYTES_PER_TASK + edges * BYTES_PER_EDGE
            + subtasks * (BYTES_PER_SUBTASK + 8 * values)) / 2 ** 30
    need_values = value_gib if values else 0.0
    what = f"{tasks:,} tasks and {edges:,} dependencies of the event simulation"
    if subtasks:
        what = (f"{tasks:,} tasks ({subtasks:,} tile MVMs) and {edges:,} dependencies of the "
                "event simulation")
    if values:
        need += need_values
        what += f", and {need_values:.1f} GiB of activations and weights for value mode"
    if need > budget:
        advice = ["a smaller batch"] if batch > 1 else []
        if values and need_values > need / 2:
            advice.append("values=False (the counts without carrying values)")
        if mode == "reference":
            advice.append("mode='fast'")
        elif max_steps > 64:
            advice.append("a smaller max_steps")
        advice.append(_RAISE_LIMIT)
        raise AccelsimError(f"{wl.name} on {dev.name} at batch {batch} in {mode} mode needs "
                            f"about {need:.1f} GiB ({what}), more than the limit of "
                            f"{budget:.1f} GiB; use " + ", or ".join(advice))
