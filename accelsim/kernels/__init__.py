"""Numerical kernels for value mode: quantization, bit slicing, the crossbar MVM with ADC."""

from accelsim.kernels.crossbar import crossbar_layer, crossbar_mvm
from accelsim.kernels.quantize import input_chunks, quantize, slice_weights

__all__ = ["crossbar_layer", "crossbar_mvm", "input_chunks", "quantize", "slice_weights"]
