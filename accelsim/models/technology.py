"""Technology: how energy, area, leakage and wires move with the process node and the supply.

Rules (every component model uses these, so a sweep over node or voltage moves every price):

- **Dynamic energy is C·V².** A model gives its switched capacitance at the 45 nm reference
  node; ``Technology.dynamic`` scales it by the node's capacitance factor and multiplies by V².
  Halving V² halves every dynamic energy exactly.
- **Capacitance factor per node** comes from Stillmaker & Baas [SB17]: their fitted energy per
  operation E(V) = a·V² + b·V + c of each node, evaluated at the node's nominal supply and
  divided by V², relative to 45 nm. Between tabulated nodes the factor is interpolated in
  log(node); outside 7–180 nm it is extrapolated along the nearest segment (and says so).
- **Area factor per node** is S&B's area scaling relative to 45 nm, interpolated the same way.
  Dense cells are given in F² (F = the node) and scale as F² instead.
- **Leakage power is I·V with I independent of V** (a stated simplification: drain-induced
  barrier lowering makes real leakage fall faster than linearly with V). Per node, leakage per
  device scales with the capacitance factor (smaller devices, proportionally less current).
- **Gate delay** is [SB17]'s fitted FO4 delay D(V) = a·V³ + b·V² + c·V + d (ps) of each node.
  Between nodes it is interpolated in log(node) at the same fraction of each node's nominal
  supply. Above the nominal supply it is taken as at nominal (some fits turn upwards there;
  no speed-up is claimed). A supply outside 0.5-1.5x the node's nominal is refused (see
  ``supply_range``), and so is a clock faster than MIN_FO4_PER_CYCLE FO4 delays per period.
- **Wires**: 0.2 fF/µm for intermediate-level on-chip wires at every node (ITRS 2013
  interconnect tables give 0.18-0.2 fF/µm), random data toggling half the bits, ½·C·V² per
  toggle: E = 0.25 · C · L · V² per bit.

[SB17] A. Stillmaker, B. Baas, "Scaling equations for the accurate prediction of CMOS device
performance from 180 nm to 7 nm", Integration 58, 2017, Tables 2-4 (HP models below 65 nm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

REFERENCE_NM = 45.0
REFERENCE_V = 0.9          # Horowitz's 45 nm figures (ISSCC 2014) are at 0.9 V

# [SB17] energy fit E(V) = a·V² + b·V + c per node (180/130/90/65 nm bulk, HP below).
_ENERGY_FIT = {
    180: (0.0, 24.64, -17.98),
    130: (7.171, -6.709, 2.904),
    90: (4.762, -4.781, 2.092),
    65: (3.755, -4.398, 1.975),
    45: (1.018, -0.3107, 0.1539),
    32: (0.8367, -0.4341, 0.1701),
    20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024),
    14: (0.2363, -0.09675, 0.02239),
    10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}
# [SB17] FO4 delay fit D(V) = a·V³ + b·V² + c·V + d, ps (180/130/90/65 nm bulk, HP below), as
# transcribed with the energy fits above in the NanoCAD nodeScale tables (UCLA, MIT licence).
# At 45 nm and 1.0 V it gives 12.5 ps.
_DELAY_FIT = {
    180: (0.0, 97.09, -356.7, 406.5),
    130: (-76.65, 334.9, -493.4, 275.8),
    90: (-60.34, 262.5, -384.2, 210.9),
    65: (-53.3, 230.4, -333.9, 178.6),
    45: (-501.6, 1567.0, -1619.0, 566.1),
    32: (-1047.0, 2982.0, -2797.0, 873.5),
    20: (0.0, 34.63, -66.37, 41.15),
    16: (0.0, 24.8, -47.52, 28.87),
    14: (-40.66, 109.2, -100.6, 35.92),
    10: (-34.95, 93.65, -85.99, 30.4),
    7: (-28.58, 76.6, -70.26, 24.69),
}
# The supplies the models are used at, as fractions of the node's nominal: below half of it
# circuits approach threshold, where C·V² switching, the survey's converters and the CACTI
# fits no longer describe them (and the polynomial delay fits are outside the range they were
# fitted on); above 1.5x, beyond the strongest overdrive of the macros in validation/ (7 nm at
# 1.0 V, 1.43x), oxide reliability is not credible. Assumed bounds, not fitted to any result.
SUPPLY_RANGE = (0.5, 1.5)
# The shortest clock period any logic here is taken to reach: 8 FO4 delays. Hrishikesh et al.
# (ISCA 2002) found 6-8 FO4 of logic plus about 2 FO4 of latch overhead the optimal pipeline
# stage of a high-performance core; a MAC or an adder-and-register per cycle needs more. A
# bound that only the fastest custom pipelines approach, to refuse clocks no chip reaches.
MIN_FO4_PER_CYCLE = 8
# Nominal supply of each node: the PTM models [SB17] simulated (ptm.asu.edu; PTM-MG below 22 nm).
NOMINAL_V = {180: 1.8, 130: 1.3, 90: 1.2, 65: 1.1, 45: 1.0, 32: 0.9, 20: 0.9, 16: 0.85,
             14: 0.8, 10: 0.75, 7: 0.7}
# [SB17] area scaling, relative to 45 nm.
_AREA = {180: 19.0, 130: 6.4, 90: 2.8, 65: 1.5, 45: 1.0, 32: 0.46, 20: 0.21, 16: 0.19,
         14: 0.17, 10: 0.1, 7: 0.059}

WIRE_FF_PER_UM = 0.2       # ITRS 2013 interconnect, intermediate metal (see module docstring)
WIRE_ACTIVITY = 0.25       # half the bits toggle, 1/2 C V^2 each


def _capacitance(node: int) -> float:
    a, b, c = _ENERGY_FIT[node]
    v = NOMINAL_V[node]
    return (a * v * v + b * v + c) / (v * v)


_CAP = {node: _capacitance(node) / _capacitance(45) for node in _ENERGY_FIT}


def interpolate_log(table: dict[int, float], node_nm: float) -> tuple[float, bool]:
    """log-log interpolation of ``table`` at ``node_nm``; True when extrapolated."""
    nodes = sorted(table)
    x = math.log(node_nm)
    if node_nm in table:
        return table[int(node_nm)], False
    below = [n for n in nodes if n < node_nm]
    above = [n for n in nodes if n > node_nm]
    if below and above:
        lo, hi = below[-1], above[0]
        outside = False
    elif above:            # finer than 7 nm
        lo, hi = nodes[0], nodes[1]
        outside = True
    else:                  # coarser than 180 nm
        lo, hi = nodes[-2], nodes[-1]
        outside = True
    t = (x - math.log(lo)) / (math.log(hi) - math.log(lo))
    value = math.exp(math.log(table[lo]) + t * (math.log(table[hi]) - math.log(table[lo])))
    return value, outside


@dataclass(frozen=True)
class Technology:
    """A process node and supply voltage, with the scaling rules of this module."""

    node_nm: float
    voltage_v: float

    @property
    def capacitance_factor(self) -> float:
        """Switched capacitance of the same circuit relative to 45 nm ([SB17], see above)."""
        return interpolate_log(_CAP, self.node_nm)[0]

    @property
    def area_factor(self) -> float:
        """Area of the same logic relative to 45 nm ([SB17])."""
        return interpolate_log(_AREA, self.node_nm)[0]

    @property
    def extrapolated(self) -> bool:
        """The node lies outside [SB17]'s 7-180 nm tables."""
        return interpolate_log(_CAP, self.node_nm)[1]

    @property
    def nominal_v(self) -> float:
        """The node's nominal supply (PTM, interpolated in log(node))."""
        return interpolate_log(NOMINAL_V, self.node_nm)[0]

    @property
    def fo4_ps(self) -> float:
        """FO4 inverter delay at this node and supply, ps ([SB17]'s fits, see above)."""
        return _fo4_ps(self.node_nm, min(1.0, self.voltage_v / self.nominal_v))

    @property
    def delay_factor(self) -> float:
        """How much slower gates switch at this supply than at the node's nominal (1 at or
        above nominal)."""
        return self.fo4_ps / _fo4_ps(self.node_nm, 1.0)

    def supply_range(self) -> tuple[float, float]:
        """The supplies (V) the models apply to at this node (SUPPLY_RANGE x nominal)."""
        low, high = SUPPLY_RANGE
        return low * self.nominal_v, high * self.nominal_v

    def max_logic_hz(self) -> float:
        """The fastest clock of logic at this node and supply: one period per
        MIN_FO4_PER_CYCLE FO4 delays."""
        return 1e12 / (MIN_FO4_PER_CYCLE * self.fo4_ps)

    @property
    def feature_um(self) -> float:
        return self.node_nm * 1e-3

    def dynamic_pj(self, capacitance_ff_45nm: float, swing_fraction: float = 1.0) -> float:
        """Energy (pJ) of switching ``capacitance_ff_45nm`` (its value at 45 nm) once from the
        supply: C·V·(swing), with the capacitance scaled to this node."""
        c = capacitance_ff_45nm * self.capacitance_factor * 1e-3      # pF
        return c * self.voltage_v * self.voltage_v * swing_fraction

    def scale_pj(self, pj_45nm_0v9: float) -> float:
        """A dynamic energy given at 45 nm and 0.9 V (Horowitz), at this node and supply."""
        return pj_45nm_0v9 * self.capacitance_factor * (self.voltage_v / REFERENCE_V) ** 2

    def scale_area_um2(self, um2_45nm: float) -> float:
        """Logic area given at 45 nm, at this node."""
        return um2_45nm * self.area_factor

    def leakage_mw(self, mw_45nm_1v: float) -> float:
        """A leakage power given at 45 nm and 1.0 V, at this node and supply (I·V rule)."""
        return mw_45nm_1v * self.capacitance_factor * self.voltage_v / 1.0

    def wire_pj_per_bit(self, length_mm: float) -> float:
        """Energy (pJ) of moving one bit ``length_mm`` on an on-chip wire (random data)."""
        c_pf = WIRE_FF_PER_UM * length_mm * 1e3 * 1e-3
        return WIRE_ACTIVITY * c_pf * self.voltage_v ** 2


def _delay(node: int, fraction: float) -> float:
    a, b, c, d = _DELAY_FIT[node]
    v = fraction * NOMINAL_V[node]
    return ((a * v + b) * v + c) * v + d


@lru_cache(maxsize=1024)
def _fo4_ps(node_nm: float, fraction: float) -> float:
    """FO4 delay (ps) at ``fraction`` of the nominal supply, interpolated in log(node)
    between [SB17]'s nodes at that same fraction of each node's nominal."""
    table = {node: _delay(node, fraction) for node in _DELAY_FIT}
    return interpolate_log(table, node_nm)[0]


@lru_cache(maxsize=256)
def technology(node_nm: float, voltage_v: float) -> Technology:
    return Technology(float(node_nm), float(voltage_v))
