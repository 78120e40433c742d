"""The mapping pipeline: assign -> plan -> spill -> place -> route, then lower (mapping.lower).

1. assign: which unit runs each conv and linear layer (mapping.assign).
2. plan: every layer planned by its unit (the hardware registry), plus a DRAM load of the
   inputs and a store of each output; where activations live is settled first
   (mapping.memory.residency), so the load, the store and systolic operands move only what the
   buffer cannot hold.
3. spill: DRAM stages where an intermediate output does not fit (mapping.memory).
   (Value mode measures here, between planning and placement: tiles of zero weights are
   never placed.)
4. place: crossbar parts onto the chip's tiles, in layer groups (mapping.place); siblings
   that read the same inputs share their transfers (mapping.siblings).
5. route: on a mesh, transfers cross their links (mapping.route).
"""

from __future__ import annotations

import math
from collections import ChainMap
from dataclasses import dataclass

from accelsim.errors import MappingError
from accelsim.hardware.context import PlanContext, Residency
from accelsim.hardware.digital import view_plan
from accelsim.hardware.dram import load_plan, store_plan
from accelsim.hardware.plan import LayerPlan, UnitKind, copied
from accelsim.hardware.pricing import energy_per_action, resolve
from accelsim.hardware.registry import unit, units
from accelsim.hardware.systolic import fold_cost, layer_weight_bytes, merges_batch
from accelsim.mapping.assign import Assigner, assign_units
from accelsim.mapping.memory import layer_by_layer, residency, with_spills
from accelsim.mapping.place import Placement, place, shared_arrays
from accelsim.mapping.route import with_mesh
from accelsim.mapping.siblings import shared_inputs
from accelsim.spec.device import DeviceSpec
from accelsim.workload.graph import Workload
from accelsim.workload.layers import Input, Pad2d


@dataclass(frozen=True)
class Mapping:
    """The plans of every layer in topological order (then the output stores) and where the
    crossbar parts sit on the chip."""

    plans: list[LayerPlan]
    placement: Placement


def map_workload(workload: Workload, device: DeviceSpec, *, policy: str = "rules",
                 assign: dict[str, str] | None = None, batch: int = 1,
                 execution: str = "pipelined") -> Mapping:
    """Run the whole pipeline (see the module docstring)."""
    device = resolve(device)
    return place_and_route(plan_workload(workload, device, policy=policy, assign=assign,
                                         batch=batch, execution=execution), device,
                           execution=execution)


def plan_workload(workload: Workload, device: DeviceSpec, *, policy: str = "rules",
                  assign: dict[str, str] | None = None, batch: int = 1,
                  execution: str = "pipelined", merge: bool = True) -> list[LayerPlan]:
    """Assign, plan and spill: plans for every layer in topological order, plus a final DRAM
    store of each output. ``device`` may hold 'auto' figures (they are worked out here).
    ``execution="layer_by_layer"``: every intermediate tensor also goes through DRAM
    (mapping.memory.layer_by_layer). ``merge=False``: no systolic layer merges the batch
    (each runs image by image; see hardware.systolic.merges_batch)."""
    device = resolve(device)
    ctx = PlanContext(workload, device, batch, merge)
    chosen = assign_units(ctx, policy=policy, assign=assign or {})
    batched = {name for name, (name_of_unit, _) in chosen.items()
               if merge and unit(name_of_unit).name == UnitKind.SYSTOLIC
               and merges_batch(workload, device, batch, name)}
    if execution == "layer_by_layer":
        return _one_at_a_time(ctx, chosen, batched)
    return _planned(ctx, chosen, _worth_merging(workload, device, batch, batched), execution)


def _planned(ctx: PlanContext, chosen: dict[str, tuple[str, str]], batched: set[str],
             execution: str) -> list[LayerPlan]:
    """Residency, each layer's plan, staged weights, output stores and DRAM spills (and
    layer by layer, every tensor through DRAM) for ``ctx``'s workload."""
    workload, device, batch = ctx.wl, ctx.dev, ctx.batch
    ctx.held = residency(workload, device, batch=batch, batched=batched)
    plans = [_plan_layer(ctx, name, *chosen.get(name, ("", ""))) for name in workload.order]
    reserved = _weights_to_stage(ctx, plans, chosen, batched)
    if reserved:
        before, ctx.held = ctx.held, residency(workload, device, batch=batch, batched=batched,
                                               reserved=reserved)
        plans = [_plan_layer(ctx, name, *chosen.get(name, ("", "")))
                 if _held_changed(before, ctx.held, workload, name) else plan
                 for name, plan in zip(workload.order, plans)]
    plans += _stores(ctx)
    plans = with_spills(plans, workload, device, ctx.held)
    if execution == "layer_by_layer":
        plans = layer_by_layer(plans, workload, device, ctx.held)
    return plans


def _stores(ctx: PlanContext) -> list[LayerPlan]:
    """A final DRAM store of each network output."""
    sinks, plans = ctx.wl.sinks, []
    for sink in sinks:
        name = "output" if len(sinks) == 1 else f"output:{sink}"
        while name in ctx.wl.layers:          # a layer may itself be called "output"
            name += " (store)"
        plans.append(store_plan(ctx, sink, name))
    return plans


def _one_at_a_time(ctx: PlanContext, chosen: dict[str, tuple[str, str]],
                   batched: set[str]) -> list[LayerPlan]:
    """Layer by layer (the assumption of ZigZag and Timeloop) each layer has the chip to
    itself: it reads its inputs from DRAM and writes its output there. So each is planned
    as a network of its own, its inputs that network's inputs and its output its output
    (buffer room, spills, staged weights and streamed operands all as for that network),
    and a network costs the sum of its layers. Views, and the network's own input loads
    and output stores (which the layers' transfers replace), are planned on the whole."""
    workload, device, batch = ctx.wl, ctx.dev, ctx.batch
    ctx.held = residency(workload, device, batch=batch, batched=batched)
    plans = []
    for name in workload.order:
        layer = workload.layers[name]
        if isinstance(layer, Input) or layer.aliases_input:
            plans.append(layer_by_layer([_plan_layer(ctx, name, "", "")], workload, device,
                                        ctx.held)[0])
            continue
        alone = PlanContext(_alone(workload, name), device, batch, ctx.merge)
        alone.memo = ctx.memo           # plans shared by alike layers depend on no context
        own = _planned(alone, chosen, batched & {name}, "layer_by_layer")
        plans.append(next(plan for plan in own if plan.name == name))
    return plans + layer_by_layer(_stores(ctx), workload, device, ctx.held)


def _alone(workload: Workload, name: str) -> Workload:
    """Layer ``name`` as a network of its own: each tensor it reads is an input of that
    network (the network's own inputs and constants as they are). A padding view stays, on
    the tensor it pads: the padding is not stored, so DRAM holds only that tensor."""
    layers: dict[str, object] = {}

    def read(source: str) -> None:
        if source in layers:
            return
        layer = workload.layers[source]
        if isinstance(layer, Pad2d):
            read(layer.inputs[0])
            layers[source] = layer
        else:
            layers[source] = (layer if isinstance(layer, Input)
                              else Input(source, shape=workload.shapes[source]))

    for source in workload.layers[name].inputs:
        read(source)
    ordered = sorted(layers.values(), key=lambda layer: not isinstance(layer, Input))
    return Workload.from_layers(workload.name, [*ordered, workload.layers[name]],
                                validated=True)


def _worth_merging(workload: Workload, device: DeviceSpec, batch: int,
                   batched: set[str]) -> set[str]:
    """The systolic layers that merge the batch, less those whose merging costs more DRAM
    traffic across the network than the weight fetches it saves.

    merges_batch judges a layer by its own working set. Merging also keeps the layer's input
    and output tensors live for every image, so its producer and its consumers may spill
    too (a row-stationary conv merged in small-cnn on eyeriss made its neighbours' tensors
    spill: batch 2 cost 2.27x batch 1). Per image, a tensor's share in DRAM is written once
    and read by each consumer; merging saves (batch - 1) / batch of the layer's weight bytes.
    Each merged layer, in order, runs image by image instead when that lowers the
    total. (Layer by layer every tensor goes to DRAM and back whole whatever is merged, so
    there the layers' own test stands.)"""
    if batch <= 1 or not batched:
        return batched
    readers = {name: 1 + len(workload.consumers(name)) for name in workload.order
               if not workload.layers[name].aliases_input}
    saving = {name: (batch - 1) / batch * layer_weight_bytes(workload, device, name)
              for name in batched}

    def cost(chosen: set[str]) -> float:
        held = residency(workload, device, batch=batch, batched=chosen)
        return (sum(held.dram_bytes[name] * count for name, count in readers.items())
                - sum(saving[name] for name in chosen))

    kept = set(batched)
    best = cost(kept)
    for name in [name for name in workload.order if name in batched]:
        trial = kept - {name}
        value = cost(trial)
        if value < best:
            kept, best = trial, value
    return kept


def _weights_to_stage(ctx: PlanContext, plans: list[LayerPlan],
                      chosen: dict[str, tuple[str, str]], batched: set[str]) -> dict[str, float]:
    """Systolic layers whose weights take buffer room from the activations: bytes kept for
    each.

    Weights are staged in the global buffer in the room the layer's activations leave
    (mapping.memory.residency); where the activations overflow it, the weights stream from
    DRAM and every pass or fold that uses a weight reads it again (VGG-16's conv1_2 on
    eyeriss: 112 times). Keeping them instead spills up to their bytes more of the layer's
    output (written to DRAM and read back by each consumer) and leaves less room for input
    windows and slices. Each such layer is planned both ways; the weights are kept where
    that lowers the layer's energy x delay (the row-stationary search's own measure), the
    extra spill's DRAM energy included."""
    workload, device, batch = ctx.wl, ctx.dev, ctx.batch
    held, capacity = ctx.held, ctx.dev.global_buffer.size_bytes
    price = None
    reserved: dict[str, float] = {}
    for plan in plans:
        name = plan.name
        if plan.unit != UnitKind.SYSTOLIC or name not in workload.layers:
            continue
        weight_bytes = layer_weight_bytes(workload, device, name)
        if not held.free_bytes[name] < weight_bytes < capacity:
            continue
        copies = batch if name in batched or batched & set(workload.consumers(name)) else 1
        trial = _keeping(held, workload, device, name, weight_bytes, copies)
        ctx.held = trial
        try:
            staged = _plan_layer(ctx, name, *chosen.get(name, ("", "")))
        except MappingError:
            continue
        finally:
            ctx.held = held
        # the output's extra spill: written once and read back by each consumer
        spilled = (trial.dram_bytes[name] - held.dram_bytes[name]) * batch * 8 * (
            device.dram.write_pj_per_bit + len(workload.consumers(name))
            * device.dram.read_pj_per_bit)
        price = energy_per_action(device) if price is None else price
        energy, cycles = fold_cost(staged, batch, price)
        before = fold_cost(plan, batch, price)
        if (energy + spilled) * cycles < before[0] * before[1]:
            reserved[name] = weight_bytes
    return reserved


def _held_changed(before: Residency, after: Residency, workload: Workload, name: str) -> bool:
    """Whether what layer ``name``'s plan reads of the residency differs: its output's share
    in DRAM, its free and kept room, its inputs' bytes in DRAM."""
    return (before.fraction[name] != after.fraction[name]
            or before.free_bytes[name] != after.free_bytes[name]
            or before.reserved.get(name) != after.reserved.get(name)
            or any(before.dram_bytes[source] != after.dram_bytes[source]
                   for source in workload.layers[name].inputs))


def _keeping(held: Residency, workload: Workload, device: DeviceSpec, name: str,
             weight_bytes: float, copies: int) -> Residency:
    """``held`` with ``weight_bytes`` of the buffer kept for layer ``name``'s weights, as
    residency() would give it for that layer: what its free room lacks spills from its
    output, as far as the output is on chip. Other layers' entries read through unchanged
    (a trial costs no pass over the network)."""
    size = copies * math.prod(workload.shapes[name]) * device.output_bits / 8
    fraction = held.fraction[name]
    extra = min(weight_bytes - held.free_bytes[name], (1.0 - fraction) * size)
    fraction = min(1.0, fraction + extra / size) if size else fraction
    return Residency(ChainMap({name: fraction}, held.fraction),
                     ChainMap({name: fraction * size / copies}, held.dram_bytes),
                     ChainMap({name: weight_bytes}, held.free_bytes), held.producers,
                     ChainMap({name: weight_bytes}, held.reserved))


def place_and_route(plans: list[LayerPlan], device: DeviceSpec, *,
                    execution: str = "pipelined") -> Mapping:
    """Place the crossbar parts (once), let siblings on a bus share their input transfers
    (pipelined; mapping.siblings), then route the transfers over a mesh."""
    placement = place(plans, device.cim.tiles if device.cim else 0,
                      device.cim.rows if device.cim else 0)
    if execution != "layer_by_layer" and device.interconnect.kind == "bus":
        plans = shared_inputs(plans, placement)
    plans = shared_arrays(plans, placement)
    return Mapping(with_mesh(plans, device, placement), placement)


def _plan_layer(ctx: PlanContext, name: str, unit_name: str, reason: str) -> LayerPlan:
    layer = ctx.wl.layers[name]
    if layer.weighted:
        return copied(unit(unit_name).plan(ctx, name), reason=reason)
    if isinstance(layer, Input):
        return load_plan(ctx, name)
    if layer.aliases_input:
        return view_plan(ctx, name)
    for candidate in units(ctx.dev):
        if candidate.claims(layer, ctx.dev):
            return candidate.plan(ctx, name)
    return unit(UnitKind.DIGITAL).plan(ctx, name)      # raises: no unit runs this layer


__all__ = ["Assigner", "Mapping", "map_workload", "place_and_route", "plan_workload"]
