"""The energy ledger's vocabulary: countable actions, their price in pJ, and leakage power.

Components only count actions; energy is counts x price, computed after the run, so the same
counts can be re-priced for another energy table without simulating again.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from accelsim.spec.device import DeviceSpec


class Action(IntEnum):
    """Countable actions. Counts of the *_BIT actions are in bits, the others in events."""

    DAC_CONVERT = 0       # one row driven for one input cycle
    ARRAY_READ = 1        # one physical row of a tile read for one input cycle
    ADC_CONVERT = 2       # one column converted
    SHIFT_ADD = 3         # one converted value shifted and added
    ACCUMULATE = 4        # one partial-sum addition across row tiles
    CELL_WRITE = 5        # one crossbar cell programmed
    BUFFER_READ = 6       # one global-buffer word read
    BUFFER_WRITE = 7      # one global-buffer word written
    BUS_BIT = 8           # one bit moved over the interconnect
    DRAM_READ_BIT = 9     # one bit read from DRAM (whole bursts)
    DRAM_WRITE_BIT = 10   # one bit written to DRAM (whole bursts)
    DIGITAL_ADD = 11
    DIGITAL_MUL = 12
    DIGITAL_COMPARE = 13
    PE_MAC = 14           # one multiply-accumulate in a systolic array PE
    RF_ACCESS = 15        # one PE register-file read or write
    PE_HOP = 16           # one operand passed to a neighbouring PE
    PE_INDEX = 17         # one index read to skip zero operands
    DRAM_ACTIVATE = 18    # one DRAM row opened (activate + precharge), row-buffer model only
    TILE_BUFFER_READ = 19   # one tile-buffer word read
    TILE_BUFFER_WRITE = 20  # one tile-buffer word written


N_ACTIONS = len(Action)

# (component, action) label of each Action, as shown in breakdowns.
ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.DAC_CONVERT: ("dac", "convert"),
    Action.ARRAY_READ: ("array", "read"),
    Action.ADC_CONVERT: ("adc", "convert"),
    Action.SHIFT_ADD: ("shift_add", "add"),
    Action.ACCUMULATE: ("accumulator", "add"),
    Action.CELL_WRITE: ("array", "write"),
    Action.BUFFER_READ: ("global_buffer", "read"),
    Action.BUFFER_WRITE: ("global_buffer", "write"),
    Action.BUS_BIT: ("interconnect", "transfer"),
    Action.DRAM_READ_BIT: ("dram", "read"),
    Action.DRAM_WRITE_BIT: ("dram", "write"),
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
    price[Action.BUFFER_READ] = buf.read_pj
    price[Action.BUFFER_WRITE] = buf.write_pj
    price[Action.BUS_BIT] = device.interconnect.pj_per_bit
    price[Action.DRAM_READ_BIT] = dram.read_pj_per_bit
    price[Action.DRAM_WRITE_BIT] = dram.write_pj_per_bit
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
