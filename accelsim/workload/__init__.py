"""Workloads: typed layers in a validated graph, the built-in zoo, and YAML loading."""

from accelsim.workload.graph import Workload, WorkloadBuilder
from accelsim.workload.layers import (Activation, Concat, Conv2d, Elementwise, Flatten,
                                      GlobalAvgPool, Input, Layer, Linear, Pool2d)
from accelsim.workload.load import available_workloads, load_workload, workload_from_dict
from accelsim.workload.weights import random_weights
from accelsim.workload.zoo import ZOO

__all__ = ["Activation", "Concat", "Conv2d", "Elementwise", "Flatten", "GlobalAvgPool", "Input",
           "Layer", "Linear", "Pool2d", "Workload", "WorkloadBuilder", "ZOO",
           "available_workloads", "load_workload", "random_weights", "workload_from_dict"]
