"""Workloads: typed layers in a validated graph, the built-in zoo, and YAML and ONNX loading."""

from accelsim.workload.graph import Workload, WorkloadBuilder
from accelsim.workload.layers import (
                                      LRN,
                                      Activation,
                                      Affine,
                                      Col2Im,
                                      Concat,
                                      Constant,
                                      Conv2d,
                                      Elementwise,
                                      Embedding,
                                      Flatten,
                                      GenericOp,
                                      GlobalAvgPool,
                                      Input,
                                      Layer,
                                      LayerNorm,
                                      Linear,
                                      MatMul,
                                      Pad2d,
                                      Pool2d,
                                      Reduce,
                                      Reshape,
                                      Slice,
                                      Softmax,
                                      Take,
                                      Upsample,
)
from accelsim.workload.load import available_workloads, load_workload, workload_from_dict
from accelsim.workload.weights import random_weights
from accelsim.workload.zoo import ZOO

__all__ = ["Activation", "Affine", "Col2Im", "Concat", "Constant", "Conv2d", "Elementwise",
           "Embedding", "Flatten", "GenericOp", "GlobalAvgPool", "Input", "Layer", "LayerNorm",
           "Linear", "LRN", "MatMul", "Pad2d", "Pool2d", "Reduce", "Reshape", "Slice", "Softmax",
           "Take", "Upsample", "Workload", "WorkloadBuilder", "ZOO", "available_workloads",
           "load_workload", "random_weights", "workload_from_dict"]
