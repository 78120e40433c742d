"""Numerical kernels for value mode: quantization, bit slicing, the crossbar MVM with ADC.

The crossbar kernels are numba functions: they are imported on first use (PEP 562), so that
importing the options or the quantizers does not start numba.
"""

from accelsim.kernels.quantize import input_chunks, quantize, slice_weights

__all__ = ["crossbar_layer", "crossbar_mvm", "input_chunks", "quantize", "slice_weights"]


def __getattr__(name: str):
    if name in ("crossbar_layer", "crossbar_mvm"):
        from accelsim.kernels import crossbar
        return getattr(crossbar, name)
    raise AttributeError(f"module 'accelsim.kernels' has no attribute {name!r}")
