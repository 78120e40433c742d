"""Value mode's options: quantization and the non-idealities it adds (all seeded)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.errors import AccelsimError

ADC_RANGES = ("array", "calibrated")
CALIBRATION_VECTORS = 16     # input vectors of a layer that set a calibrated ADC range


@dataclass(frozen=True)
class ValueOptions:
    """How value mode quantizes and which non-idealities it adds (all seeded).

    ADC resolution is the device's (cim.adc_bits), which also prices each conversion; to study
    it, vary the device. ideal_adc: enough levels and range for every column sum, so results
    equal the integer computation exactly (values only: energy is still the device's ADC).
    adc_range: what the ADC's range spans. "calibrated" (the default): the largest |column
    sum| the layer's own inputs produce on a calibration sample (up to CALIBRATION_VECTORS of
    each image's input vectors, evenly spaced), as a chip whose ADC reference is programmed
    per layer after a calibration run; no sum of that sample clips (a layer with one vector
    per image, fully connected, then ranges on every input: optimistic). "array": the largest
    column sum the tile could produce, every row driven at full scale with every cell at its
    peak (a reference fixed at design time; on large arrays with few ADC bits it loses most
    of a network's signal). adc_full_scale: the ADC range as a fraction of that span
    (smaller: finer steps, more clipping). per_channel: one weight scale per output channel
    (else one per layer).
    cell_variation: relative std-dev of each programmed cell value. read_noise: std-dev of
    each column sum, in units of one input step times one cell step. adc_offset: std-dev of a
    fixed offset per column, in ADC steps. zero_threshold: inputs with |x| at most this
    fraction of the layer's largest input are treated as zero.
    """

    ideal_adc: bool = False
    adc_range: str = "calibrated"
    adc_full_scale: float = 1.0
    per_channel: bool = True
    cell_variation: float = 0.0
    read_noise: float = 0.0
    adc_offset: float = 0.0
    zero_threshold: float = 0.0

    def __post_init__(self):
        for name in ("ideal_adc", "per_channel"):
            if not isinstance(getattr(self, name), bool):
                raise AccelsimError(f"value_options.{name} must be true or false, got "
                                    f"{getattr(self, name)!r}")
        if self.adc_range not in ADC_RANGES:
            raise AccelsimError(f"value_options.adc_range must be one of "
                                f"{', '.join(ADC_RANGES)}, got {self.adc_range!r}")
        numbers = {"adc_full_scale": (0, 1), "cell_variation": (0, 10), "read_noise": (0, 1e6),
                   "adc_offset": (0, 1e6), "zero_threshold": (0, 1)}
        for name, (low, high) in numbers.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or not low <= value <= high \
                    or (name == "adc_full_scale" and value == 0):
                allowed = (f"in (0, {high}]" if name == "adc_full_scale"
                           else f"from {low} to {high:g}")
                raise AccelsimError(f"value_options.{name} must be a finite number {allowed}, "
                                    f"got {value!r}")
