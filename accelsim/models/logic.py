"""Digital logic: adders, registers, multipliers and lookups by bit width, scaled in node and
voltage by accelsim.models.technology.

Energies start from Horowitz (ISSCC 2014, 45 nm, 0.9 V): a 32-bit integer add costs 0.1 pJ, so
one full-adder bit 3.1 fJ; an 8-bit multiply 0.2 pJ and a 32-bit one 3.1 pJ, close to b²
growth (an array multiplier has b² cells), so E_mul(b) = 0.2 pJ · (b/8)². A flip-flop bit
written each cycle is taken as one full-adder bit (assumed: both are about a dozen switching
transistors). Areas start from the Nangate 45 nm Open Cell Library (FreePDK45): FA_X1
4.256 µm², DFF_X1 4.522 µm², NAND2_X1 0.798 µm², BUF_X4 2.394 µm²; an array multiplier is b²
full adders; everything scales with the [SB17] area factor.

Clocking a flip-flop costs energy every cycle, whether its data changes or not. Horowitz gives
no figure for it; Nangate 45 nm's DFF_X1 (typical corner, 1.1 V) does: with D equal to Q, a
clock cycle draws 6.87 fJ inside the cell (rise 2.42-2.61 plus fall 4.24-4.47 fJ at a 4.7 ps
clock slew, the two held states averaged), and its clock pin's 0.95 fF is charged by the
clock driver (1.15 fJ at 1.1 V): 8.02 fJ at 1.1 V, that is 5.37 fJ at the 0.9 V reference
(C·V²). The clock tree's own wires and buffers are not included. ``register_pj`` is then the
data-dependent part of a write, apart from the clock.
"""

from __future__ import annotations

from accelsim.models.technology import Technology

ADD_BIT_PJ_45 = 0.1 / 32           # Horowitz: 32-bit add 0.1 pJ
MUL8_PJ_45 = 0.2                   # Horowitz: 8-bit multiply 0.2 pJ
FP32_MUL_PJ_45 = 3.7               # Horowitz
FP32_ADD_PJ_45 = 0.9               # Horowitz
REGISTER_BIT_PJ_45 = ADD_BIT_PJ_45  # assumed (see module docstring)
# Nangate 45 nm DFF_X1, one clock cycle with the data held, at 0.9 V (see module docstring)
CLOCKED_BIT_PJ_45 = (6.87e-3 + 0.95e-3 * 1.1 ** 2) * (0.9 / 1.1) ** 2

FULL_ADDER_UM2_45 = 4.256          # Nangate 45 nm FA_X1
FLIP_FLOP_UM2_45 = 4.522           # Nangate 45 nm DFF_X1
NAND2_UM2_45 = 0.798               # Nangate 45 nm NAND2_X1
BUFFER_UM2_45 = 2.394              # Nangate 45 nm BUF_X4


def add_pj(bits: int, tech: Technology) -> float:
    """One ``bits``-wide integer addition."""
    return tech.scale_pj(ADD_BIT_PJ_45 * bits)


def multiply_pj(bits: int, tech: Technology) -> float:
    """One ``bits`` x ``bits`` integer multiplication."""
    return tech.scale_pj(MUL8_PJ_45 * (bits / 8) ** 2)


def register_pj(bits: int, tech: Technology) -> float:
    """Writing a ``bits``-wide register once."""
    return tech.scale_pj(REGISTER_BIT_PJ_45 * bits)


def clock_pj(flip_flops: int, tech: Technology) -> float:
    """Clocking ``flip_flops`` flip-flops for one cycle (their data held)."""
    return tech.scale_pj(CLOCKED_BIT_PJ_45 * flip_flops)


def compare_pj(bits: int, tech: Technology) -> float:
    """A comparison is a subtraction."""
    return add_pj(bits, tech)


def adder_um2(bits: int, tech: Technology) -> float:
    return tech.scale_area_um2(FULL_ADDER_UM2_45 * bits)


def register_um2(bits: int, tech: Technology) -> float:
    return tech.scale_area_um2(FLIP_FLOP_UM2_45 * bits)


def multiplier_um2(bits: int, tech: Technology) -> float:
    return tech.scale_area_um2(FULL_ADDER_UM2_45 * bits * bits)


def gates_um2(nand2_equivalents: float, tech: Technology) -> float:
    return tech.scale_area_um2(NAND2_UM2_45 * nand2_equivalents)


def buffer_um2(tech: Technology) -> float:
    return tech.scale_area_um2(BUFFER_UM2_45)


def mac_pj(bits: int, accumulator_bits: int, tech: Technology) -> float:
    """A multiply-accumulate: a ``bits`` multiplier and an ``accumulator_bits`` adder."""
    return multiply_pj(bits, tech) + add_pj(accumulator_bits, tech)


def mac_um2(bits: int, accumulator_bits: int, tech: Technology) -> float:
    return multiplier_um2(bits, tech) + adder_um2(accumulator_bits, tech) + register_um2(
        accumulator_bits, tech)
