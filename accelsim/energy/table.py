"""The energy ledger's vocabulary: countable actions, their price in pJ, and leakage power.

Components only count actions; energy is counts x price, computed after the run, so the same
counts can be re-priced for another energy table without simulating again.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from accelsim.spec.device import DeviceSpec


class Operand(IntEnum):
    """What a memory access moves: layer inputs, weights, outputs, or partial sums."""

    INPUTS = 0
    WEIGHTS = 1
    OUTPUTS = 2
    PSUMS = 3


class Action(IntEnum):
    """Countable actions. Counts of the *_BIT actions are in bits, the others in events.

    Global-buffer and DRAM accesses are counted per operand (one action each), all priced
    alike: the breakdown sums them, and results also report them per operand.
    """

    DAC_CONVERT = 0       # one row driven for one input cycle
    ARRAY_READ = 1        # one physical row of a tile read for one input cycle
    ADC_CONVERT = 2       # one column converted
    SHIFT_ADD = 3         # one converted value shifted and added
    ACCUMULATE = 4        # one partial-sum addition across row tiles
    CELL_WRITE = 5        # one crossbar cell programmed
    BUS_BIT = 6           # one bit moved over the interconnect
    DIGITAL_ADD = 7
    DIGITAL_MUL = 8
    DIGITAL_COMPARE = 9
    PE_MAC = 10           # one multiply-accumulate in a systolic array PE
    RF_ACCESS = 11        # one PE register-file read or write
    PE_HOP = 12           # one operand passed to a neighbouring PE
    PE_INDEX = 13         # one index read to skip zero operands
    DRAM_ACTIVATE = 14    # one DRAM row opened (activate + precharge), row-buffer model only
    TILE_BUFFER_READ = 15   # one tile-buffer word read
    TILE_BUFFER_WRITE = 16  # one tile-buffer word written
    # one global-buffer word read / written, by operand
    BUFFER_READ_INPUTS = 17
    BUFFER_READ_WEIGHTS = 18
    BUFFER_READ_OUTPUTS = 19
    BUFFER_READ_PSUMS = 20
    BUFFER_WRITE_INPUTS = 21
    BUFFER_WRITE_WEIGHTS = 22
    BUFFER_WRITE_OUTPUTS = 23
    BUFFER_WRITE_PSUMS = 24
    # one bit read from / written to DRAM (whole bursts), by operand
    DRAM_READ_BIT_INPUTS = 25
    DRAM_READ_BIT_WEIGHTS = 26
    DRAM_READ_BIT_OUTPUTS = 27
    DRAM_READ_BIT_PSUMS = 28
    DRAM_WRITE_BIT_INPUTS = 29
    DRAM_WRITE_BIT_WEIGHTS = 30
    DRAM_WRITE_BIT_OUTPUTS = 31
    DRAM_WRITE_BIT_PSUMS = 32


def buffer_read(operand: Operand) -> Action:
    return Action(Action.BUFFER_READ_INPUTS + operand)


def buffer_write(operand: Operand) -> Action:
    return Action(Action.BUFFER_WRITE_INPUTS + operand)


def dram_read(operand: Operand) -> Action:
    return Action(Action.DRAM_READ_BIT_INPUTS + operand)


def dram_write(operand: Operand) -> Action:
    return Action(Action.DRAM_WRITE_BIT_INPUTS + operand)


# The per-operand actions of each kind of memory access (index arrays into a count vector).
BUFFER_READS = [buffer_read(o) for o in Operand]
BUFFER_WRITES = [buffer_write(o) for o in Operand]
DRAM_READS = [dram_read(o) for o in Operand]
DRAM_WRITES = [dram_write(o) for o in Operand]
# name -> (actions by operand, unit, scale to that unit): what results report per operand.
TRAFFIC = {"buffer_read": (BUFFER_READS, "words", 1.0),
           "buffer_write": (BUFFER_WRITES, "words", 1.0),
           "dram_read": (DRAM_READS, "bytes", 1 / 8),
           "dram_write": (DRAM_WRITES, "bytes", 1 / 8)}


N_ACTIONS = len(Action)

# (component, action) label of each Action, as shown in breakdowns.
ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.DAC_CONVERT: ("dac", "convert"),
    Action.ARRAY_READ: ("array", "read"),
    Action.ADC_CONVERT: ("adc", "convert"),
    Action.SHIFT_ADD: ("shift_add", "add"),
    Action.ACCUMULATE: ("accumulator", "add"),
    Action.CELL_WRITE: ("array", "write"),
    Action.BUS_BIT: ("interconnect", "transfer"),
    Action.DIGITAL_ADD: ("digital", "add"),
    Action.DIGITAL_MUL: ("digital", "mul"),
    Action.DIGITAL_COMPARE: ("digital", "compare"),
    Action.PE_MAC: ("systolic", "mac"),
    Action.RF_ACCESS: ("systolic", "register_file"),
    Action.PE_HOP: ("systolic", "pe_to_pe"),
    Action.PE_INDEX: ("systolic", "index"),
    Action.DRAM_ACTIVATE: ("dram", "activate"),
    Action.TILE_BUFFER_READ: ("tile_buffer", "read"),
    Action.TILE_BUFFER_WRITE: ("tile_buffer", "write"),
    **{action: ("global_buffer", "read") for action in BUFFER_READS},
    **{action: ("global_buffer", "write") for action in BUFFER_WRITES},
    **{action: ("dram", "read") for action in DRAM_READS},
    **{action: ("dram", "write") for action in DRAM_WRITES},
}


def energy_per_action(device: DeviceSpec) -> np.ndarray:
    """pJ per counted action, indexed by Action (0 for a unit the device does not have)."""
    buf, dram, dig = device.global_buffer, device.dram, device.digital
    price = np.zeros(N_ACTIONS)
    if device.cim is not None:
        cim = device.cim
        price[Action.DAC_CONVERT] = cim.dac_pj
        price[Action.ARRAY_READ] = cim.row_read_pj
        price[Action.ADC_CONVERT] = cim.adc_pj
        price[Action.SHIFT_ADD] = cim.shift_add_pj
        price[Action.ACCUMULATE] = cim.accumulate_pj
        price[Action.CELL_WRITE] = cim.cell_write_pj
    if device.systolic is not None:
        price[Action.PE_MAC] = device.systolic.mac_pj
        price[Action.RF_ACCESS] = device.systolic.rf_access_pj
        price[Action.PE_HOP] = device.systolic.pe_hop_pj
        price[Action.PE_INDEX] = device.systolic.index_pj
    price[BUFFER_READS] = buf.read_pj
    price[BUFFER_WRITES] = buf.write_pj
    price[Action.BUS_BIT] = device.interconnect.pj_per_bit
    price[DRAM_READS] = dram.read_pj_per_bit
    price[DRAM_WRITES] = dram.write_pj_per_bit
    price[Action.DRAM_ACTIVATE] = dram.activate_pj
    if device.tile_buffer is not None:
        price[Action.TILE_BUFFER_READ] = device.tile_buffer.read_pj
        price[Action.TILE_BUFFER_WRITE] = device.tile_buffer.write_pj
    price[Action.DIGITAL_ADD] = dig.add_pj
    price[Action.DIGITAL_MUL] = dig.mul_pj
    price[Action.DIGITAL_COMPARE] = dig.compare_pj
    return price


def leakage_power_mw(device: DeviceSpec) -> dict[str, float]:
    """Static power of each component, mW. All tiles leak for the whole run (no power gating)."""
    power = {"global_buffer": device.global_buffer.leakage_mw,
             "digital": device.digital.leakage_mw}
    if device.cim is not None:
        power["array"] = device.cim.tiles * device.cim.tile_leakage_mw
    if device.tile_buffer is not None:
        power["tile_buffer"] = device.tile_buffers * device.tile_buffer.leakage_mw
    if device.systolic is not None:
        power["systolic"] = device.systolic.leakage_mw
    return power


def leakage_pj(power_mw: float, cycles: int, clock_hz: float) -> float:
    """Energy in pJ of ``power_mw`` over ``cycles`` clock cycles."""
    return power_mw * 1e-3 * (cycles / clock_hz) * 1e12
