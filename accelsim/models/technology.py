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


@lru_cache(maxsize=256)
def technology(node_nm: float, voltage_v: float) -> Technology:
    return Technology(float(node_nm), float(voltage_v))
