"""The energy ledger's vocabulary: countable actions, their price in pJ, and leakage power.

Components only count actions; energy is counts x price, computed after the run, so the same
counts can be re-priced for another energy table without simulating again.
"""

from __future__ import annotations

from enum import IntEnum


class Operand(IntEnum):
    """What a memory access moves: layer inputs, weights, outputs, or partial sums."""

    INPUTS = 0
    WEIGHTS = 1
    OUTPUTS = 2
    PSUMS = 3


class Action(IntEnum):
    """Countable actions. Counts of the *_BIT actions are in bits, the others in events.

    PE register-file accesses, operand moves into PEs, global-buffer and DRAM accesses are
    counted per operand (one action each), all priced alike: the breakdown sums them, and
    results also report them per operand.
    """

    DAC_CONVERT = 0       # one row driven for one input cycle
    ARRAY_READ = 1        # one cell read: a cell of a driven row in a read column
    ADC_CONVERT = 2       # one column converted
    SHIFT_ADD = 3         # one converted value shifted and added
    ACCUMULATE = 4        # one partial-sum addition across row tiles
    CELL_WRITE = 5        # one crossbar cell programmed
    BUS_BIT = 6           # one bit moved over the interconnect
    DIGITAL_ADD = 7
    DIGITAL_MUL = 8
    DIGITAL_COMPARE = 9
    PE_MAC = 10           # one multiply-accumulate in a systolic array PE
    # one PE register-file read or write, and one operand moved into a PE (from a neighbour or
    # over the array's network), by operand: the inputs' here, the others' after COLUMN_READ
    RF_ACCESS_INPUTS = 11
    PE_HOP_INPUTS = 12
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
    CELL_SIGNAL = 33      # one full-scale cell level read (counts are sums of level fractions)
    COLUMN_READ = 34      # one column line precharged and read for conversion
    RF_ACCESS_WEIGHTS = 35
    RF_ACCESS_OUTPUTS = 36
    RF_ACCESS_PSUMS = 37
    PE_HOP_WEIGHTS = 38
    PE_HOP_OUTPUTS = 39
    PE_HOP_PSUMS = 40
    PE_CLOCK = 41         # one PE's flip-flops clocked for one cycle of the array's compute
    TILE_CLOCK = 42       # one shift-and-add register clocked as it takes a converted value


def buffer_read(operand: Operand) -> Action:
    return Action(Action.BUFFER_READ_INPUTS + operand)


def buffer_write(operand: Operand) -> Action:
    return Action(Action.BUFFER_WRITE_INPUTS + operand)


def dram_read(operand: Operand) -> Action:
    return Action(Action.DRAM_READ_BIT_INPUTS + operand)


def dram_write(operand: Operand) -> Action:
    return Action(Action.DRAM_WRITE_BIT_INPUTS + operand)


RF_ACCESSES = [Action.RF_ACCESS_INPUTS, Action.RF_ACCESS_WEIGHTS, Action.RF_ACCESS_OUTPUTS,
               Action.RF_ACCESS_PSUMS]
PE_HOPS = [Action.PE_HOP_INPUTS, Action.PE_HOP_WEIGHTS, Action.PE_HOP_OUTPUTS,
           Action.PE_HOP_PSUMS]


def rf_access(operand: Operand) -> Action:
    return RF_ACCESSES[operand]


def pe_hop(operand: Operand) -> Action:
    return PE_HOPS[operand]


# The per-operand actions of each kind of memory access (index arrays into a count vector).
BUFFER_READS = [buffer_read(o) for o in Operand]
BUFFER_WRITES = [buffer_write(o) for o in Operand]
DRAM_READS = [dram_read(o) for o in Operand]
DRAM_WRITES = [dram_write(o) for o in Operand]
# name -> (actions by operand, unit, scale to that unit): what results report per operand.
TRAFFIC = {"register_file": (RF_ACCESSES, "accesses", 1.0),
           "pe_hop": (PE_HOPS, "moves", 1.0),
           "buffer_read": (BUFFER_READS, "words", 1.0),
           "buffer_write": (BUFFER_WRITES, "words", 1.0),
           "dram_read": (DRAM_READS, "bytes", 1 / 8),
           "dram_write": (DRAM_WRITES, "bytes", 1 / 8)}


N_ACTIONS = len(Action)      # the built-in actions; units may register more (action_count)

# (component, action) label of each Action, as shown in breakdowns.
ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.DAC_CONVERT: ("dac", "convert"),
    Action.ARRAY_READ: ("array", "read"),
    Action.CELL_SIGNAL: ("array", "signal"),
    Action.COLUMN_READ: ("array", "column"),
    Action.ADC_CONVERT: ("adc", "convert"),
    Action.SHIFT_ADD: ("shift_add", "add"),
    Action.ACCUMULATE: ("accumulator", "add"),
    Action.TILE_CLOCK: ("shift_add", "clock"),
    Action.CELL_WRITE: ("array", "write"),
    Action.BUS_BIT: ("interconnect", "transfer"),
    Action.DIGITAL_ADD: ("digital", "add"),
    Action.DIGITAL_MUL: ("digital", "mul"),
    Action.DIGITAL_COMPARE: ("digital", "compare"),
    Action.PE_MAC: ("systolic", "mac"),
    **{action: ("systolic", "register_file") for action in RF_ACCESSES},
    **{action: ("systolic", "pe_to_pe") for action in PE_HOPS},
    Action.PE_INDEX: ("systolic", "index"),
    Action.PE_CLOCK: ("systolic", "clock"),
    Action.DRAM_ACTIVATE: ("dram", "activate"),
    Action.TILE_BUFFER_READ: ("tile_buffer", "read"),
    Action.TILE_BUFFER_WRITE: ("tile_buffer", "write"),
    **{action: ("global_buffer", "read") for action in BUFFER_READS},
    **{action: ("global_buffer", "write") for action in BUFFER_WRITES},
    **{action: ("dram", "read") for action in DRAM_READS},
    **{action: ("dram", "write") for action in DRAM_WRITES},
}


# Actions that units register beyond the built-in ones: (component, action) labels, indexed
# from len(Action) on. Registering the same label twice returns the same index.
_REGISTERED: list[tuple[str, str]] = []


def register_action(component: str, action: str) -> int:
    """The index of the action labelled (component, action), registering it if it is new.
    Units that count something the built-in actions do not name call this once, at import."""
    label = (component, action)
    for existing, known in ACTION_LABELS.items():
        if known == label and existing < N_ACTIONS:
            return int(existing)
    if label not in _REGISTERED:
        _REGISTERED.append(label)
    return N_ACTIONS + _REGISTERED.index(label)


def action_count() -> int:
    """How many actions there are: the built-in ones and those units registered."""
    return N_ACTIONS + len(_REGISTERED)


def action_label(index: int) -> tuple[str, str]:
    """The (component, action) label of action ``index``."""
    return ACTION_LABELS[Action(index)] if index < N_ACTIONS else _REGISTERED[index - N_ACTIONS]


def action_name(index: int) -> str:
    """A name for action ``index``: the Action's name, or component_action."""
    if index < N_ACTIONS:
        return Action(index).name.lower()
    component, action = _REGISTERED[index - N_ACTIONS]
    return f"{component}_{action}"


def leakage_pj(power_mw: float, cycles: int, clock_hz: float) -> float:
    """Energy in pJ of ``power_mw`` over ``cycles`` clock cycles."""
    return power_mw * 1e-3 * (cycles / clock_hz) * 1e12
