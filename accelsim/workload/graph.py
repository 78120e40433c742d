"""The Workload: a validated, shape-annotated DAG of layers (``Workload.graph`` gives it as a
networkx.DiGraph).

Validation happens once, at construction: unknown inputs, cycles, disconnected parts and shapes
that do not chain all raise WorkloadError naming the layer. It needs no networkx (whose import
costs about 0.2 s of every command): networkx is imported to name a cycle or a stray part in
the error, and when ``graph`` is first asked for.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from accelsim.errors import SpecError, WorkloadError
from accelsim.spec.validate import build
from accelsim.workload.layers import ACTIVATIONS, Input, Layer, Shape

if TYPE_CHECKING:
    import networkx as nx

MAX_ELEMENTS = 2 ** 36     # per layer output and image: far beyond any network, inside int64
MAX_MACS = 2 ** 50         # per layer and image


@dataclass(frozen=True)
class Workload:
    """A network to simulate. Build with :class:`WorkloadBuilder` or :func:`load_workload`."""

    name: str
    order: tuple[str, ...]       # topological, from the graph alone (see _topological_order)
    layers: dict[str, Layer] = field(repr=False)    # as listed; figures follow ``order``
    shapes: dict[str, Shape] = field(repr=False)  # output shape of each layer
    weights: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    biases: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    # Imported models: {layer: (ONNX tensor name, per-image ONNX shape, permutation)} for the
    # input and output layers (see workload.onnx.to_onnx_layout).
    layouts: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)
    # Imported graph-only: the weight tensors whose values were not in the file (their
    # external data file was not shipped, or they were stripped). Timing and energy do not
    # need them; value mode does, and refuses the workload until with_weights() gives them.
    missing_weights: tuple[str, ...] = field(default=(), repr=False, compare=False)
    # Images per inference as the source file has them (an ONNX export at batch 8): the
    # batch ``simulate`` runs when it is not given one. Layers and shapes are per image.
    batch: int = field(default=1, compare=False)

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The layers as a networkx DiGraph (an edge from each input to its consumer)."""
        return _digraph(list(self.layers.values()))

    @cached_property
    def _consumers(self) -> dict[str, tuple[str, ...]]:
        consumers: dict[str, list[str]] = {name: [] for name in self.layers}
        for name in self.order:
            for source in dict.fromkeys(self.layers[name].inputs):
                consumers[source].append(name)
        return {name: tuple(names) for name, names in consumers.items()}

    def consumers(self, layer_name: str) -> tuple[str, ...]:
        """The layers that read ``layer_name``'s output (graph.successors, without networkx)."""
        return self._consumers[layer_name]

    @property
    def sinks(self) -> list[str]:
        """The layers nothing reads, in topological order."""
        return [name for name in self.order if not self._consumers[name]]

    def with_weights(self, weights: dict, biases: dict | None = None) -> Workload:
        """A copy holding these weights (PyTorch shapes; see accelsim.workload.weights)."""
        from dataclasses import replace

        from accelsim.workload.weights import check_weights
        checked, checked_biases = check_weights(self, weights, biases or {})
        return replace(self, weights=checked, biases=checked_biases, missing_weights=())

    @classmethod
    def from_layers(cls, name: str, layers: list[Layer], *,
                    source: str | None = None, validated: bool = False) -> Workload:
        """Validate ``layers`` (inputs given by name) into a Workload.

        ``source`` (a file name) is added to error messages. ``validated``: the layers have
        passed their types' field validation already (read from YAML, or built by the zoo),
        so it is not repeated.
        """
        label = f"{source} ({name})" if source else name
        by_name: dict[str, Layer] = {}
        for layer in layers:
            if not isinstance(layer.name, str) or not layer.name.strip():
                raise WorkloadError(label, f"a layer's name must be a non-empty string, got "
                                           f"{layer.name!r} (a {type(layer).__name__} layer)")
            if layer.name in by_name:
                raise WorkloadError(label, "two layers share this name", layer=layer.name)
            by_name[layer.name] = layer
        if not by_name:
            raise WorkloadError(label, "the workload has no layers")
        for layer in layers:
            if not validated:
                _validate(label, layer)
            low, high = layer.arity
            if not low <= len(layer.inputs) <= high:
                need = f"{low}" if low == high else f"{low} to {high}"
                raise WorkloadError(label, f"a {layer.kind} layer takes {need} inputs, got "
                                    f"{len(layer.inputs)}", layer=layer.name)
            for source in layer.inputs:
                if source not in by_name:
                    raise WorkloadError(label, f"input '{source}' is not a layer of this workload",
                                        layer=layer.name)
            _check_activation(label, layer)
        order = _topological_order(layers)
        if order is None:
            import networkx as nx
            edges = nx.find_cycle(_digraph(layers))
            cycle = " -> ".join([edge[0] for edge in edges] + [edges[0][0]])
            raise WorkloadError(label, f"the layer graph has a cycle: {cycle}",
                                layer=edges[0][0])
        if not any(isinstance(layer, Input) for layer in layers):
            raise WorkloadError(label, "the workload has no input layer")
        if not _connected(layers):
            import networkx as nx
            parts = list(nx.weakly_connected_components(_digraph(layers)))
            first = layers[0].name
            stray = sorted(n for part in parts if first not in part for n in part)
            raise WorkloadError(label, "the layer graph is not connected: "
                                f"{', '.join(stray[:5])} not linked to '{first}'",
                                layer=stray[0])
        shapes: dict[str, Shape] = {}
        for layer_name in order:
            layer = by_name[layer_name]
            in_shapes = [shapes[s] for s in layer.inputs]
            try:
                shape = layer.output_shape(in_shapes)
                layer.macs(in_shapes)
            except ValueError as exc:
                raise WorkloadError(label, str(exc), layer=layer_name) from None
            if min(shape) < 1:
                raise WorkloadError(label, f"output shape {shape} is empty", layer=layer_name)
            if math.prod(shape) > MAX_ELEMENTS or layer.macs(in_shapes) > MAX_MACS:
                raise WorkloadError(label, f"output {shape} with {layer.macs(in_shapes):,} MACs "
                                    f"is beyond what accelsim simulates ({MAX_ELEMENTS:,} "
                                    f"elements and {MAX_MACS:,} MACs per layer)",
                                    layer=layer_name)
            shapes[layer_name] = tuple(int(s) for s in shape)
        return cls(name=name, order=order, layers=by_name, shapes=shapes)

    def input_shapes(self, layer_name: str) -> list[Shape]:
        return [self.shapes[s] for s in self.layers[layer_name].inputs]

    def unpadded(self, name: str) -> tuple[str, tuple[int, int, int, int]]:
        """The tensor a chain of padding views (Pad layers) ending at ``name`` shows, and the
        (top, left, bottom, right) padding they add: consumers supply it as they read, so it
        is never stored."""
        pads = [0, 0, 0, 0]
        while self.layers[name].kind == "pad2d":
            pads = [a + b for a, b in zip(pads, self.layers[name].pads)]
            name = self.layers[name].inputs[0]
        return name, tuple(pads)

    def stored_elements(self, name: str) -> int:
        """Elements of the tensor ``name`` as stored (a padding view holds what it pads)."""
        return math.prod(self.shapes[self.unpadded(name)[0]])

    def layer_macs(self, layer_name: str) -> int:
        return self.layers[layer_name].macs(self.input_shapes(layer_name))

    @cached_property
    def macs(self) -> int:
        """Multiply-accumulates per image (weighted layers and products of activations;
        worked out once: the workload is frozen)."""
        return sum(self.layer_macs(n) for n in self.order)

    @property
    def weight_count(self) -> int:
        """Number of weights in all weighted layers."""
        total = 0
        for n in self.order:
            layer = self.layers[n]
            if layer.weighted:
                k, cols, groups = layer.matrix(self.input_shapes(n))
                total += k * cols * groups
        return total

    def __len__(self) -> int:
        return len(self.order)


class WorkloadBuilder:
    """Builds a layer list; each added layer takes the previous one as input unless told."""

    def __init__(self, name: str):
        self.name = name
        self.layers: list[Layer] = []

    @property
    def last(self) -> str:
        return self.layers[-1].name

    def add(self, cls: type[Layer], name: str, *, inputs: tuple[str, ...] | list[str] | None = None,
            **params) -> str:
        if inputs is None:
            inputs = (self.last,) if self.layers and cls is not Input else ()
        self.layers.append(cls(name=name, inputs=tuple(inputs), **params))
        return name

    def build(self, *, validated: bool = False) -> Workload:
        """The workload (``validated``: as Workload.from_layers)."""
        return Workload.from_layers(self.name, self.layers, validated=validated)


def _topological_order(layers: list[Layer]) -> tuple[str, ...] | None:
    """The layers in an order that depends on the graph alone, not on how it was listed;
    None if there is a cycle. Inputs are known layers.

    Among the layers whose inputs are all placed, the one with the longest chain of layers
    still ahead of it (to any output) comes first: the critical path first, as list
    schedulers rank their tasks. Placement fills tiles in this order and the engine serves
    queues by it, so two listings of one graph (a downsample written before or after its
    block's convs, q/k/v in any order, an exporter's node order) give the same figures.
    Layers tied on that are ordered by their own parameters, then by the chain behind them
    (the shorter first) and by the input slots they feed (a matmul's first operand before
    its second); only layers alike in all of these (interchangeable) by where they were
    listed."""
    position = {layer.name: i for i, layer in enumerate(layers)}
    consumers: list[list[int]] = [[] for _ in layers]
    waiting = [0] * len(layers)
    for i, layer in enumerate(layers):
        for source in dict.fromkeys(layer.inputs):
            consumers[position[source]].append(i)
            waiting[i] += 1
    # A first pass (by list position) finds a cycle and the order to work out the chains in.
    n = len(layers)
    first = _kahn(consumers, list(waiting), list(range(n)))
    if len(first) < n:
        return None
    ahead = [1] * n
    for i in reversed(first):
        for j in consumers[i]:
            if ahead[j] >= ahead[i]:
                ahead[i] = ahead[j] + 1
    # Ready layers are served in one total order: the longest chain ahead first, ties (only
    # between equal chains) by the layers' parameters, chains behind and slots fed.
    served = sorted(range(n), key=ahead.__getitem__, reverse=True)    # stable
    if len(set(ahead)) < n:
        behind, slots = [0] * n, [[] for _ in layers]
        for j in first:
            for slot, source in enumerate(layers[j].inputs):
                behind[j] = max(behind[j], behind[position[source]] + 1)
                slots[position[source]].append(slot)
        start = 0
        for stop in range(1, n + 1):
            if stop == n or ahead[served[stop]] != ahead[served[start]]:
                if stop - start > 1:
                    served[start:stop] = sorted(served[start:stop], key=lambda i: (
                        _signature(layers[i]), behind[i], sorted(slots[i]), i))
                start = stop
    if served == first:     # a chain, or listed in this order already
        return tuple(layers[i].name for i in first)
    rank = [0] * n
    for r, i in enumerate(served):
        rank[i] = r
    return tuple(layers[i].name for i in _kahn(consumers, waiting, rank))


def _kahn(consumers: list[list[int]], waiting: list[int], rank: list[int]) -> list[int]:
    """Kahn's topological sort serving the ready node of least ``rank`` (a permutation)."""
    node = [0] * len(rank)
    for i, r in enumerate(rank):
        node[r] = i
    ready = [rank[i] for i in range(len(rank)) if waiting[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = node[heapq.heappop(ready)]
        order.append(i)
        for j in consumers[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, rank[j])
    return order


def _signature(layer: Layer) -> str:
    """The layer's kind and parameters without its name and inputs (names are the user's)."""
    params = [f"{f.name}={getattr(layer, f.name)!r}" for f in dataclass_fields(layer)
              if f.name not in ("name", "inputs")]
    return f"{layer.kind}({', '.join(params)})"


def _connected(layers: list[Layer]) -> bool:
    """Whether every layer is linked to the first, following edges either way."""
    neighbours: dict[str, list[str]] = {layer.name: [] for layer in layers}
    for layer in layers:
        for source in layer.inputs:
            neighbours[source].append(layer.name)
            neighbours[layer.name].append(source)
    seen = {layers[0].name}
    stack = [layers[0].name]
    while stack:
        for other in neighbours[stack.pop()]:
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return len(seen) == len(layers)


def _digraph(layers: list[Layer]) -> nx.DiGraph:
    """The layers as a networkx DiGraph."""
    import networkx as nx
    graph = nx.DiGraph()
    for layer in layers:
        graph.add_node(layer.name)
        for source in layer.inputs:
            graph.add_edge(source, layer.name)
    return graph


def _check_activation(workload: str, layer: Layer) -> None:
    function = getattr(layer, "activation", None) or (
        layer.function if layer.kind == "activation" else None)
    if function is not None and function not in ACTIVATIONS:
        raise WorkloadError(workload, f"unknown activation '{function}' (known: "
                            f"{', '.join(ACTIVATIONS)})", layer=layer.name)


def _validate(label: str, layer: Layer) -> None:
    """Hold a layer to its type's validation, the one YAML and ONNX layers pass when they are
    read (a layer built in Python has not passed it): raise a WorkloadError naming the field
    it rejects. About 1 µs a layer."""
    fields = {f.name: getattr(layer, f.name) for f in dataclass_fields(layer)}
    try:
        build(type(layer), fields, label)
    except SpecError as exc:
        raise WorkloadError(label, f"{exc.path}: {exc.message}" if exc.path else exc.message,
                            layer=layer.name) from None
