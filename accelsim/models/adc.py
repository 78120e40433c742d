"""ADCs: energy per conversion, area and the fastest sample rate, fitted to B. Murmann's ADC
Performance Survey 1997-2025 (github.com/bmurmann/ADC-survey; the Nyquist converters of
ISSCC and the VLSI Symposium).

Energy per conversion at resolution B (taken as the effective number of bits), sample rate
fs and node:

    E = W · 2^B · (node / 65 nm) · (1 + fs / (F · 65 nm / node)) · (V / V_nom)²  +  T · 4^B

The first term is the Walden figure of merit (energy per conversion step, dominant at low
resolution): switched capacitance shrinks with the node, and above a corner rate that rises as
the node shrinks, speed costs energy. The second is the thermal-noise limit (Schreier): each
extra bit needs 4x the sampling capacitance, so 4x the energy, whatever the node or supply.
The Walden term is dynamic (C·V², relative to the node's nominal supply); the thermal term
does not move with V (a lower swing needs a proportionally larger capacitor for the same
noise).

Area (mm²) and the fastest single-channel rate are log-linear in B, log(node) and (area only)
log(fs). Every coefficient comes from ``python tools/fit_adc.py``: quantile regressions on
four fifths of the survey, the model at the 10th percentile (an efficient published design),
the rate limit at the 90th of single-channel converters. The held-out fifth and the
per-resolution frontier are reported by that script and in docs/validation.md;
tests/test_models.py re-runs the fit and checks these numbers.
"""

from __future__ import annotations

import math

from accelsim.models import outside_data
from accelsim.models.technology import Technology

# Fitted by tools/fit_adc.py on tools/data/adc_survey.csv (log10 of W pJ/step at 65 nm,
# F Hz, T pJ).
LOG10_W = -2.62943
LOG10_F = 7.97549
LOG10_T = -6.92446
# log10(area mm2) = a + b*B + c*log10(node/65) + d*log10(fs/1e8)
AREA = (-2.67371, 0.13132, 1.79531, 0.20667)
# log10(fastest single-channel rate, Hz) = a + b*B + c*log10(node/65)
RATE = (10.64193, -0.19862, -0.89999)


# What the fitted (not held-out) survey designs span, as tools/fit_adc.py prints it: effective
# bits, Nyquist rate (Hz) and node (nm).
BITS_RANGE = (3.5, 17.2)
RATE_RANGE = (1e3, 2e11)
NODE_RANGE = (3.0, 1500.0)


def coverage(bits: float, rate_hz: float, tech: Technology) -> str:
    """"" when a converter of these bits, rate and node lies within the survey's designs,
    else a note saying what is extrapolated (for the figures' provenance)."""
    return outside_data("the survey", [
        (bits, BITS_RANGE,
         f"{bits:g} bits (designs: {BITS_RANGE[0]:g}-{BITS_RANGE[1]:g} effective bits)"),
        (rate_hz, RATE_RANGE,
         f"{rate_hz:.3g} S/s (designs: {RATE_RANGE[0]:.0e}-{RATE_RANGE[1]:.0e})"),
        (tech.node_nm, NODE_RANGE,
         f"{tech.node_nm:g} nm (designs: {NODE_RANGE[0]:g}-{NODE_RANGE[1]:g} nm)")])


def walden_pj(bits: float, rate_hz: float, tech: Technology) -> float:
    """The Walden (conversion-step) part of the energy per conversion, pJ."""
    node = tech.node_nm
    corner = 10 ** LOG10_F * 65.0 / node
    return (10 ** LOG10_W * 2.0 ** bits * (node / 65.0) * (1.0 + rate_hz / corner)
            * (tech.voltage_v / tech.nominal_v) ** 2)


def thermal_pj(bits: float) -> float:
    """The thermal-noise part of the energy per conversion, pJ."""
    return 10 ** LOG10_T * 4.0 ** bits


def energy_pj(bits: float, rate_hz: float, tech: Technology) -> float:
    """Energy of one conversion, pJ."""
    return walden_pj(bits, rate_hz, tech) + thermal_pj(bits)


def area_mm2(bits: float, rate_hz: float, tech: Technology) -> float:
    """Area of one converter, mm²."""
    a, b, c, d = AREA
    return 10 ** (a + b * bits + c * math.log10(tech.node_nm / 65.0)
                  + d * math.log10(max(rate_hz, 1.0) / 1e8))


def max_rate_hz(bits: float, tech: Technology) -> float:
    """The fastest sample rate of a single (not time-interleaved) converter of ``bits`` at
    this node that the survey shows, slowed as the node's gates are below its nominal supply
    (Technology.delay_factor: the survey's designs run near nominal)."""
    a, b, c = RATE
    return 10 ** (a + b * bits + c * math.log10(tech.node_nm / 65.0)) / tech.delay_factor
