"""A systolic array's figures: the prices, clock, leakage and area of its PEs from the component
models (models.logic for the MAC, registers and clock; models.sram for SRAM scratchpads;
models.technology for the wire to the next PE), and the prices its row-stationary mapping
search weighs.

A PE holds flip-flops: a register at each multiplier input and the accumulator (assumed for
every dataflow: operands arrive from a neighbour or a scratchpad into a register), plus the
row-stationary scratchpads named in ``register_spads``. All of them are clocked in every cycle
the array computes (``clock_pj`` per PE and cycle); the rest of ``rf_bytes`` is SRAM.
"""

from __future__ import annotations

import math

from accelsim.energy.table import PE_HOPS, Action, Operand, rf_access
from accelsim.hardware.figures import LEAKAGE_SOURCE, Figures, describe, logic_leakage_mw, tech_of
from accelsim.hardware.row_stationary import RsCosts, spads
from accelsim.models import Estimate, logic
from accelsim.models import sram as sram_model
from accelsim.spec.device import DeviceSpec

SPAD_OPERANDS = {"inputs": Operand.INPUTS, "weights": Operand.WEIGHTS, "psums": Operand.PSUMS}


def _pads(array) -> tuple[float, int]:
    """(bytes of SRAM, bits of flip-flops) of a PE's register file: all of ``rf_bytes`` as
    SRAM, or with register pads each scratchpad's entries (as many as the mapping holds in
    them) as what it is built of."""
    if not array.register_spads:
        return array.rf_bytes, 0
    sram = registers = 0
    for name, count in spads(array.rf_bytes, array.operand_bits).items():
        if name in array.register_spads:
            registers += count * array.operand_bits
        else:
            sram += count * array.operand_bits
    return sram / 8, registers


def register_bits(array) -> int:
    """Bits of a PE's scratchpads that are flip-flops (register_spads' entries)."""
    return _pads(array)[1]


def sram_bytes(array) -> float:
    """Bytes of a PE's register file that are SRAM."""
    return _pads(array)[0]


def flip_flops(array) -> int:
    """A PE's clocked bits: its two operand registers, its accumulator, its register pads."""
    return 2 * array.operand_bits + array.accumulator_bits + register_bits(array)


def clock_count(array, compute_cycles):
    """PE-cycles clocked (systolic/clock): every PE, used or not, in every compute cycle."""
    return array.rows * array.cols * compute_cycles


def _storage(array) -> str:
    sram, registers = _pads(array)
    if not registers:
        return f"a {array.rf_bytes:g} B register file"
    return (f"{sram:g} B of SRAM scratchpad and {registers // 8:g} B of registers "
            f"({', '.join(array.register_spads)})")


def pe_um2(device: DeviceSpec) -> float:
    """Area of one PE: its MAC (with the accumulator register), its operand registers, its
    register scratchpads and its SRAM scratchpads."""
    array, tech = device.systolic, tech_of(device)
    sram, registers = _pads(array)
    area = (logic.mac_um2(array.operand_bits, array.accumulator_bits, tech)
            + logic.register_um2(2 * array.operand_bits + registers, tech))
    if sram > 0:
        area += sram_model.area_mm2(sram, array.operand_bits, tech) * 1e6
    return area


def _coverage(array, node_nm: float) -> str:
    size = sram_bytes(array)
    return sram_model.coverage(size, array.operand_bits, node_nm) if size > 0 else ""


def estimates(device: DeviceSpec) -> dict[str, Estimate]:
    f = Figures(device, "systolic")
    array, tech = device.systolic, tech_of(device)
    bits, acc = array.operand_bits, array.accumulator_bits
    where = describe(device)
    f.add("mac_pj", "pJ", lambda: Estimate(
        logic.mac_pj(bits, acc, tech), "pJ", "models.logic (Horowitz, scaled)",
        f"{bits}-bit multiply, {acc}-bit add; {where}"))
    size = sram_bytes(array)
    f.add("rf_access_pj", "pJ", lambda: Estimate(
        sram_model.read_pj(size, bits, tech), "pJ", "models.sram (CACTI 7 fit)",
        f"{size:g} B SRAM register file, {bits}-bit words; {where}"
        f"{sram_model.coverage(size, bits, tech.node_nm)}") if size > 0 else Estimate(
        0.0, "pJ", "no SRAM scratchpad", "every scratchpad is registers (register_spads)"))
    f.add("register_access_pj", "pJ", lambda: Estimate(
        logic.register_pj(bits, tech), "pJ", "models.logic registers",
        f"a {bits}-bit word into flip-flops (a read through the multiplexer taken as the "
        f"same); used by register_spads: {', '.join(array.register_spads) or 'none'}; "
        f"{where}"))
    f.add("clock_pj", "pJ", lambda: Estimate(
        logic.clock_pj(flip_flops(array), tech), "pJ", "models.logic clock (Nangate DFF_X1)",
        f"{flip_flops(array)} flip-flops per PE clocked once ({bits}-bit operand registers x2, "
        f"{acc}-bit accumulator, {register_bits(array)} register-scratchpad bits), without "
        f"the clock tree's wires; {where}"))
    pitch_mm = math.sqrt(pe_um2(device)) * 1e-3
    f.add("pe_hop_pj", "pJ", lambda: Estimate(
        bits * (tech.wire_pj_per_bit(pitch_mm) + logic.register_pj(1, tech)), "pJ",
        "models.technology wires and models.logic registers",
        f"{bits} bits over one PE pitch ({pitch_mm * 1e3:.3g} µm) into a register; {where}"))
    f.add("leakage_mw", "mW", lambda: Estimate(
        logic_leakage_mw(array.rows * array.cols * pe_um2(device), device), "mW",
        LEAKAGE_SOURCE, where))
    return f.out


def area(device: DeviceSpec) -> dict[str, Estimate]:
    array = device.systolic
    return {"systolic": Estimate(
        array.rows * array.cols * pe_um2(device) * 1e-6, "mm²",
        "models.logic and models.sram",
        f"{array.rows} x {array.cols} PEs: {array.operand_bits}-bit MAC, operand registers "
        f"and {_storage(array)} each; {describe(device)}"
        f"{_coverage(array, tech_of(device).node_nm)}")}


def rf_prices(array) -> dict[Operand, float]:
    """The price of one register-file access of each operand."""
    registers = {SPAD_OPERANDS[name] for name in array.register_spads}
    return {operand: array.register_access_pj if operand in registers else array.rf_access_pj
            for operand in Operand}


def prices(device: DeviceSpec) -> dict[int, float]:
    array = device.systolic
    return {Action.PE_MAC: array.mac_pj, Action.PE_INDEX: array.index_pj,
            Action.PE_CLOCK: array.clock_pj,
            **{rf_access(operand): pj for operand, pj in rf_prices(array).items()},
            **dict.fromkeys(PE_HOPS, array.pe_hop_pj)}


def rs_costs(device: DeviceSpec) -> RsCosts:
    """The prices the row-stationary mapping search weighs (resolved device)."""
    array, buffer = device.systolic, device.global_buffer
    rf = rf_prices(array)
    return RsCosts(array.mac_pj, (rf[Operand.INPUTS], rf[Operand.WEIGHTS], rf[Operand.PSUMS]),
                   array.pe_hop_pj, (buffer.read_pj + buffer.write_pj) / 2,
                   device.dram.read_pj_per_bit, array.operand_bits, array.accumulator_bits,
                   buffer.word_bits, device.interconnect.width_bits,
                   device.dram_bytes_per_cycle * 8, clock_count(array, 1) * array.clock_pj)
