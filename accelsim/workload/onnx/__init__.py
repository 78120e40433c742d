"""ONNX import: a .onnx file to a Workload with shapes, weights and constants.

Needs the ``onnx`` package (``pip install 'accelsim[onnx]'``). The first axis of the inputs
is the batch: a symbolic one is taken as 1, a file exported with N images maps to
``Workload.batch = N`` (the default batch of ``simulate``). Inside the graph the batch axis is
an ordinary axis: Reshape, Flatten and Transpose may merge it or move it, as long as every
image's data stays a contiguous block of the first axis (for one image, always). Other axes
must be static.

How ONNX tensors become accelsim tensors. An accelsim tensor is (channels, height, width): each
of the height·width positions holds one vector of channels. Every ONNX tensor X (one image,
batch axis dropped) is kept as an accelsim layer plus a permutation P of its axes, meaning the
layer's data, read in row-major order, is ``X.transpose(P)`` in row-major order. So Transpose
and most Reshapes move no data: they only change P. Each operation asks for its inputs in the
layout it computes in (a matrix product wants the contracted axis as channels; a conv wants
(C, H, W)); when the data is not already in that order, a Reshape layer that really permutes
it is inserted, and is costed as a buffer read and write of the tensor.

Folded on import: BatchNormalization into the preceding conv or linear layer, a bias Add into
the preceding conv or linear layer, activations into the layer before them, and every node
whose inputs are all constants (with onnx's reference evaluator), such as shape arithmetic.

Safety: the model's external data must lie inside the model's folder (no absolute paths, no
"..", no symlinks leading out); tensor sizes are checked against their dimensions before any
is read; cycles, subgraphs and absurd dimensions are refused with an error naming the node.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accelsim.errors import SpecError
from accelsim.workload.graph import Workload
from accelsim.workload.onnx.cut import prepared
from accelsim.workload.onnx.importer import Importer

__all__ = ["from_onnx_layout", "load_onnx", "to_onnx_layout"]


def load_onnx(path: str | Path, *, unsupported: str = "error",
              input_shapes: dict[str, list[int]] | None = None,
              inputs: list[str] | None = None, outputs: list[str] | None = None,
              progress: bool = False) -> Workload:
    """A Workload from an ONNX file.

    unsupported: "error" (default) refuses an operation accelsim does not model, naming it;
    "digital" counts it as one digital operation per output element (value mode then cannot
    run the network). input_shapes: {graph input: full shape} for inputs with symbolic axes.
    outputs: tensor names to end the graph at (the network up to them, e.g. a detector's heads
    without its post-processing); the default is the graph's own outputs. inputs: tensor
    names to start it at, each taken as a graph input of its inferred type and shape (host
    work on token ids left out); the default is the graph's own inputs.
    progress: a progress bar over the graph's nodes on standard error.
    """
    if unsupported not in ("error", "digital"):
        raise SpecError(str(path), "", f"unsupported must be 'error' or 'digital', got "
                        f"{unsupported!r}")
    path = Path(path)
    model = prepared(path, inputs=inputs, outputs=outputs, input_shapes=input_shapes)
    from accelsim.progress import Steps
    with Steps(progress) as steps:
        on_node = steps.phase(f"importing {path.name}", len(model.graph.node))
        return Importer(model, path, unsupported, on_node).run()


def to_onnx_layout(workload: Workload, layer: str, array: np.ndarray) -> np.ndarray:
    """An accelsim output [batch, C, H, W] of ``layer`` in its ONNX tensor's shape (a tensor
    whose first axis merges the batch gets the images stacked along it)."""
    onnx_name, shape, perm, batched = workload.layouts[layer]
    batch = array.shape[0]
    moved = np.asarray(array).reshape(batch, *(shape[p] for p in perm))
    moved = moved.transpose(0, *(int(i) + 1 for i in np.argsort(perm)))
    return moved if batched else moved.reshape(batch * shape[0], *shape[1:])


def from_onnx_layout(workload: Workload, layer: str, array: np.ndarray) -> np.ndarray:
    """An ONNX input tensor (batch first, or stacked along its first axis) as accelsim input
    [batch, C, H, W] for ``layer``."""
    _, shape, perm, batched = workload.layouts[layer]
    array = np.asarray(array)
    images = array.shape[0] if batched else array.shape[0] // shape[0]
    moved = array.reshape(images, *shape).transpose(0, *(p + 1 for p in perm))
    return moved.reshape(images, *workload.shapes[layer])
