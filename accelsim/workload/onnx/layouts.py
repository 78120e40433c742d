"""Layout arithmetic: ONNX tensors held as accelsim layers plus a permutation of their axes
(see the package docstring)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tensor:
    """An ONNX activation as accelsim holds it: layer, per-image ONNX shape, permutation.

    ``batched``: the ONNX tensor is (N, *shape), its first axis the batch. Otherwise the
    batch is merged into the first axis, as its outermost factor: the ONNX tensor is
    (N * shape[0], *shape[1:]) (a Reshape to [N·S, D] before a Linear, or, for one image, a
    Transpose that moves the batch axis inwards)."""

    layer: str
    shape: tuple[int, ...]
    perm: tuple[int, ...]
    batched: bool = True


def onnx_shape(tensor: Tensor, batch: int) -> tuple[int, ...]:
    """The whole ONNX shape of ``tensor`` for a batch of ``batch`` images."""
    if tensor.batched:
        return (batch, *tensor.shape)
    if not tensor.shape:            # (an entry picked from a 1-D input: a Shape's, say)
        raise Malformed("it gives a scalar (rank-0) activation, which accelsim does not model")
    return (batch * tensor.shape[0], *tensor.shape[1:])


def axis_size(tensor: Tensor, axis: int, batch: int) -> int | None:
    """The size of ONNX axis ``axis`` (negative from the end) of ``tensor``, the batch's
    included; None when the tensor has no such axis."""
    shape = onnx_shape(tensor, batch)
    return shape[axis] if -len(shape) <= axis < len(shape) else None


def transposed(tensor: Tensor, order) -> Tensor:
    """The tensor with its per-image axes in ``order`` (ONNX Transpose's perm): no data
    moves, only the permutation changes."""
    inverse = np.argsort(order)
    return Tensor(tensor.layer, tuple(tensor.shape[a] for a in order),
                  tuple(int(inverse[a]) for a in tensor.perm), tensor.batched)


def unbatched(tensor: Tensor) -> Tensor:
    """The same data with the batch axis as an ordinary leading axis of size 1 (per image)."""
    if not tensor.batched:
        return tensor
    return Tensor(tensor.layer, (1, *tensor.shape), (0, *(p + 1 for p in tensor.perm)),
                  batched=False)


def rebatched(tensor: Tensor) -> Tensor:
    """A merged tensor whose first axis holds one row per image back as a batched one."""
    if tensor.batched or not tensor.shape or tensor.shape[0] != 1:
        return tensor
    return Tensor(tensor.layer, tensor.shape[1:],
                  tuple(p - 1 for p in tensor.perm if p != 0), batched=True)


@dataclass(frozen=True)
class Named:
    name: str
    op_type: str


def accelsim_shape(shape: tuple[int, ...], perm: tuple[int, ...],
                   channel_axes: int) -> tuple[int, int, int]:
    """(C, H, W) of a tensor laid out in ``perm`` order with its first ``channel_axes`` axes
    as channels; of the other axes the last is the width when there are two, else all are
    positions along the height."""
    channels = math.prod(shape[a] for a in perm[:channel_axes])
    rest = [shape[a] for a in perm[channel_axes:]]
    if len(rest) == 2:
        return (channels, rest[0], rest[1])
    return (channels, math.prod(rest), 1)


def in_same_order(tensor: Tensor, perm: tuple[int, ...]) -> bool:
    return ([a for a in tensor.perm if tensor.shape[a] > 1]
            == [a for a in perm if tensor.shape[a] > 1])


def axis_layout(tensor: Tensor, axis: int, prefer: str) -> tuple[tuple, int, str]:
    """(perm, channel axes, "channels" or "height") that put ``axis`` outermost in the
    channels or alone along the height: the one the tensor already has, else ``prefer``. The
    other axes keep the order the tensor holds them in, so that a tensor that already has
    ``axis`` outermost (q, k and v of one projection, stacked) is sliced as a view, without a
    transpose (torchvision's attention transposed the whole stack once for each of q, k, v)."""
    others = tuple(a for a in tensor.perm if a != axis)
    layouts = {"channels": ((axis, *others), 1), "height": ((*others, axis), len(others))}
    other = "height" if prefer == "channels" else "channels"
    kind = other if (in_same_order(tensor, layouts[other][0])
                     and not in_same_order(tensor, layouts[prefer][0])) else prefer
    return (*layouts[kind], kind)


def channel_axes(held: tuple[int, int, int], tensor: Tensor) -> int:
    """How many leading axes of the tensor's layout make up its layer's channels."""
    product = 1
    for count, axis in enumerate(tensor.perm, start=1):
        product *= tensor.shape[axis]
        if product == held[0]:
            return count
    return 1


def grouped_layout(shape: tuple[int, ...], reduced: list[int],
                   tensor: Tensor | None = None) -> tuple[tuple, int, int]:
    """Layout for an operation over the ``reduced`` axes of each vector: (perm, channel axes,
    groups). The last other axis gives the positions; the rest become groups of channels;
    unless ``tensor`` (the input) already holds the reduced axes outermost: then they are the
    channels and every other axis a position, in the order held (ConvNeXt's LayerNorm over
    the channels of each pixel, which was transposed to groups of rows and back)."""
    others = [a for a in range(len(shape)) if a not in reduced]
    if not others:
        return tuple(reduced), len(reduced), 1
    groups_axes = others[:-1]
    perm = (*groups_axes, *reduced, others[-1])
    if tensor is not None and groups_axes:
        held = (*reduced, *(a for a in tensor.perm if a not in reduced))
        if in_same_order(tensor, held) and not in_same_order(tensor, perm):
            return held, len(reduced), 1
    return perm, len(groups_axes) + len(reduced), math.prod(shape[a] for a in groups_axes)


def per_output_values(constant: np.ndarray, x: Tensor) -> np.ndarray | None:
    """The constant (per image, broadcastable to ``x``) as one value per output channel of a
    conv (axis 0) or linear layer (last axis), or None when it varies along other axes."""
    rank = len(x.shape)
    if rank == 0:                        # one value per image: no channel axis
        return None
    c = constant.reshape((1,) * (rank - constant.ndim) + constant.shape)
    axis = x.perm[0]
    if any(size != 1 for a, size in enumerate(c.shape) if a != axis):
        return None
    return np.broadcast_to(c.reshape(-1), (x.shape[axis],)).astype(np.float64)


class Malformed(Exception):
    """A node the ONNX specification would refuse: a missing attribute or input, or shapes
    that do not fit the layer it becomes (reported naming the node)."""


def reshape_target(shape: tuple[int, ...], target: np.ndarray) -> tuple[int, ...]:
    """ONNX Reshape's output shape: 0 copies the input's size, -1 takes the rest."""
    given = [int(d) for d in target.reshape(-1)]
    if (any(d < -1 for d in given) or given.count(-1) > 1
            or any(d == 0 and i >= len(shape) for i, d in enumerate(given))):
        raise Malformed(f"Reshape of {list(shape)} to {given}: at most one -1, no other "
                        "negative size, and a 0 (copy the input's size) only where the "
                        "input has that axis")
    dims = [shape[i] if d == 0 else d for i, d in enumerate(given)]
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = math.prod(shape) // max(known, 1)
    return tuple(dims)


def reshaped_perm(shape: tuple[int, ...], perm: tuple[int, ...],
                   out: tuple[int, ...]) -> tuple[int, ...] | None:
    """A layout of the reshaped tensor that reads the same data order, or None."""
    if all(a < b for a, b in itertools.pairwise([a for a in perm if shape[a] > 1])):
        return tuple(range(len(out)))
    if len(out) > 6:
        return None
    size = math.prod(shape)
    # Candidates are screened on a sample of positions (cheap for any size), and the one
    # that passes is confirmed on every element.
    sample = np.unique(np.r_[0, size - 1, np.random.default_rng(0).integers(0, size, 64)])

    def source_of(positions, dims, order):
        """Row-major source index of each data position of a tensor of ``dims`` held
        with its axes in ``order``."""
        moved = np.unravel_index(positions, tuple(dims[a] for a in order))
        axes = [None] * len(dims)
        for held_axis, axis in enumerate(order):
            axes[axis] = moved[held_axis]
        return np.ravel_multi_index(tuple(axes), tuple(dims))

    held = source_of(sample, shape, perm)
    for candidate in itertools.permutations(range(len(out))):
        if not np.array_equal(source_of(sample, out, candidate), held):
            continue
        index = np.arange(size)
        if np.array_equal(index.reshape(out).transpose(candidate).ravel(),
                          index.reshape(shape).transpose(perm).ravel()):
            return candidate
    return None
