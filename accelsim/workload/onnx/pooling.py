"""ONNX pooling (MaxPool, AveragePool with any padding, GlobalAveragePool, GlobalMaxPool,
ReduceMean and ReduceMax over an image's height and width), as a mixin of the importer's
node handlers (see onnx.ops)."""

from __future__ import annotations

import numpy as np

from accelsim.workload.layers import Affine, GlobalAvgPool, Pad2d, Pool2d


class PoolingOps:
    """The importer provides error(), act(), attrs(), axis(), add(), put(), image(), pads(),
    per_image(), reduction() and the tensor tables they use."""

    def op_GlobalAveragePool(self, node) -> None:
        x = self.act(node)
        name = self.add(GlobalAvgPool(self.label(node), (self.image(node, x),)))
        self.put(node.output[0], name, self.shape_of[name], (0, 1, 2))

    def op_GlobalMaxPool(self, node) -> None:
        """The maximum over an image's height and width: one max pool window over all of it."""
        x = self.act(node)
        name = self.add(self.whole_image_max(node, self.image(node, x)))
        self.put(node.output[0], name, self.shape_of[name], (0, 1, 2))

    def whole_image_max(self, node, source: str) -> Pool2d:
        _, h, w = self.shape_of[source]
        return Pool2d(self.label(node), (source,), function="max", kernel=(h, w), stride=(h, w))

    def op_ReduceMean(self, node) -> None:
        """The mean over an image's height and width (PyTorch's adaptive pool to 1x1)."""
        self.spatial_reduction(node, "mean")

    def op_ReduceMax(self, node) -> None:
        """The maximum over an image's height and width (PyTorch's adaptive max pool to 1x1);
        over other axes, a reduction of each vector (StructuralOps.reduction)."""
        self.spatial_reduction(node, "max")

    def spatial_reduction(self, node, function: str) -> None:
        x = self.act(node)
        attrs = self.attrs(node)
        axes = self.setting(node, 1)
        axes = list(axes.reshape(-1)) if axes is not None else list(attrs.get("axes", []))
        x = self.batch_as_axis(axes, x)
        rank = len(x.shape)
        per_image = sorted(self.axis(node, int(a), x) for a in axes)
        if rank != 3 or per_image != [1, 2]:
            return self.reduction(node, function)
        source = self.image(node, x)
        name = self.add(GlobalAvgPool(self.label(node), (source,)) if function == "mean"
                        else self.whole_image_max(node, source))
        keep = attrs.get("keepdims", 1)
        self.put(node.output[0], name,
                 self.shape_of[name] if keep else (self.shape_of[name][0],),
                 (0, 1, 2) if keep else (0,))
        return None

    def op_MaxPool(self, node) -> None:
        self.pool(node, "max")

    def op_AveragePool(self, node) -> None:
        self.pool(node, "avg")

    def pool(self, node, function: str) -> None:
        x = self.act(node)
        attrs = self.attrs(node)
        if len(node.output) > 1 and node.output[1]:
            raise self.error(node, "MaxPool indices are not supported")
        if any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise self.error(node, "dilated pooling is not supported")
        if len(self.required(node, "kernel_shape")) == 1 and len(x.shape) == 2:
            # a 1-D pool (C, L): the length as the height, as a 1-D conv's (as_column)
            x, _, attrs = self.as_column(x, np.zeros((1, 1, 1)), attrs)
        kernel = tuple(int(k) for k in attrs["kernel_shape"])
        stride = tuple(int(s) for s in attrs.get("strides", (1, 1)))
        ceil, counted = bool(attrs.get("ceil_mode", 0)), bool(attrs.get("count_include_pad", 0))
        source = self.image(node, x)
        top, left, bottom, right = self.pads(node, attrs, kernel)
        padding = (min(top, bottom), min(left, right))
        if (top, left) != (bottom, right):
            uneven = (top - padding[0], left - padding[1], bottom - padding[0],
                      right - padding[1])
            if function == "max" or counted:
                # the uneven part as rows and columns a window counts like its padding:
                # the lowest value for a maximum, zeros for a mean that counts padding
                source = self.add(Pad2d(self.unique(f"{self.label(node)}.pad"), (source,),
                                        pads=uneven,
                                        fill="lowest" if function == "max" else "zero"))
            elif (uneven[0], uneven[1]) == (0, 0) and not ceil and self.ceil_reproduces(
                    node, source, kernel, stride, padding):
                ceil = True      # padding only at the end, not counted: ceil mode's windows
            else:
                return self.mean_over_real_values(node, source, kernel, stride,
                                                  (top, left, bottom, right))
        name = self.add(Pool2d(self.label(node), (source,), function=function,
                               kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil,
                               count_include_pad=counted))
        self.pooled(node, name)

    def pooled(self, node, name: str) -> None:
        """The node's output: the pool's image, or its (C, L) column for a 1-D pool."""
        if len(self.per_image(node.output[0], node)) == 2:
            self.put(node.output[0], name, self.shape_of[name][:2], (0, 1))
        else:
            self.put(node.output[0], name, self.shape_of[name], (0, 1, 2))

    def ceil_reproduces(self, node, source: str, kernel, stride, padding) -> bool:
        """Whether ceil mode's windows give the output ONNX's explicit end padding does."""
        try:
            shape = Pool2d("probe", (source,), function="avg", kernel=kernel, stride=stride,
                           padding=padding, ceil_mode=True).output_shape(
                               [self.shape_of[source]])
        except ValueError:
            return False
        want = tuple(self.per_image(node.output[0], node))
        return tuple(shape) in (want, (*want, 1))

    def mean_over_real_values(self, node, source: str, kernel, stride, pads) -> None:
        """An average pool whose uneven padding is not counted: zeros padded, the window
        summed over its whole area (a pool that counts padding), then each output scaled by
        area / the real values its window holds (a per-element affine)."""
        top, left, bottom, right = pads
        c, h, w = self.shape_of[source]
        padded = self.add(Pad2d(self.unique(f"{self.label(node)}.pad"), (source,),
                                pads=(top, left, bottom, right)))
        pooled = self.add(Pool2d(self.unique(f"{self.label(node)}.pool"), (padded,),
                                 function="avg", kernel=kernel, stride=stride,
                                 count_include_pad=True))
        _, ho, wo = self.shape_of[pooled]
        inside = np.pad(np.ones((h, w)), ((top, bottom), (left, right)))
        real = np.lib.stride_tricks.sliding_window_view(inside, kernel)[
            ::stride[0], ::stride[1]][:ho, :wo].sum(axis=(2, 3))
        name = self.add(Affine(self.label(node), (pooled,), scale="full"))
        area = kernel[0] * kernel[1]
        self.weights[name] = np.broadcast_to(area / real, (c, ho, wo)).copy()
        self.pooled(node, name)
