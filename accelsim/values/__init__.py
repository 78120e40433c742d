"""Value mode: real numbers through the network, as the hardware would compute them.

Weighted layers are computed by the unit that runs them (see each unit's ``product``):
crossbar layers quantize their inputs (sign-magnitude, ``input_bits``) and weights (per output
channel, ``weight_bits``), slice the weights into cells, drive the inputs ``dac_bits`` per
input cycle, convert every column sum with the ADC (resolution, range, clipping, optional
noise and offset), shift and add, add the partial sums of the row tiles, then dequantize, add
the bias and apply the activation; systolic layers compute the same quantized product exactly.
Pooling, additions and activations run in floating point (the op registry's forward passes).
Along the way the units measure what the data lets them skip: the statistics the ledger uses.
"""

from accelsim.kernels.options import ValueOptions
from accelsim.values.forward import (
    ValueRun,
    output_agreement,
    reference_forward,
    reference_outputs,
    run_values,
)

__all__ = ["ValueOptions", "ValueRun", "output_agreement", "reference_forward",
           "reference_outputs", "run_values"]
